"""Tests for the benchmark streams (tests/benchmarks/streams.py) and the fast path they exercise.

The fast path (``stream.plain_kind`` + ``stream.check`` for documents that
cannot matter, ``stream.sketch`` for workloads without a component,
``stream.plain_yaml`` + the direct builder for plain ones) must give exactly
what a full parse of every document gives. No timings here: the
speed goals live in ``python -m tests.benchmarks.run``.
"""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from postrenderer.config.settings import ApiKey, OpenLineageConfig, Settings
from postrenderer.read import stream
from postrenderer.write import report
from tests import programs
from tests.benchmarks import run, streams

SETTINGS = Settings(openlineage=OpenLineageConfig(
    api_key=ApiKey("sk-test-bench-0001"), url="https://o11y.astronomer.io", namespace="ultraviolet-corona-6870",
    endpoint="/api/v1/lineage?ASTRO_DEPLOYMENT_ID=cm1example"))


@pytest.fixture(scope="module")
def medium() -> bytes:
    """The M stream (1,000 documents)."""
    return streams.stream("M")


def full_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the fast path off: every document is parsed and built by PyYAML's constructor."""
    monkeypatch.setattr(stream, "plain_kind", lambda text: None)
    monkeypatch.setattr(stream, "plain_yaml", lambda text: False)
    monkeypatch.setattr(stream, "sketch", lambda segment, paths: None)


def first_difference(a: bytes, b: bytes) -> int | None:
    """The offset where two outputs first differ (None if equal): a short failure message."""
    if a == b:
        return None
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def test_generator_is_deterministic_and_sized(medium: bytes) -> None:
    """Same bytes every time; 1,000 documents, 4 agent components, unique identities (kustomize needs them)."""
    assert first_difference(streams.generate(1_000), medium) is None
    docs = list(yaml.safe_load_all(medium))
    assert len(docs) == streams.document_count(medium) == 1_000
    assert Counter(d["kind"] for d in docs) == {"Deployment": 336, "ConfigMap": 332, "Service": 332}
    agents = [d for d in docs if d["metadata"].get("labels", {}).get("app") == "astro-agent"]
    assert len(agents) == streams.expected_components("M") == 4
    identities = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    assert len(set(identities)) == len(identities)


def test_generated_stream_sizes() -> None:
    """L is 10,000 documents of about 7 MB with 40 components; S is the fixture chart's output."""
    large = streams.generate(10_000)
    assert 6_500_000 < len(large) < 8_000_000
    assert large.count(b"\n---\n") + 1 == 10_000
    assert large.count(b"app: astro-agent") == 3 * streams.components(10_000) == 120  # 3 label sets each
    assert streams.stream("S") == streams.FIXTURE_STREAM.read_bytes()
    assert streams.document_count(streams.stream("S")) == 17


def test_workload_heavy_streams() -> None:
    """WM and WL: half Deployments with ten env entries each, 36 agent components whatever the size."""
    wm = streams.stream("WM")
    docs = list(yaml.safe_load_all(wm))
    assert len(docs) == streams.document_count(wm) == 1_000
    kinds = Counter(d["kind"] for d in docs)
    assert kinds["Deployment"] == 518 and kinds["ConfigMap"] + kinds["Service"] == 482
    busy = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].startswith("app-")]
    assert all(len(d["spec"]["template"]["spec"]["containers"][0]["env"]) == 11 for d in busy)
    assert streams.expected_components("WM") == streams.expected_components("WL") == 36
    assert streams.document_count(streams.stream("WL")) == 10_000
    identities = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    assert len(set(identities)) == len(identities), "kustomize needs unique objects"
    result = programs.render(wm, SETTINGS)
    assert result.output.count(b"name: OPENLINEAGE_API_KEY") == 36


