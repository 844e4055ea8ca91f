"""The program with its error handling: every ``OlrenderError`` becomes its exit code and one message.

``olrender(args, env)`` runs the command against an ``Environment`` and returns its exit status;
``main`` is that for the process, and ``entry`` (the ``olrender`` program) also skips the
interpreter's tear-down. Anything unexpected becomes exit 1 with a short message, and a traceback
only with ``--debug``. Nothing is written to stdout unless the whole stream succeeded.
"""

from __future__ import annotations

import os
import sys

from postrenderer.cli.environment import Environment
from postrenderer.cli.execute import execute
from postrenderer.cli.options import (
    MISTAKEN_KEY_VARIABLE,
    fast_parse,
    from_environment,
    given_on_command_line,
)
from postrenderer.cli.reporter import Reporter
from postrenderer.cli.signals import Interrupted, install_signal_handlers
from postrenderer.errors import ExitCode
from postrenderer.read.variables import KEY_VAR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

def olrender(args: list[str], env: Environment) -> int:
    """The command and its exit status; under Helm 4, a failure's reason is left in Helm's cache."""
    reporter = Reporter(env.stderr)
    try:
        for variable in (KEY_VAR, MISTAKEN_KEY_VARIABLE):  # scrubbed from the start, usage errors included
            reporter.add_secret(env.environ.get(variable))
        if env.process:
            install_signal_handlers()
        options = fast_parse(args, env.environ)
        if options is not None:
            status = execute(options, reporter, from_environment(given_on_command_line(args) or (), env.environ), env)
        else:
            from postrenderer.cli.click_command import click_main

            status = click_main(args, reporter, env)
    except KeyboardInterrupt as exc:  # before execute could open the log file
        reporter.error(f"interrupted ({exc.signal_name if isinstance(exc, Interrupted) else 'SIGINT'})")
        status = ExitCode.INTERRUPTED
    except BrokenPipeError:
        env.quiet_stdout()
        status = ExitCode.OK
    except Exception as exc:  # the last line of defence: no traceback without --debug
        if "--debug" in args:
            raise
        reporter.error(f"internal error: {type(exc).__name__} (rerun with --debug)")
        status = ExitCode.INTERNAL
    if (status or reporter.warnings) and reporter.log is None:  # no log file took them: Helm 4 would hide them
        from postrenderer.cli.helm4 import write_helm_error_log

        write_helm_error_log(reporter, int(status), env.environ)
    return int(status or 0)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the command in this process and exit with its status."""
    sys.exit(olrender(sys.argv[1:] if argv is None else list(argv), Environment.of_process()))


def entry() -> NoReturn:
    """The ``olrender`` program: ``main``, then exit without tearing the interpreter down (about 4 ms a run).

    Everything olrender writes is flushed first; it registers no exit handlers. (``cli.entry`` runs
    this with the cyclic garbage collector off.)
    """
    try:
        main()
    except SystemExit as exc:
        status = int(exc.code or 0)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # the reader went away: nothing left to tell
            pass
    os._exit(status)
