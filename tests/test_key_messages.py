"""Messages about where the key comes from, when the chart already gives every component its key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.kustomize_proof import clean_env

ROOT = Path(__file__).resolve().parent.parent
STREAM = (ROOT / "fixtures" / "streams" / "helm3.yaml").read_bytes()


def olrender(*args: str, data: bytes, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    """Run olrender as Helm would, without any olrender or OpenLineage variable."""
    return subprocess.run([sys.executable, "-m", "postrenderer", *args], input=data, capture_output=True,
                          env=clean_env({}), cwd=cwd, timeout=60, check=False)


def with_key() -> bytes:
    """The stream as a chart renders it with openLineage.apiKeySecret: every component references the Secret."""
    proc = olrender("--api-key-secret=team-key", "--namespace=ultraviolet-corona-6870", data=STREAM)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def test_no_source_but_keys_in_the_stream_says_so() -> None:
    """Forgotten --values: the message says the components have their key and points to --values."""
    proc = olrender(data=with_key())
    assert proc.returncode == 2
    message = proc.stderr.decode()
    assert "every agent component already has OPENLINEAGE_API_KEY" in message and "--values" in message
    assert "the secret method needs a key" not in message


def test_no_source_and_no_keys_still_asks_for_a_key() -> None:
    """A stream without keys: the usual message naming the key sources."""
    proc = olrender(data=STREAM)
    assert proc.returncode == 2 and "the secret method needs a key" in proc.stderr.decode()


def test_chart_secret_is_only_verified(tmp_path: Path) -> None:
    """The chart's apiKeySecret path: nothing changes, and the summary says olrender only verified it."""
    (tmp_path / "values.yaml").write_text(
        "openLineage:\n  apiKeySecret: team-key\n  namespace: ultraviolet-corona-6870\n")
    stream = with_key()
    proc = olrender("-f", str(tmp_path / "values.yaml"), "--debug", data=stream)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == stream
    assert "the chart already references the Secret in every component, so olrender only verified it" in \
        proc.stderr.decode()
