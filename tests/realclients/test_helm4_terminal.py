"""Under real Helm 4, which discards stderr: what reaches the person at the terminal, the log and CI.

Helm 4 runs its post-renderer plugin in its own session and process group, so olrender can
write a failure's reason (and a successful run's warnings) to ``/dev/tty`` (``cli/terminal.py``).
These tests run the real helm under a pseudo-terminal (``script``), without a controlling
terminal at all (``setsid``, as in CI), and piped into another program, and check that stdout
is the same in every case and that ``--strict`` fails a run that warned.
"""

from __future__ import annotations

import shlex
import stat
from pathlib import Path

import pytest

from tests.realclients.clients import CHART, EXISTING_SECRET, OL_NAMESPACE, RELEASE, Client

pytestmark = pytest.mark.realclient

ARGS = (f"--post-renderer olrender --post-renderer-args=--api-key-secret={EXISTING_SECRET} "
        f"--post-renderer-args=--namespace={OL_NAMESPACE}")
TYPO = {"OLRENDER_NAMESAPCE": "x"}  # an unknown OLRENDER_* variable: a warning, the run succeeds
WARNING = "olrender: warning: OLRENDER_NAMESAPCE is not an olrender setting"


def template(extra: str = "") -> str:
    """A helm template command line with olrender as post-renderer."""
    return f"helm template {RELEASE} {shlex.quote(str(CHART))} {ARGS} {extra}"


def at_terminal(helm4: Client, command: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run command under a pseudo-terminal (``script``): its exit status and what the terminal showed."""
    run = helm4.run("-qefc", command, "/dev/null", program="script", cwd=cwd, env=env)
    return run.returncode, run.stdout.replace("\r\n", "\n")


def test_a_failure_shows_its_reason_on_the_terminal(helm4: Client, tmp_path: Path) -> None:
    """At a terminal, Helm's own error comes with olrender's reason; the log has it too."""
    status, screen = at_terminal(helm4, template("--post-renderer-args=--methd=vault"), tmp_path)
    assert status != 0
    assert "olrender: error: invalid config: No such option '--methd'" in screen
    assert 'plugin "olrender" exited with error' in screen


def test_without_a_terminal_nothing_changes(helm4: Client, tmp_path: Path) -> None:
    """No controlling terminal (CI): helm's stderr holds only Helm's words; the reason is in the log."""
    run = helm4.run("-w", "helm", *shlex.split(template("--post-renderer-args=--methd=vault"))[1:],
                    program="setsid", cwd=tmp_path)
    assert run.returncode != 0 and "olrender: error" not in run.stderr
    log = Path(helm4.env["HELM_CACHE_HOME"]) / "olrender" / "errors.log"
    assert "No such option '--methd'" in log.read_text()


def test_warnings_reach_the_terminal_and_the_log_and_stdout_stays_the_stream(helm4: Client, tmp_path: Path) -> None:
    """A run that warned: the warning on the terminal and in the log (0600); a pipe gets exactly the stream."""
    quiet = helm4.run("-w", "helm", *shlex.split(template())[1:], program="setsid", cwd=tmp_path).ok()
    log = Path(helm4.env["HELM_CACHE_HOME"]) / "olrender" / "errors.log"
    before = log.read_text() if log.exists() else ""
    status, screen = at_terminal(helm4, template("> out.yaml"), tmp_path, TYPO)
    assert status == 0
    assert WARNING in screen
    assert (tmp_path / "out.yaml").read_text() == quiet.stdout, "stdout is the stream, whatever the terminal got"
    added = log.read_text()[len(before):]
    assert "olrender: succeeded with 1 warning(s)" in added and WARNING in added
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_strict_fails_a_run_that_warned(helm4: Client, tmp_path: Path) -> None:
    """OLRENDER_STRICT: the warning fails the release (exit 8, seen with --debug); helm writes no manifest."""
    run = helm4.run("-w", "helm", *shlex.split(template("--debug"))[1:], program="setsid", cwd=tmp_path,
                    env={**TYPO, "OLRENDER_STRICT": "1"})
    assert run.returncode != 0 and "kind: Deployment" not in run.stdout
    assert "exit status 8" in run.stderr
    log = (Path(helm4.env["HELM_CACHE_HOME"]) / "olrender" / "errors.log").read_text()
    assert "olrender: error: --strict: 1 warning(s) above; nothing written to stdout" in log
