"""What the command works with: stdin, stdout, stderr and the variables, as one object passed down.

``Environment.of_process()`` is the real process's; tests build one over in-memory streams, so that
the command runs in-process (signals and process exit are still tested in a real process). The
checks on the ``OLRENDER_*`` variables live here too: unknown ones are warnings, ``OLRENDER_API_KEY``
is refused, and a message about a setting that came from a variable names that variable.
"""

from __future__ import annotations

import os
import sys

from postrenderer.cli.options import MISTAKEN_KEY_VARIABLE, OPTIONS, unknown_variables
from postrenderer.errors import ConfigError, printable
from postrenderer.read.variables import KEY_VAR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO, Any

    from postrenderer.cli.reporter import Reporter


class Environment:
    """stdin and stdout as bytes, stderr as text, the variables; ``process`` marks the real process's own."""

    def __init__(self, stdin: IO[bytes] | None, stdout: IO[bytes] | None, stderr: IO[str] | None,
                 environ: Mapping[str, str], process: bool = False) -> None:
        """An environment of these streams and variables (a closed stream is None)."""
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.environ = environ
        self.process = process  # signal handlers are installed, and stdout can be pointed at /dev/null

    @classmethod
    def of_process(cls) -> Environment:
        """The process's own streams and os.environ."""
        return cls(sys.stdin.buffer if sys.stdin is not None else None,
                   sys.stdout.buffer if sys.stdout is not None else None, sys.stderr, os.environ, process=True)

    def quiet_stdout(self) -> None:
        """Point the process's stdout at /dev/null so the interpreter's final flush cannot fail."""
        if self.process and self.stdout is not None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())


def warn_unknown_variables(reporter: Reporter, environ: Mapping[str, str]) -> None:
    """Warn about every OLRENDER_* variable that is no setting, naming the closest one."""
    for name, closest in unknown_variables(environ):
        hint = f" (did you mean {closest}?)" if closest else ""
        reporter.warn(f"{printable(name)} is not an olrender setting{hint}; it is ignored (see olrender --help)")


def check_environment(reporter: Reporter, environ: Mapping[str, str]) -> None:
    """Warn about OLRENDER_* variables that are no setting; refuse OLRENDER_API_KEY, which is never read."""
    warn_unknown_variables(reporter, environ)
    if environ.get(MISTAKEN_KEY_VARIABLE) is not None:
        reporter.add_secret(environ[MISTAKEN_KEY_VARIABLE])
        raise ConfigError(
            f"{MISTAKEN_KEY_VARIABLE} is set, but olrender reads the key only from {KEY_VAR} (the variable "
            "the OpenLineage client reads too) or --api-key-file FILE: rename the variable"
        )


def name_variables(message: str, options: dict[str, Any], sources: dict[str, str]) -> str:
    """A configuration message naming the variable a setting came from (``OLRENDER_URL=x``) instead of its option."""
    import re

    for name, variable in sources.items():
        spec = next(spec for spec in OPTIONS if spec.name == name)
        value = options.get(name)
        shown = [str(v) for v in (value if isinstance(value, tuple) else (value,)) if v is not None]

        def replace(match: re.Match[str], variable: str = variable, shown: list[str] = shown) -> str:
            rest = match.string[match.end():]
            given = any(rest.startswith(spelling) for text in shown for spelling in (repr(text), text))
            return f"{variable}=" if match[1] and given else variable + match[1]

        for decl in spec.decls:
            message = re.sub(rf"(?<![\w-]){re.escape(decl)}(?![\w-])( ?)", replace, message)
    return message
