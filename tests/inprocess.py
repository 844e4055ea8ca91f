"""Run the olrender command in this process, against an in-memory ``Environment``.

For tests that need no real process: stdin, stdout and stderr are memory, the variables are
os.environ replaced for the run (``run`` and click read os.environ), and no signal handler is
installed. Signals, closed streams and process exit are tested with the real process.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import NamedTuple
from unittest import mock

from postrenderer.cli import olrender
from postrenderer.cli.environment import Environment
from tests.hardening import clean_env


class Ran(NamedTuple):
    """What a run left: exit status, stdout, stderr (bytes, as from subprocess)."""

    returncode: int
    stdout: bytes
    stderr: bytes


def run_in_process(args: list[str], data: bytes = b"", env: dict[str, str] | None = None,
                   cwd: Path | None = None) -> Ran:
    """olrender args with data on stdin and a clean environment plus env, in this process."""
    stdout, stderr = io.BytesIO(), io.StringIO()
    previous = os.getcwd()
    with mock.patch.dict(os.environ, clean_env(env), clear=True):
        try:
            if cwd is not None:
                os.chdir(cwd)
            status = olrender(list(args), Environment(io.BytesIO(data), stdout, stderr, os.environ))
        finally:
            os.chdir(previous)
    return Ran(status, stdout.getvalue(), stderr.getvalue().encode("utf-8", "surrogateescape"))
