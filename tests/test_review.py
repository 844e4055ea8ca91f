"""--report-format markdown and github: golden outputs for the sample streams, GitHub's escaping, no key.

The goldens in fixtures/review/ were reviewed by hand: a table per agent component
with its template, and one ``::error`` per ``--check`` finding placed on the template
Helm names (a render without findings gives no annotation at all). Regenerate with
OLRENDER_UPDATE_GOLDEN=1 and review the difference before committing it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postrenderer.write.review import escape_data, escape_property, github
from tests.hardening import clean_env

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "fixtures" / "review"
STREAMS = ROOT / "fixtures" / "streams"
KEY = "sk-test-review-0001"
RUNS = {  # golden name: (arguments, stream)
    "check-helm3": (["--check"], "helm3.yaml"),
    "check-helm4": (["--check"], "helm4.yaml"),
    "render-helm3": (["--values", str(ROOT / "fixtures" / "sample" / "values.yaml")], "helm3.yaml"),
}


def report(args: list[str], data: bytes, fmt: str, tmp_path: Path, env: dict[str, str] | None = None) -> str:
    """The --report FILE olrender writes in one format."""
    out = tmp_path / f"report.{fmt}"
    subprocess.run([sys.executable, "-m", "postrenderer", *args, "--report", str(out), "--report-format", fmt],
                   input=data, capture_output=True, env=clean_env({"OPENLINEAGE_API_KEY": KEY, **(env or {})}),
                   timeout=60, check=False)
    return out.read_text()


@pytest.mark.parametrize("fmt", ["markdown", "github"])
@pytest.mark.parametrize("name", list(RUNS))
def test_golden(name: str, fmt: str, tmp_path: Path) -> None:
    """Each sample stream's report is the reviewed one."""
    args, stream = RUNS[name]
    got = report(args, (STREAMS / stream).read_bytes(), fmt, tmp_path)
    golden = GOLDEN / f"{name}.{'md' if fmt == 'markdown' else 'txt'}"
    if os.environ.get("OLRENDER_UPDATE_GOLDEN"):
        golden.write_text(got)
        pytest.skip("golden updated: review the difference")
    assert got == golden.read_text()


def test_goldens_are_not_trivial() -> None:
    """A guard: the goldens hold a table per component and an annotation per failing component."""
    assert (GOLDEN / "check-helm3.md").read_text().count("| component | container |") == 4
    assert (GOLDEN / "check-helm3.txt").read_text().count("::error file=astro-remote-execution-agent/") == 4


def unescape(text: str, prop: bool) -> str:
    """What GitHub's runner reads back (ActionCommand: %3A and %2C in properties, then %0D, %0A, %25)."""
    pairs = [("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n")] if prop else [("%0D", "\r"), ("%0A", "\n")]
    for escaped, plain in pairs:
        text = text.replace(escaped, plain)
    return text.replace("%25", "%")


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as the runner splits it: ``::name k=v,k=v::data``."""
    match = re.fullmatch(r"::(\w+) ([^:]*)::(.*)", line)
    assert match, line
    props = dict(item.split("=", 1) for item in match[2].split(","))
    return match[1], {k: unescape(v, True) for k, v in props.items()}, unescape(match[3], False)


@given(message=st.text(), name=st.text(), source=st.text(min_size=1), code=st.text(min_size=1))
def test_annotations_survive_any_text(message: str, name: str, source: str, code: str) -> None:
    """Whatever the message, template or names hold (%, CR, LF, ':' and ','), one line per finding reads back."""
    data = {"mode": "check", "workloads": [{"index": 3, "kind": "Deployment", "name": name, "source": source,
                                             "findings": [{"code": code, "message": message}]}]}
    text = github(data)
    assert text.count("\n") == 1 and "\r" not in text
    level, props, got = parse(text.rstrip("\n"))
    assert (level, got, props["file"]) == ("error", message, source)
    assert props["title"] == f"olrender {code} (document 3, Deployment/{name or '?'})"


def test_escaping_follows_github() -> None:
    """The documented escapes, by example."""
    assert escape_data("100%\r\nx: y, z") == "100%25%0D%0Ax: y, z"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


@pytest.mark.parametrize("fmt", ["markdown", "github"])
def test_a_key_quoted_in_a_finding_is_scrubbed(fmt: str, tmp_path: Path) -> None:
    """A finding that quotes a value holding the key (url-mismatch) shows it scrubbed, like every other channel."""
    stream = (STREAMS / "helm3.yaml").read_bytes().replace(
        b'value: "https://o11y.astronomer.io"', f'value: "https://{KEY}@o11y.example"'.encode(), 1)
    assert KEY.encode() in stream
    text = report(["--check", "--url", "https://o11y.astronomer.io"], stream, fmt, tmp_path)
    assert "url-mismatch" in text and "o11y.example" in text
    assert KEY not in text
