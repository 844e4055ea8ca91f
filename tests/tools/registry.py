"""A real OCI registry on the loopback address for tests: Debian's ``docker-registry`` (distribution 2.8).

:func:`ensure_registry` returns the binary, installing the Debian package with apt-get when it is
missing (as root; ``apt-get update`` once if the first attempt fails). :func:`serving` starts it on
127.0.0.1 with a free port and a throwaway storage directory, waits until ``/v2/`` answers, yields
``127.0.0.1:PORT`` and stops it. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.tools.realtools import ToolUnavailable

PACKAGE = "docker-registry"
BINARY = Path("/usr/bin/docker-registry")
APT_TIMEOUT_S = 600
START_TIMEOUT_S = 30


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    """Run apt-get non-interactively."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", "-q", *args], capture_output=True, text=True, env=env, timeout=APT_TIMEOUT_S,
                          check=False)


def ensure_registry() -> Path:
    """The docker-registry binary, installed with apt-get when missing; ToolUnavailable when it cannot be."""
    if BINARY.is_file():
        return BINARY
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise ToolUnavailable(PACKAGE, "not installed, and installing it needs apt-get as root")
    install = ("install", "-y", "--no-install-recommends", PACKAGE)
    proc = _apt(*install)
    if proc.returncode != 0:
        _apt("update")
        proc = _apt(*install)
    if proc.returncode != 0 or not BINARY.is_file():
        raise ToolUnavailable(PACKAGE, f"apt-get install failed: {proc.stderr.strip()[-500:]}")
    return BINARY


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(address: str) -> bool:
    """Whether the registry answers its API's base endpoint."""
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def serving(binary: Path, workdir: Path) -> Iterator[str]:
    """Run the registry on 127.0.0.1 (plain HTTP, storage in workdir); yield ``127.0.0.1:PORT``."""
    address = f"127.0.0.1:{_free_port()}"
    config = workdir / "registry.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: warn\nhttp:\n  addr: {address}\n"
                      f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n")
    with (workdir / "registry.log").open("wb") as log:
        process = subprocess.Popen([str(binary), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(address):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ToolUnavailable(PACKAGE, f"did not start: {(workdir / 'registry.log').read_text()[-500:]}")
            time.sleep(0.1)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=30)
