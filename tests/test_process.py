"""How the olrender process behaves at its edges: pipes, signals, terminals, closed streams, partial writes.

Helm only sees an exit code (and, in Helm 3, stderr). So a closed stdout ends
quietly, Ctrl-C exits 130 without a traceback, a terminal on stdin gets a usage
line instead of a hang, reading goes on to end of file however the pipe
behaves, and nothing reaches stdout unless the whole stream succeeded.
"""

from __future__ import annotations

import os
import pty
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import programs
from tests.hardening import HELM3, clean_env, component, configmap

KEY = "sk-test-process-0001"
ENV = clean_env({"OPENLINEAGE_API_KEY": KEY})
COMMAND = [sys.executable, "-m", "postrenderer"]
BIG = HELM3 + b"".join(configmap(f"pad-{i}", 50_000) for i in range(40))  # ~2 MB of output


def expected_output(data: bytes = HELM3) -> bytes:
    """What olrender writes for a stream, read in one go."""
    proc = subprocess.run(COMMAND, input=data, capture_output=True, env=ENV, timeout=60, check=True)
    return proc.stdout


def default_sigint() -> None:
    """In the child, before exec: SIGINT as a terminal leaves it (a background job's shell ignores it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until_reading(pid: int, timeout: float = 10) -> None:
    """Wait until the process blocks reading its stdin pipe (or, without /proc, a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if "pipe" in Path(f"/proc/{pid}/wchan").read_text():
                return
        except OSError:
            time.sleep(1)
            return
        time.sleep(0.02)


def test_closed_stdout_ends_quietly() -> None:
    """``olrender | head -1``: the reader goes away mid-output; no traceback, no noise, exit 0."""
    proc = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ENV)
    assert proc.stdin and proc.stdout and proc.stderr
    threading.Thread(target=lambda: (proc.stdin.write(BIG), proc.stdin.close())).start()  # type: ignore[union-attr]
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert first == b"---\n"
    assert "Traceback" not in err and "Exception ignored" not in err and "Broken pipe" not in err
    assert "error" not in err


def test_head_in_a_shell_pipeline() -> None:
    """The same through a real shell pipeline: ``olrender < stream | head -1``."""
    script = f'"{sys.executable}" -m postrenderer | head -1'
    proc = subprocess.run(["sh", "-c", script], input=BIG, capture_output=True, env=ENV, timeout=60, check=False)
    assert proc.stdout == b"---\n"
    assert b"Traceback" not in proc.stderr and b"Exception" not in proc.stderr


