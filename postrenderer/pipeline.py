"""The post-renderer without I/O: bytes in, bytes (and a report) out.

    read (stream.split/parse) -> find components -> plan (RFC 6902) -> apply -> write

Only documents that can hold workloads, and the Secrets/ConfigMaps the method
generates, are kept in memory after parsing; every other document is parsed
once to prove it is well-formed and then passed through as its original text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from postrenderer import stream
from postrenderer.config import Settings
from postrenderer.errors import ConflictError, NoMatchError
from postrenderer.methods import Method, method_for
from postrenderer.plan import Plan, build_plan
from postrenderer.workloads import might_hold_workloads

EMPTY_OUTPUT = "# olrender: the chart rendered no manifests\n"


@dataclass
class Result:
    """What a run produced."""

    output: bytes
    plan: Plan
    format: str
    segments: list[stream.Segment] = field(default_factory=list)
    documents: dict[int, Any] = field(default_factory=dict)


def _interesting(doc: Any, generated: set[tuple[str, str]]) -> bool:
    """Whether a parsed document must be kept for planning."""
    if might_hold_workloads(doc):
        return True
    if not isinstance(doc, dict):
        return False
    name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), dict) else None
    return (str(doc.get("kind")), str(name)) in generated


def analyse(data: bytes, settings: Settings, method: Method | None = None) -> Result:
    """Read the stream and plan the changes, without applying them."""
    method = method or method_for(settings.openlineage)
    text = stream.decode(data)
    segments = stream.split(text)
    generated = {
        (str(new.doc["kind"]), str(new.doc["metadata"]["name"])) for new in method.documents(None)
    }
    candidates: list[tuple[int, Any, list[str]]] = []
    helm4 = False
    has_documents = False
    for segment in segments:
        doc, duplicates = stream.parse(segment)
        if doc is None:
            continue
        has_documents = True
        if not helm4 and isinstance(doc, dict):
            helm4 = stream.detect_format([], [doc]) == "helm4"
        if _interesting(doc, generated):
            candidates.append((segment.index, doc, duplicates))
    fmt = stream.detect_format(segments, [])
    if fmt == "plain" and helm4:
        fmt = "helm4"
    plan = build_plan(candidates, settings, method)
    if plan.conflicts:
        raise ConflictError(
            f"{len(plan.conflicts)} conflict(s):\n" + "\n".join(f"  - {c}" for c in plan.conflicts)
        )
    if has_documents and not plan.components and not settings.allow_no_match:
        looked = "; ".join(sorted({r.reason for r in plan.reports})) or "no workloads in the stream"
        raise NoMatchError(
            "no agent component (Worker, DAG processor, Triggerer) found in the stream "
            f"({len(plan.reports)} workload(s) examined: {looked}). "
            "Check --component-selector/--component-name, or pass --allow-no-match"
        )
    return Result(b"", plan, fmt, segments, {i: d for i, d, _ in candidates})


def apply(result: Result) -> bytes:
    """Apply the plan and serialise the stream."""
    import jsonpatch  # deferred: only runs that change something pay for the import

    segments = result.segments
    if not any(s.has_document for s in segments) and not "".join(s.text for s in segments).strip():
        return EMPTY_OUTPUT.encode()
    parts: list[str] = []
    for segment in segments:
        ops = result.plan.ops.get(segment.index)
        if not ops:
            parts.append(segment.text)
            continue
        doc = jsonpatch.apply_patch(result.documents[segment.index], ops, in_place=False)
        parts.append(stream.rewrite(segment, doc))
    newline = segments[0].newline if segments else "\n"
    for new in result.plan.new_documents:
        if parts and not parts[-1].endswith("\n"):
            parts.append(newline)
        parts.append(stream.new_document(new.doc, new.filename, result.format, newline))
    return "".join(parts).encode()


def render(data: bytes, settings: Settings) -> Result:
    """Run the whole post-renderer on a stream."""
    result = analyse(data, settings)
    result.output = apply(result)
    return result