def test_fast_path_matches_full_parse_on_m(medium: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Output, changes and per-workload reports are the same with and without the fast path."""
    fast = programs.render(medium, SETTINGS)
    assert fast.output.count(b"name: OPENLINEAGE_API_KEY") == 4
    with monkeypatch.context() as patched:
        full_parse(patched)
        full = programs.render(medium, SETTINGS)
    assert first_difference(fast.output, full.output) is None
    assert fast.plan.ops == full.plan.ops
    assert [report.workload_data(r) for r in fast.plan.reports] == [report.workload_data(r) for r in full.plan.reports]
    assert fast.format == full.format == "helm3"


def test_direct_builder_matches_constructor_on_m(medium: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document of M builds to the same objects (types included) either way."""
    segments = stream.split(medium.decode())
    fast = [stream.parse(s) for s in segments]
    with monkeypatch.context() as patched:
        full_parse(patched)
        full = [stream.parse(s) for s in segments]
    assert sum(stream.plain_yaml(s.text) for s in segments) == 1_000
    assert [s.index for s, a, b in zip(segments, fast, full, strict=True) if repr(a) != repr(b)] == []


def test_m_passes_through_and_is_idempotent(medium: bytes) -> None:
    """Untouched documents are byte-identical; a second run changes nothing."""
    result = programs.render(medium, SETTINGS)
    before = stream.split(medium.decode())
    after = {s.text for s in stream.split(result.output.decode())}
    untouched = [s for s in before if s.index not in result.plan.ops]
    assert len(untouched) == 996
    assert all(s.text in after for s in untouched)
    assert programs.render(result.output, SETTINGS).output == result.output


def test_only_components_are_kept_whole(medium: bytes) -> None:
    """Components are kept whole; M's other 332 workloads are classified unread (their text rules them out)."""
    result = programs.render(medium, SETTINGS)
    whole = [i for i, d in result.documents.items() if "containers" in str(d)]
    assert sorted(whole) == sorted(r.index for r in result.plan.components) == sorted(result.documents)
    classified = [known for found in result.analysis.classified.values() for known in found]
    assert len(classified) == 336 and sum(known.workload is None for known in classified) == 332


def test_benchmark_verdicts() -> None:
    """Ratios of medians against each limit; a stream not run leaves its targets unmet."""
    def timed(label: str, *times: float, rss: float = 20.0) -> run.Command:
        return run.Command(label, [], times=list(times), rss=[rss] * len(times))

    plan = {
        "S": [timed("olrender", 0.10, 0.12, 0.5), timed("kustomize", 0.11, 0.12, 0.13),
              timed("start-up floor", 0.1, 0.1, 0.1)],
        "M": [timed("olrender", 0.3), timed("kustomize", 3.0)],
        "L": [timed("olrender", 2.0, rss=61.0), timed("libyaml round-trip", 4.0)],
        "DM": [timed("olrender", 0.3), timed("kustomize", 2.0)],
        "DL": [timed("olrender", 2.1, rss=50.0), timed("libyaml event parse", 1.0)],
    }
    verdicts = run.evaluate(plan)
    assert [round(v.measured, 2) for v in verdicts if v.measured is not None] == [
        1.0, 1.2, 0.1, 0.5, 61.0, 6.67, 0.15, 2.1, 50.0]
    assert [v.met for v in verdicts] == [False, True, True, True, False, True, False, False, False, False, False, True]
    facts = {n: {"bytes": 1, "documents": 1, "components": 1} for n in plan}
    text = run.report(plan, facts, verdicts)
    assert "L: olrender peak RSS" in text and "NOT MET" in text
    assert text.endswith("4 of 12 targets not met, 3 not measured")
    assert not any(v.met for v in run.evaluate({"S": plan["S"]})[2:])


def test_deployment_heavy_streams() -> None:
    """DM and DL: every other document a Deployment of about 1 KB with ten env entries, one in fifty a component."""
    dm = streams.stream("DM")
    docs = list(yaml.safe_load_all(dm))
    assert len(docs) == streams.document_count(dm) == 1_000
    assert Counter(d["kind"] for d in docs) == {"Deployment": 500, "ConfigMap": 250, "Service": 250}
    apps = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].startswith("svc-")]
    assert len(apps) == 490 and all(len(d["spec"]["template"]["spec"]["containers"][0]["env"]) == 10 for d in apps)
    sizes = [len(text) for text in dm.split(b"\n---\n") if b"\nkind: Deployment\n" in text and b"svc-" in text]
    assert min(sizes) > 900 and max(sizes) < 1_100  # about 1 KB each
    agents = [d for d in docs if d["metadata"].get("labels", {}).get("app") == "astro-agent"]
    assert len(agents) == streams.expected_components("DM") == 10
    identities = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    assert len(set(identities)) == len(identities)
    dl = streams.stream("DL")
    assert streams.document_count(dl) == 10_000 and streams.expected_components("DL") == 100
    assert dl.count(b"app: astro-agent") == 3 * 100  # 3 label sets each


def test_deployment_heavy_render_finds_every_component() -> None:
    """On DM olrender gives each component its key, and the sketched Deployments pass through byte for byte."""
    dm = streams.stream("DM")
    out = programs.render(dm, SETTINGS).output
    assert out.count(b"name: OPENLINEAGE_API_KEY") == streams.expected_components("DM")
    untouched = [part for part in dm.split(b"\n---\n") if b"svc-" in part and b"kind: Deployment" in part]
    assert all(part in out for part in untouched)
