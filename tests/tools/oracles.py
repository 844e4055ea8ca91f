"""The real OpenLineage consumers as test oracles: the client, and the Airflow provider in a cached virtualenv.

``client_run(cases, workdir)`` starts ``openlineage_oracle.py`` with this
interpreter, whose test extras pin ``openlineage-python``, in the background. ``airflow_python()``
returns the interpreter of a separate virtualenv holding the Airflow provider
(never installed into the project's own test environment: about 140 packages),
built on first use under the tools cache (``~/.cache/olrender/tools``) from the
pins below and the full constraints file beside this module, and reused while
both are unchanged. ``airflow_run(python, cases, workdir)`` asks it; the two
runs go side by side, and ``Run.answers()`` waits for one.

CLI: ``python -m tests.tools.oracles`` builds (or finds) the Airflow virtualenv
and prints its interpreter. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.tools.realtools import ToolUnavailable, _locked, cache_root

HERE = Path(__file__).resolve().parent
ORACLE = HERE / "openlineage_oracle.py"
CONSTRAINTS = HERE / "airflow-openlineage-constraints.txt"
AIRFLOW_REQUIREMENTS = (
    "apache-airflow==3.3.2",
    "apache-airflow-providers-openlineage==2.20.3",
    "openlineage-python==1.54.0",
)
AIRFLOW_TOOL = "airflow-openlineage"
BUILD_TIMEOUT_S = 1200
RUN_TIMEOUT_S = 600
_MARKER = ".complete"


def _fingerprint() -> str:
    """What the virtualenv is built from: the pins, the constraints and this Python's version."""
    digest = hashlib.sha256("\n".join(AIRFLOW_REQUIREMENTS).encode())
    digest.update(CONSTRAINTS.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def _clean_env(home: Path) -> dict[str, str]:
    """A minimal environment for an oracle process (no PYTEST_*, no user configuration)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "AIRFLOW_HOME": str(home / "airflow"),
            "LANG": "C.UTF-8"}


def _run(cmd: Sequence[str], env: dict[str, str], timeout: float, what: str) -> None:
    """Run a build step or raise ToolUnavailable with the tail of its output."""
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolUnavailable(AIRFLOW_TOOL, f"{what} failed: {exc}") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise ToolUnavailable(AIRFLOW_TOOL, f"{what} exited {proc.returncode}: {tail or '(no output)'}")


def airflow_python() -> Path:
    """The interpreter of the cached Airflow-provider virtualenv, building it when missing or stale."""
    fingerprint = _fingerprint()
    root = cache_root()
    target = root / f"{AIRFLOW_TOOL}-py{sys.version_info.major}{sys.version_info.minor}"
    python = target / "bin" / "python"

    def complete() -> bool:
        try:
            return (target / _MARKER).read_text().strip() == fingerprint and python.exists()
        except OSError:
            return False

    if complete():
        return python
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolUnavailable(AIRFLOW_TOOL, f"cannot create cache {root}: {exc}") from exc
    with _locked(root / f".{AIRFLOW_TOOL}.lock"):
        if complete():  # another process finished while we waited
            return python
        if target.exists():
            shutil.rmtree(target)
        with tempfile.TemporaryDirectory(prefix=f".{AIRFLOW_TOOL}.") as tmp:
            env = _clean_env(Path(tmp))
            _run([sys.executable, "-m", "venv", str(target)], env, 120, "python -m venv")
            _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-input",
                  "-c", str(CONSTRAINTS), *AIRFLOW_REQUIREMENTS], env, BUILD_TIMEOUT_S, "pip install")
            _run([str(python), "-c", "import airflow.providers.openlineage.plugins.adapter"], env, 300,
                 "importing the provider")
        (target / _MARKER).write_text(fingerprint + "\n")
    return python


FORK_EVERY = 20  # one case in this many also runs in a forked child of the clean oracle process


class Run:
    """One oracle process over a batch of cases, running in the background until ``answers()``."""

    def __init__(self, python: Path, mode: str, cases: list[dict[str, Any]], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.mode, self.count = mode, len(cases)
        cases_path, self.results = workdir / f"{mode}-cases.json", workdir / f"{mode}-results.json"
        cases_path.write_text(json.dumps(cases))
        home = workdir / f"{mode}-home"
        home.mkdir(exist_ok=True)
        self.stderr = (workdir / f"{mode}-stderr.txt").open("w+")
        self.proc = subprocess.Popen(
            [str(python), str(ORACLE), mode, str(cases_path), str(self.results), str(FORK_EVERY)],
            env=_clean_env(home), stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
        )

    def answers(self) -> list[dict[str, Any]]:
        """The answers, in the order of the cases (checked against the forked ones)."""
        try:
            status = self.proc.wait(RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self.stderr.seek(0)
        if status != 0:
            raise RuntimeError(f"the {self.mode} oracle exited {status}: {self.stderr.read()[-2000:]}")
        results = json.loads(self.results.read_text())
        answers = results["answers"]
        assert isinstance(answers, list) and len(answers) == self.count
        leaks = {n: (a, answers[int(n)]) for n, a in results["forked"].items() if a != answers[int(n)]}
        assert results["forked"] and not leaks, f"the {self.mode} oracle's answers depend on earlier cases: {leaks}"
        return answers


def client_run(cases: list[dict[str, Any]], workdir: Path) -> Run:
    """Start ``OpenLineageClient()`` (openlineage-python from the test extras) on each case."""
    return Run(Path(sys.executable), "client", cases, workdir)


def airflow_run(python: Path, cases: list[dict[str, Any]], workdir: Path) -> Run:
    """Start what the Airflow provider's listener does on each case."""
    return Run(python, "airflow", cases, workdir)


if __name__ == "__main__":
    try:
        print(airflow_python())
    except ToolUnavailable as exc:
        print(f"oracles: {exc}", file=sys.stderr)
        sys.exit(1)
