"""The bad-input corpus (``fixtures/bad-input``) and the size limits, through the real olrender process.

Every corpus entry must end the way ``fixtures/bad-input/cases.yaml`` says: the
exit code of its class, one error paragraph naming the document and the
problem, the same paragraph in ``--log-file``, nothing on stdout, no traceback
(and, with ``--debug``, the same message besides the traceback), within
CORPUS_SECONDS and CORPUS_MEMORY_MB. Huge inputs are generated here, never
committed; their limits are the ones docs/reliability.md promises.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from postrenderer.read import stream
from tests.hardening import HELM3, ROOT, Measured, component, configmap, many_lines, nested, run_measured

CORPUS = ROOT / "fixtures" / "bad-input"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text())
KEY = "sk-test-hardening-0001"
ENV = {"OPENLINEAGE_API_KEY": KEY}
CORPUS_SECONDS = 10
CORPUS_MEMORY_MB = 200
_STAMP_RE = re.compile(r"^\S+ \[\d+\] ")


def set_up(case: dict[str, Any], folder: Path) -> dict[str, bytes]:
    """Make the entry's files in folder; return the content of each regular one."""
    made: dict[str, bytes] = {}
    for item in case.get("setup", ()):
        path = folder / item["path"]
        if item.get("fifo"):
            os.mkfifo(path)
        elif "symlink" in item:
            path.symlink_to(item["symlink"])
        else:
            content = item["text"].encode() if "text" in item else b"# padding line of a values file\n" * (
                item["bytes"] // 32 + 1)
            made[item["path"]] = content[: item.get("bytes", len(content))]
            path.write_bytes(made[item["path"]])
            path.chmod(item.get("mode", 0o644))
    return made


def run_case(name: str, tmp_path: Path, *extra: str) -> tuple[Measured, str]:
    """Run one corpus entry with a log file; return the run and the log's text (timestamps cut)."""
    case = CASES[name]
    folder = tmp_path / "files"
    folder.mkdir()
    made = set_up(case, folder)
    log = tmp_path / "olrender.log"
    args = ([] if case.get("no-log") else ["--log-file", str(log)]) + [
        arg.replace("{tmp}", str(folder)) for arg in case.get("args", ())]
    args += list(extra)
    if "values" in case:
        args += ["-f", str(CORPUS / case["values"])]
    env: dict[str, str | bytes] = {**ENV, **case.get("env", {})}
    env.update({k: v.encode("latin-1") for k, v in case.get("env-latin1", {}).items()})
    data = (CORPUS / case["input"]).read_bytes() if "input" in case else HELM3
    run = run_measured(args, data, env, cwd=tmp_path)  # type: ignore[arg-type]  # (bytes values: os.fsencode)
    for path in case.get("unchanged", ()):
        assert (folder / path).read_bytes() == made[path], f"{path} was changed"
    for path in case.get("absent", ()):
        assert not (folder / path).exists(), f"{path} was created"
    text = log.read_text() if log.exists() else ""
    return run, "\n".join(_STAMP_RE.sub("", line) for line in text.splitlines())


def error_lines(text: str) -> list[str]:
    """The ``olrender: error:`` lines of stderr or a log."""
    return [line for line in text.splitlines() if line.startswith("olrender: error:")]


def test_corpus_covers_every_file() -> None:
    """Every file in the corpus folder has an entry, every entry's files exist, and the corpus is not empty."""
    named = {case.get(key) for case in CASES.values() for key in ("input", "values")} - {None}
    files = {p.name for p in CORPUS.iterdir()} - {"cases.yaml"}
    assert files == named
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_entry(name: str, tmp_path: Path) -> None:
    """The entry ends with its documented exit code and one clear, logged message; no output on failure."""
    case = CASES[name]
    run, log = run_case(name, tmp_path)
    assert run.returncode == case["exit"], run.text
    assert "Traceback" not in run.text
    assert run.seconds < CORPUS_SECONDS and run.max_rss_mb < CORPUS_MEMORY_MB, (run.seconds, run.max_rss_mb)
    if case["exit"] == 0:
        assert error_lines(run.text) == []
        docs = list(yaml.safe_load_all(run.stdout))
        assert all(isinstance(doc, dict) for doc in docs if doc is not None)
        assert run.stdout.count(b"name: OPENLINEAGE_API_KEY") >= 1
        if "kept" in case:
            segments = stream.split((CORPUS / case["input"]).read_text(encoding="utf-8"))
            for index in case["kept"]:
                assert segments[index - 1].text in run.stdout.decode(), f"document {index} changed"
        if "warning" in case:
            warnings = [line for line in run.text.splitlines() if line.startswith("olrender: warning:")]
            assert any(all(f in line for f in case["warning"]) for line in warnings), run.text
            assert any(all(f in line for f in case["warning"]) for line in log.splitlines())
        return
    assert run.stdout == b"", "nothing on stdout when the run fails"
    (message,) = error_lines(run.text)  # one paragraph
    for fragment in case["message"]:
        assert fragment in message
    if not case.get("no-log"):
        assert message in error_lines(log), "the log file carries the same message"
    assert KEY not in run.text and KEY not in log


@pytest.mark.parametrize("name", sorted(name for name, case in CASES.items() if case["exit"]))
def test_corpus_entry_with_debug(name: str, tmp_path: Path) -> None:
    """With --debug the outcome and message are the same; only a traceback is added."""
    case = CASES[name]
    run, log = run_case(name, tmp_path, "--debug")
    assert run.returncode == case["exit"] and run.stdout == b""
    (message,) = error_lines(run.text)
    assert all(fragment in message for fragment in case["message"])
    assert KEY not in run.text and KEY not in log


# --- sizes ---------------------------------------------------------------------------------------


def test_100_mb_document_is_refused_quickly() -> None:
    """A 100 MB document is over the stream limit: refused after reading 64 MiB, in bounded time and memory."""
    run = run_measured([], HELM3 + configmap("huge", 100_000_000), ENV)
    assert run.returncode == 3 and run.stdout == b""
    assert "the stream is over 64 MiB, olrender's limit" in run.text
    assert run.seconds < 10 and run.max_rss_mb < 300, (run.seconds, run.max_rss_mb)


def test_document_over_the_limit_is_refused() -> None:
    """A document over 16 MiB is refused with its number, naming the document."""
    run = run_measured([], HELM3 + configmap("big", 17 * 2**20), ENV)
    assert run.returncode == 3 and run.stdout == b""
    assert "document 18 (ConfigMap/big) at line" in run.text
    assert "olrender accepts documents up to 16 MiB" in run.text
    assert run.seconds < 10 and run.max_rss_mb < 300, (run.seconds, run.max_rss_mb)


@pytest.mark.parametrize("block", [False, True], ids=["many-keys", "block-scalar"])
def test_largest_document_passes_through(block: bool) -> None:
    """A document just under 16 MiB that olrender does not change comes out byte for byte."""
    big = configmap("big", 16 * 2**20 - 4096, block=block)
    run = run_measured([], big + HELM3, ENV)
    assert run.returncode == 0, run.text
    assert run.stdout.startswith(big)
    assert run.seconds < 20 and run.max_rss_mb < 400, (run.seconds, run.max_rss_mb)


def test_largest_component_is_changed() -> None:
    """An agent component just under 16 MiB (annotations, the costliest shape) still gets its key."""
    run = run_measured([], component(16 * 2**20 - 4096), ENV, timeout=180)
    assert run.returncode == 0, run.text
    assert run.stdout.count(b"name: OPENLINEAGE_API_KEY") == 1
    assert run.seconds < 60 and run.max_rss_mb < 600, (run.seconds, run.max_rss_mb)


def test_500000_line_stream() -> None:
    """A 500,000-line stream is processed in bounded time and memory, everything but the components untouched."""
    data = many_lines(500_000)
    assert data.count(b"\n") == 500_000
    run = run_measured([], data, ENV)
    assert run.returncode == 0, run.text
    assert data[len(HELM3) :] in run.stdout
    assert run.stdout.count(b"name: OPENLINEAGE_API_KEY") == 4
    assert run.seconds < 30 and run.max_rss_mb < 300, (run.seconds, run.max_rss_mb)


# --- nesting -------------------------------------------------------------------------------------


def deep_component(depth: int, flow: bool) -> bytes:
    """An agent component whose container args nest until the whole document is depth levels deep."""
    inner = depth - 6  # mapping, spec, template, spec, containers list, container mapping
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: agent-triggerer\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: triggerer\n          image: agent:1\n"
        f"          args:{' ' + nested(inner) if flow else nested(inner, flow=False)}\n"
    ).encode()


