"""Issue 18's internal-error shapes fed to the real process: exit 2 or 3 (130 for signals), a message, no traceback.

Each was once exit 1 ("a bug") although the input was at fault: a transport
JSON nested 1,000 deep and a mounted config file nested 500 deep
(``RecursionError``), ``- !!merge <<: {...}`` on the path olrender edits
(``ValueError``), and three SIGTERMs while stderr drains slowly (a traceback).
The streams come from ``tests.hardening``, which also measures them
(``python -m tests.hardening``); ``tests/test_cost.py`` holds their cost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.hardening import clean_env, config_nested, json_env, run_measured, tagged_merge

KEY = "sk-test-exits-0001"
ENV = {"OPENLINEAGE_API_KEY": KEY}
VAULT = ["--method", "vault", "--vault-addr", "https://vault.example.com", "--vault-role", "r",
         "--vault-secret-path", "secret/data/x", "--vault-secret-field", "key"]
SHAPES = {  # what the input is, and what the message must name
    "AIRFLOW__OPENLINEAGE__TRANSPORT nested 1,000 deep": (
        json_env("AIRFLOW__OPENLINEAGE__TRANSPORT", 1_000),
        "document 1 (Deployment/agent-triggerer): container 'agent': AIRFLOW__OPENLINEAGE__TRANSPORT: "),
    "OPENLINEAGE__TRANSPORT nested 1,000 deep": (
        json_env("OPENLINEAGE__TRANSPORT", 1_000), "OPENLINEAGE__TRANSPORT: "),
    "a mounted config file nested 500 deep": (
        config_nested(500), "OPENLINEAGE_CONFIG: the config file /etc/ol/openlineage.yml"),
    "- !!merge <<: {...} as the edited container": (
        tagged_merge(), "that mapping takes keys from a << merge key (line 9)"),
}


@pytest.mark.parametrize("mode", [[], ["--check"], ["--diff"], [*VAULT, "--emit-kustomize-patches"]],
                         ids=["render", "check", "diff", "vault-kustomize"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_input_shapes_that_were_internal_errors_exit_3_with_a_message(shape: str, mode: list[str]) -> None:
    """Each shape, in every mode that reads it: exit 3 naming the document, nothing on stdout, no traceback."""
    data, fragment = SHAPES[shape]
    run = run_measured(mode, data, ENV, timeout=60)
    err = run.stderr.decode()
    if mode == ["--check"] and "merge" in shape:  # --check edits nothing: the merged container is simply read
        assert run.returncode in (0, 6) and "Traceback" not in err
        return
    assert run.returncode == 3, err
    assert err.startswith("olrender: error: ") and fragment in err, err
    assert "Traceback" not in err and run.stdout == b""


def test_a_values_file_nested_1000_deep_is_exit_2(tmp_path: Path) -> None:
    """The same nesting in a values file (configuration, not the stream) is exit 2 naming the file."""
    values = tmp_path / "values.yaml"
    values.write_text("openLineage: " + "[" * 1_000 + "]" * 1_000 + "\n")
    run = run_measured(["-f", str(values)], json_env("TZ", 1), ENV, timeout=60)
    err = run.stderr.decode()
    assert run.returncode == 2 and "Traceback" not in err and str(values) in err, err


def test_repeated_signals_while_stderr_drains_slowly_give_no_traceback() -> None:
    """Three SIGTERMs while stderr drains slowly (its pipe full): exit 130, and no traceback once it drains.

    (The second signal ends the process at once, by design: the first one's message is stuck behind the full
    pipe, so what stderr gets is the warnings written before, cut where the pipe was full.)
    """
    # 100 warnings of 6 KB, more than a pipe holds; each is over PIPE_BUF, so a blocked write fills it to the brim
    noise = {f"OLRENDER_NOT_A_SETTING_{i}_{'X' * 6000}": "x" for i in range(100)}
    proc = subprocess.Popen([sys.executable, "-m", "postrenderer"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**clean_env(ENV), **noise})
    assert proc.stderr
    fd, chunks, fast = proc.stderr.fileno(), [], threading.Event()

    def drain() -> None:  # 64 bytes every 50 ms until told to read at full speed
        while chunk := os.read(fd, 65536 if fast.is_set() else 64):
            chunks.append(chunk)
            if not fast.is_set():
                time.sleep(0.05)

    reader = threading.Thread(target=drain)
    deadline = time.monotonic() + 20
    while "pipe_write" not in Path(f"/proc/{proc.pid}/wchan").read_text():  # blocked on the full stderr pipe
        assert time.monotonic() < deadline and proc.poll() is None, "olrender never blocked writing stderr"
        time.sleep(0.02)
    reader.start()
    for _ in range(3):
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
    fast.set()
    out = proc.stdout.read() if proc.stdout else b""
    assert proc.wait(timeout=60) == 130
    reader.join(timeout=60)
    err = b"".join(chunks)
    assert b"Traceback" not in err and b"Exception" not in err and out == b""
