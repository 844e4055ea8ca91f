"""The one writer of everything olrender says: stderr, the log file, the report file and Helm 4's error log.

Every message and report passes through ``Reporter``, whose last step before the bytes leave is the
scrubber (``cli.scrub``): a channel that wrote around it could print the key, and
``tests/test_secret_hygiene.py`` fails if any code in ``cli/`` writes anywhere else. Control
characters are escaped, and a message's line breaks only come before a list item or a header, so
that a name from the stream cannot start a line of its own (``olrender: ...``).
"""

from __future__ import annotations

import os
import time

from postrenderer.cli.scrub import Scrubber
from postrenderer.errors import printable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO


class Reporter:
    """Writes warnings and errors to stderr and the log file, with secrets scrubbed and control characters escaped."""

    def __init__(self, stderr: IO[str] | None, log: IO[str] | None = None, debug: bool = False,
                 secrets: list[str] | None = None) -> None:
        """Report to stderr (None: it is closed) and, once set, the log file."""
        self.stderr = stderr
        self.log = log
        self.log_path = ""
        self.log_failure: str | None = None  # why the log file could not be written, once that happened
        self.debug = debug
        self.wrote_output = False
        self.changed = False  # --diff/--emit-patches showed a change (for --exit-code)
        self.said: list[str] = []  # every message meant for stderr, as written (for Helm's error log)
        self.warnings = 0  # how many warnings (for --strict and Helm's error log)
        self.sources: dict[str, str] = {}  # option name -> the OLRENDER_* variable its value came from
        self.scrubber = Scrubber()
        for secret in secrets or ():
            self.scrubber.add(secret)

    def add_secret(self, value: object) -> None:
        """Scrub this value (trimmed, as olrender uses it) in all its written forms from now on.

        A value shorter than MIN_KEY_LENGTH is left alone: olrender refuses such a key, and scrubbing it
        would garble messages.
        """
        if not isinstance(value, str):
            return
        from postrenderer.config.settings import MIN_KEY_LENGTH

        if len(value.strip()) >= MIN_KEY_LENGTH:
            self.scrubber.add(value.strip())

    def scrub(self, text: str) -> str:
        """Every known form of every known secret, checksum annotation values and URL credentials redacted."""
        return self.scrubber.scrub(text)

    def _write(self, text: str, to_stderr: bool = True, free_lines: bool = False) -> None:
        """Emit one message; unless free_lines, its line breaks only before a list item or a header (``--x``)."""
        text = printable(self.scrubber.scrub_message(text), keep="\n")
        if not free_lines and "\n" in text:  # a name from the stream must not start a line ("olrender: ...")
            first, *rest = text.split("\n")
            text = first + "".join(("\n" if line.startswith(("  ", "--")) else "\\n") + line for line in rest)
        if to_stderr:
            self.said.append(text)
        if to_stderr and self.stderr is not None:
            try:
                self.stderr.write(text + "\n")
                self.stderr.flush()
            except (OSError, ValueError):  # stderr closed or nobody reads it any more: the log file still does
                self.stderr = None
        if self.log is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            try:
                self.log.write("".join(f"{stamp} [{os.getpid()}] {line}\n" for line in text.split("\n")))
                self.log.flush()
            except (OSError, ValueError) as exc:
                self.log = None
                self.log_failure = f"--log-file {self.log_path}: cannot write ({getattr(exc, 'strerror', exc)})"
                self._write(f"olrender: error: invalid config: {self.log_failure}")

    def write_file(self, path: str, text: str, setting: str) -> None:
        """Write a whole file (the --report), scrubbed like a message, owner-only and atomically."""
        from postrenderer.cli.files import write_private

        write_private(path, printable(self.scrubber.scrub_message(text), keep="\n"), setting)

    def warn(self, message: str) -> None:
        """A problem that did not stop the run."""
        self.warnings += 1
        self._write(f"olrender: warning: {message}")

    def error(self, message: str) -> None:
        """The reason the run failed."""
        self._write(f"olrender: error: {message}")

    @property
    def noting(self) -> bool:
        """Whether notes (``info``) go anywhere: to a log file, or to stderr with --debug."""
        return self.debug or self.log is not None

    def info(self, message: str) -> None:
        """A note for the log file (and stderr with --debug)."""
        if self.noting:
            self._write(f"olrender: {message}", to_stderr=self.debug)

    def notice(self, message: str) -> None:
        """A result the user asked for (the --check verdict): stderr and the log file."""
        self._write(f"olrender: {message}")

    def report(self, text: str, to_stderr: bool) -> None:
        """The --explain report (its values escaped by ``printable_values``): the log file, and stderr if asked."""
        self._write(text, to_stderr=to_stderr, free_lines=True)

    def debug_traceback(self) -> None:
        """With --debug, add the current exception's traceback (secrets scrubbed) to stderr and the log."""
        if self.debug:
            import traceback

            self._write(traceback.format_exc().rstrip(), free_lines=True)
