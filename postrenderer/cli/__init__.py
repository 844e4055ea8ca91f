"""The ``olrender`` command: the only place that reads files, stdin and the environment, and prints.

One module a concern, in the order a run meets them:

- ``options``: every option as data, and the click-free parser of the usual command lines;
- ``click_command``: the click command built from that table (``--help``, ``--version``, usage errors);
- ``environment``: stdin, stdout, stderr and the variables, passed down as one object;
- ``entrypoint``: the program and its exit status (``olrender``, ``main``, ``entry``);
- ``execute``: the command body with its error handling and exit codes;
- ``files``: the files olrender reads and writes, safely; ``signals``: SIGINT, SIGTERM, stdout;
- ``run``: the modes without error handling;
- ``reporter`` and ``scrub``: the one writer of messages, reports and logs, scrubbing the key last;
- ``helm4``: the error log a failure leaves in Helm's cache when Helm 4 discards stderr;
- ``precommit``: the pre-commit hooks.

Start-up time matters (Helm runs olrender on every install and upgrade), so the usual command lines
are parsed by ``options.fast_parse`` and click is imported only for ``--help``, ``--version``, errors
and unusual forms; both paths run the same ``execute.execute``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from postrenderer.cli.entrypoint import main, olrender

__all__ = ["entry", "main", "olrender"]


def entry() -> NoReturn:
    """The ``olrender`` program (``entrypoint.entry``), with the cyclic garbage collector off from the start.

    A run leaves no reference cycles behind (a test checks every mode), so collecting would only cost
    time: loading olrender's modules alone runs the collector about ten times (1-2 ms of a run).
    """
    import gc

    gc.disable()
    from postrenderer.cli.entrypoint import entry as program

    program()


def __getattr__(name: str) -> Any:
    """``main`` and ``olrender`` (loaded when first asked for), and ``command``, the click command."""
    if name in ("main", "olrender"):
        from postrenderer.cli import entrypoint

        return getattr(entrypoint, name)
    if name == "command":
        from postrenderer.cli.click_command import build_command

        return build_command()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