def test_sigint_while_reading_exits_130(tmp_path: Path) -> None:
    """Ctrl-C while waiting for the stream: exit 130, one line, no traceback, nothing on stdout, logged."""
    log = tmp_path / "olrender.log"
    proc = subprocess.Popen([*COMMAND, "--log-file", str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, preexec_fn=default_sigint)
    assert proc.stdin
    proc.stdin.write(HELM3[:500])
    proc.stdin.flush()
    wait_until_reading(proc.pid)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert out == b""
    assert err.decode().strip() == "olrender: error: interrupted (SIGINT); nothing written to stdout"
    assert "olrender: error: interrupted (SIGINT); nothing written to stdout" in log.read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_while_working_leaves_no_partial_output(signum: int, tmp_path: Path) -> None:
    """Ctrl-C or SIGTERM in the middle of a long run (a large component): exit 130, an empty stdout, logged."""
    data = component(8 * 2**20)
    log = tmp_path / "olrender.log"
    proc = subprocess.Popen([*COMMAND, "--log-file", str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, preexec_fn=default_sigint)
    assert proc.stdin
    proc.stdin.write(data)  # returns once all but the last pipe buffer is read
    proc.stdin.close()
    proc.stdin = None
    time.sleep(0.5)
    assert proc.poll() is None, "the run must still be working for this test to mean anything"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out == b""
    message = f"olrender: error: interrupted ({signal.Signals(signum).name}); nothing written to stdout"
    assert err.decode().strip() == message
    assert message in log.read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_the_write_still_delivers_the_whole_stream(signum: int, tmp_path: Path) -> None:
    """A signal while a slow reader takes the output: the whole stream arrives, then exit 130, logged."""
    log = tmp_path / "olrender.log"
    buffered = {k: v for k, v in ENV.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([*COMMAND, "--log-file", str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=buffered, preexec_fn=default_sigint)
    assert proc.stdin and proc.stdout and proc.stderr
    writer = threading.Thread(target=lambda: (proc.stdin.write(BIG), proc.stdin.close()))  # type: ignore[union-attr]
    writer.start()
    first = proc.stdout.read(64 * 1024)  # the write has begun; the rest (2 MB) waits in olrender
    proc.send_signal(signum)
    chunks = [first]
    while chunk := proc.stdout.read(64 * 1024):
        chunks.append(chunk)
        time.sleep(0.01)
    writer.join()
    assert proc.wait(timeout=60) == 130
    assert b"".join(chunks) == expected_output(BIG), "stdout holds the whole stream"
    message = f"olrender: error: interrupted ({signal.Signals(signum).name}) after writing the whole stream to stdout"
    assert proc.stderr.read().decode().strip() == message
    assert message in log.read_text()


def test_terminal_on_stdin_gets_usage_instead_of_hanging() -> None:
    """Run by hand without a pipe: the reason, a short usage line and where to read more; exit 2, at once."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(COMMAND, stdin=follower, capture_output=True, env=ENV, timeout=20, check=False)
    finally:
        os.close(leader)
        os.close(follower)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and proc.stdout == b""
    assert err.splitlines() == [
        "olrender: error: no manifest stream on stdin (it is a terminal); pipe Helm's output in",
        "Usage: olrender [OPTIONS] < MANIFESTS   (Helm: --post-renderer olrender)",
        "Try 'olrender --help' for the options and examples.",
    ]


def test_slow_writer_is_read_to_the_end() -> None:
    """Helm may write in pieces with pauses: olrender reads until end of file, not until a pause."""
    proc = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ENV)
    assert proc.stdin

    def write() -> None:
        for start in range(0, len(HELM3), 3000):
            proc.stdin.write(HELM3[start : start + 3000])  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            time.sleep(0.05)
        proc.stdin.close()  # type: ignore[union-attr]

    writer = threading.Thread(target=write)
    writer.start()
    assert proc.stdout
    out = proc.stdout.read()
    writer.join()
    assert proc.wait(timeout=60) == 0
    assert out == expected_output()


def test_slow_reader_gets_all_of_a_large_output() -> None:
    """olrender exits without the interpreter's clean-up: 2 MB still reach a slow reader, then exit 0."""
    from postrenderer.config import settings as config

    settings, _ = config.resolve({}, {}, {"OPENLINEAGE_API_KEY": KEY}, lambda path: "")
    expected = programs.render(BIG, settings).output
    buffered = {k: v for k, v in ENV.items() if k != "PYTHONUNBUFFERED"}  # as Helm runs it
    proc = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=buffered)
    assert proc.stdin and proc.stdout
    writer = threading.Thread(target=lambda: (proc.stdin.write(BIG), proc.stdin.close()))  # type: ignore[union-attr]
    writer.start()
    chunks = []
    while chunk := proc.stdout.read(256 * 1024):
        chunks.append(chunk)
        time.sleep(0.02)  # the pipe fills up: olrender's writes block until it drains
    writer.join()
    assert proc.wait(timeout=60) == 0
    assert len(expected) > 2_000_000 and b"".join(chunks) == expected


def test_non_blocking_pipe_is_read_to_the_end() -> None:
    """A parent may hand over a non-blocking pipe; a plain read would stop at the first pause and cut the stream."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    proc = subprocess.Popen(COMMAND, stdin=read_end, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    os.close(read_end)

    def write() -> None:
        for start in range(0, len(HELM3), 3000):
            os.write(write_end, HELM3[start : start + 3000])
            time.sleep(0.05)
        os.close(write_end)

    writer = threading.Thread(target=write)
    writer.start()
    out, err = proc.communicate(timeout=60)
    writer.join()
    assert proc.returncode == 0, err
    assert out == expected_output()


def test_exits_at_end_of_file_while_the_writer_lives_on() -> None:
    """Once stdin is closed olrender finishes on its own; it never waits for the parent or more input."""
    proc = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ENV)
    assert proc.stdin and proc.stdout
    proc.stdin.write(HELM3)
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0  # stdout still open on our side, nobody reading it yet
    assert proc.stdout.read() == expected_output()


@pytest.mark.parametrize("source", ["file", "devnull"])
def test_stdin_that_is_not_a_pipe(source: str, tmp_path: Path) -> None:
    """A regular file or /dev/null on stdin works like a pipe (empty input answers with a comment)."""
    path = tmp_path / "stream.yaml"
    path.write_bytes(HELM3)
    with open(path if source == "file" else os.devnull, "rb") as stdin:
        proc = subprocess.run(COMMAND, stdin=stdin, capture_output=True, env=ENV, timeout=60, check=False)
    assert proc.returncode == 0
    assert proc.stdout == (expected_output() if source == "file" else b"# olrender: the chart rendered no manifests\n")


def test_closed_stdin_and_stdout_are_usage_errors() -> None:
    """A parent that closed stdin or stdout gets exit 2 and a reason, not a crash."""
    for closed in (0, 1):
        script = f'exec "{sys.executable}" -m postrenderer {closed}>&-'
        proc = subprocess.run(["sh", "-c", script], input=HELM3, capture_output=True, env=ENV, timeout=60,
                              check=False)
        name = "stdin" if closed == 0 else "stdout"
        assert proc.returncode == 2, proc.stderr
        assert f"olrender: error: {name} is closed" in proc.stderr.decode()


def test_closed_stderr_still_logs_and_exits_with_the_code(tmp_path: Path) -> None:
    """Without stderr the error still reaches --log-file and the exit code is still the documented one."""
    log = tmp_path / "olrender.log"
    script = f'exec "{sys.executable}" -m postrenderer --log-file "{log}" 2>&-'
    proc = subprocess.run(["sh", "-c", script], input=b"a: [1\n", capture_output=True, env=ENV, timeout=60,
                          check=False)
    assert proc.returncode == 3 and proc.stdout == b""
    assert "malformed YAML" in log.read_text()


def test_log_file_that_cannot_be_written_is_a_configuration_error(tmp_path: Path) -> None:
    """A log file that stops taking writes (here: over the file size limit) is exit 2 with one message, no output."""
    log = tmp_path / "olrender.log"
    log.write_bytes(b"x" * 4096)
    log.chmod(0o600)

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # (else the write kills the process)

    proc = subprocess.run([*COMMAND, "--log-file", str(log)], input=HELM3, capture_output=True, env=ENV,
                          timeout=60, check=False, preexec_fn=limit_file_size)
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode().splitlines() == [
        f"olrender: error: invalid config: --log-file {log}: cannot write (File too large)"]


def test_directory_on_stdin_is_refused_by_python_itself(tmp_path: Path) -> None:
    """``olrender < folder``: the interpreter stops before any olrender code runs, exit 1 (docs/reliability.md)."""
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        proc = subprocess.run(COMMAND, stdin=fd, capture_output=True, env=ENV, timeout=60, check=False)
    finally:
        os.close(fd)
    assert proc.returncode == 1 and proc.stdout == b""
    assert "Fatal Python error: init_sys_streams: <stdin> is a directory, cannot continue" in proc.stderr.decode()


def test_full_disk_is_a_clean_error() -> None:
    """Output that cannot be written (``> /dev/full``) is reported in one line, exit 1, no traceback."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(COMMAND, input=HELM3, stdout=full, stderr=subprocess.PIPE, env=ENV, timeout=60,
                              check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "cannot write the output to stdout (No space left on device)" in err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_failure_writes_nothing_even_for_huge_streams() -> None:
    """A failure at the very end of a long stream still leaves stdout empty (output is written at the end)."""
    proc = subprocess.run(COMMAND, input=BIG + b"---\nkind: [unclosed\n", capture_output=True, env=ENV, timeout=60,
                          check=False)
    assert proc.returncode == 3 and proc.stdout == b""