@pytest.mark.parametrize("flow", [True, False], ids=["flow", "block"])
@pytest.mark.parametrize("mode", [[], ["--diff"], ["--emit-patches"], ["--explain"], ["--check"]],
                         ids=["render", "diff", "emit-patches", "explain", "check"])
def test_component_at_the_nesting_limit(flow: bool, mode: list[str]) -> None:
    """A component nested exactly 200 levels deep works in every mode; one level more is refused."""
    at_limit = deep_component(stream.MAX_DEPTH, flow)
    assert stream.parse(stream.split(at_limit.decode())[0])  # the helper really builds 200 levels
    run = run_measured(mode, at_limit, ENV)
    assert run.returncode in (0, 6), run.text  # --check: 6, the component has no key yet
    assert "Traceback" not in run.text and "internal error" not in run.text
    over = run_measured(mode, deep_component(stream.MAX_DEPTH + 1, flow), ENV)
    assert over.returncode == 3 and over.stdout == b""
    assert "nested more than 200 levels deep" in over.text


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_never_crashes(depth: int) -> None:
    """Nesting that would overflow libyaml's recursive composer is refused before it gets there."""
    doc = configmap("deep", 200).decode() + "  deep: " + nested(depth) + "\n"
    run = run_measured([], HELM3 + doc.encode(), ENV)
    assert run.returncode == 3, run.text
    assert "nested more than 200 levels deep" in run.text
