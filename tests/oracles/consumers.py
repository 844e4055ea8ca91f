"""What the real OpenLineage consumers send, for a batch of container environments.

``send(cases, workdir, airflow=None)`` runs ``emit_oracle.py`` once per consumer
over all cases: ``client`` with this interpreter (openlineage-python from the test
extras), and ``airflow`` with the cached Airflow virtualenv's interpreter when one
is given (``tests.tools.oracles.airflow_python()``), side by side, against one
loopback ``Recorder``. A case is ``Case(env, files)``: the container's exact
environment and the files it reads (absolute paths, written before the client is
built). The answer per consumer and case is a ``Sent``: the transport kind (or
the error's type) and the requests the backend received, as path and
``Authorization`` header. In env values, file paths and file texts, ``{BACKEND}``
stands for the backend's URL and ``{CWD}`` for the case's own working directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.oracles.recorder import Recorder, Request

HERE = Path(__file__).resolve().parent
ORACLE = HERE.parent / "tools" / "emit_oracle.py"
BACKEND = "{BACKEND}"
CWD = "{CWD}"
RUN_TIMEOUT_S = 300


@dataclass(frozen=True)
class Case:
    """A container's environment and the files it reads."""

    env: dict[str, str]
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """What one consumer did with one case: its transport kind (or error) and the requests it sent."""

    kind: str
    error: str | None
    requests: list[Request]

    @property
    def only(self) -> Request:
        """The one request sent (fails the test when there were none or several)."""
        assert len(self.requests) == 1, f"{self.kind} {self.error}: sent {len(self.requests)} requests"
        return self.requests[0]


def _start(python: Path, mode: str, cases: list[Case], url: str, workdir: Path) -> Callable[[], list[dict[str, str]]]:
    """Start the oracle process on the cases; return a function that waits for its answers."""
    folder = workdir / mode
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"

    def plain(number: int, case: Case) -> dict[str, object]:
        """The case as the oracle reads it, its placeholders filled in."""
        cwd = str(folder / f"cwd-{number}")

        def fill(text: str) -> str:
            """A text with the backend's URL and the case's directory in place of their placeholders."""
            return text.replace(BACKEND, url).replace(CWD, cwd)

        return {"env": {"PATH": "/usr/bin:/bin", "HOME": str(home), "AIRFLOW_HOME": str(home / "airflow"),
                        "LANG": "C.UTF-8", **{k: fill(v) for k, v in case.env.items()}},
                "files": {fill(path): fill(text) for path, text in case.files.items()}, "cwd": cwd}

    (folder / "cases.json").write_text(json.dumps([plain(n, case) for n, case in enumerate(cases)]))
    log = (folder / "stderr.txt").open("w+")
    proc = subprocess.Popen([str(python), str(ORACLE), mode, str(folder / "cases.json"), str(folder / "results.json")],
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
                                 "AIRFLOW_HOME": str(home / "airflow")},
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def wait() -> list[dict[str, str]]:
        """The oracle's answers, once it has finished."""
        try:
            status = proc.wait(RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        log.seek(0)
        if status != 0:
            raise RuntimeError(f"the {mode} emit oracle exited {status}: {log.read()[-2000:]}")
        answers: list[dict[str, str]] = json.loads((folder / "results.json").read_text())
        assert len(answers) == len(cases)
        return answers

    return wait


def send(cases: list[Case], workdir: Path, airflow: Path | None = None, client: bool = True) -> dict[str, list[Sent]]:
    """Each consumer's ``Sent`` per case: ``{"client": [...], "airflow": [...]}`` (airflow only when given)."""
    consumers = {**({"client": Path(sys.executable)} if client else {}),
                 **({"airflow": airflow} if airflow is not None else {})}
    with Recorder() as recorder:
        waits = {mode: _start(python, mode, cases, recorder.url, workdir) for mode, python in consumers.items()}
        answers = {mode: wait() for mode, wait in waits.items()}
    return {mode: [Sent(a["kind"], a.get("error"), recorder.for_job(f"{mode}-{n}")) for n, a in enumerate(found)]
            for mode, found in answers.items()}
