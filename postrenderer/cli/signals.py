"""SIGINT and SIGTERM: the run stops where it is, and nothing or all of the output reaches stdout.

The first stop signal becomes ``Interrupted``, so the run ends through its error handling (a
message, exit 130). While the output is written, the signals are held back until the reader has
the whole stream. A second stop signal ends the process at once with exit 130 and writes nothing
more: the first one's message may be stuck behind a stderr nobody reads, and a third signal must
not turn into a traceback.
"""

from __future__ import annotations

import os

from postrenderer.errors import ExitCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal

    from postrenderer.cli.environment import Environment
    from postrenderer.cli.reporter import Reporter

else:  # the C module under ``signal``, which builds three enums at import (0.5 ms of every run)
    import _signal as signal

STOP_SIGNALS = ("SIGINT", "SIGTERM")


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the run stops where it is (a KeyboardInterrupt, so click treats it alike)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def install_signal_handlers() -> None:
    """Turn the first SIGINT or SIGTERM into ``Interrupted``, and exit 130 at once on the next (unless ignored)."""
    received: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        if received:  # the run is already stopping, and may be blocked writing its message: stop now
            os._exit(ExitCode.INTERRUPTED)
        received.append(signum)
        raise Interrupted(_name(signum))

    for name in STOP_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, interrupt)


def write_output(output: list[bytes | memoryview], reporter: Reporter, env: Environment) -> int:
    """Write the whole output to stdout, or nothing: SIGINT and SIGTERM wait until the write is done.

    A signal that arrives during the write is held back, then discarded, and the run exits 130 once
    the reader has the whole stream (a partial stream is worse than a late exit).
    """
    stops = {getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)}
    can_block = env.process and hasattr(signal, "pthread_sigmask")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stops) if can_block else set()
    status = ExitCode.OK
    try:
        assert env.stdout is not None  # (execute refuses a closed stdout)
        for part in output:  # (the stream in parts: untouched input is never copied)
            env.stdout.write(part)
        env.stdout.flush()
        reporter.wrote_output = True
    except BrokenPipeError:  # the reader went away (``olrender | head``): nothing left to tell
        env.quiet_stdout()
    except OSError as exc:
        env.quiet_stdout()
        reporter.error(f"cannot write the output to stdout ({exc.strerror})")
        status = ExitCode.INTERNAL
    finally:
        held = sorted(signal.sigpending() & stops) if can_block else []
        for signum in held:  # ignoring a pending signal discards it
            signal.signal(signum, signal.SIG_IGN)
        if can_block:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    if held and status == ExitCode.OK:
        raise Interrupted(_name(held[0]))
    return status


def _name(signum: int) -> str:
    """SIGINT or SIGTERM for its number."""
    return next(name for name in STOP_SIGNALS if getattr(signal, name, None) == signum)
