"""The post-renderer without I/O: bytes in, bytes (and a report) out.

    read (stream.split/parse) -> find components -> plan (RFC 6902) -> apply -> write

Only documents that can hold workloads, and the Secrets/ConfigMaps the method
generates, are parsed into objects and kept; every other document is checked
to be well-formed (by libyaml's parser alone when its text shows its kind
plainly, see ``stream.plain_kind``) and passed through as its original text.
"""

from __future__ import annotations

from postrenderer import stream
from postrenderer.discovery import classify
from postrenderer.errors import ConflictError, NoMatchError
from postrenderer.methods import method_for
from postrenderer.plan import build_plan
from postrenderer.workloads import (
    POD_TEMPLATE_PATHS,
    iter_workloads,
    kind_may_hold_workloads,
    might_hold_workloads,
    outline,
    outline_paths,
)

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from postrenderer.config import Settings
    from postrenderer.methods import Method
    from postrenderer.plan import Plan

EMPTY_OUTPUT = "# olrender: the chart rendered no manifests\n"


class Result:
    """What a run produced: the plan, the kept documents and, for each changed one, the document after it."""

    __slots__ = ("documents", "format", "output", "patched", "plan", "segments", "source")

    def __init__(
        self, plan: Plan, format: str, segments: list[stream.Segment], documents: dict[int, Any], source: bytes,
    ) -> None:
        self.plan, self.format, self.segments, self.documents = plan, format, segments, documents
        self.source = source  # the input, whose bytes untouched documents are written from
        self.patched = patch_documents(documents, plan.ops)
        self.output = b""


def patch_documents(documents: dict[int, Any], ops: dict[int, list[dict[str, Any]]]) -> dict[int, Any]:
    """Each changed document after its operations (copies: the documents themselves stay as read)."""
    if not ops:
        return {}
    import jsonpatch  # deferred: a run that changes nothing (a second run, --check) never loads it

    return {index: jsonpatch.apply_patch(documents[index], doc_ops, in_place=False) for index, doc_ops in ops.items()}


def _interesting(doc: Any, generated: set[tuple[str, str]]) -> bool:
    """Whether a parsed document must be kept for planning."""
    if might_hold_workloads(doc):
        return True
    if not isinstance(doc, dict):
        return False
    name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), dict) else None
    return (str(doc.get("kind")), str(name)) in generated


def _has_component(index: int, doc: Any, settings: Settings) -> bool:
    """Whether any workload of the document is an agent component (classification only)."""
    return any(classify(w, settings.rules)[0] is not None for w in iter_workloads(index, doc))


def _kept(index: int, doc: Any, settings: Settings) -> Any:
    """The document, or only its outline when it holds workloads but no agent component (memory)."""
    if might_hold_workloads(doc) and not _has_component(index, doc, settings):
        return outline(doc)
    return doc


def _read(segment: stream.Segment, kind: str | None, settings: Settings) -> tuple[Any, list[str]]:
    """Parse a document; a plain workload without an agent component is only sketched, to its outline."""
    if kind in POD_TEMPLATE_PATHS:
        sketched = stream.sketch(segment, outline_paths(kind))
        if sketched is not None:
            doc = outline(sketched)
            if not _has_component(segment.index, doc, settings):
                return doc, []  # (duplicate keys only matter in components)
    return stream.parse(segment)


def _needs_objects(kind: str | None, text: str, generated: set[tuple[str, str]], helm4: bool) -> bool:
    """Whether a document must become objects: unsure kind, workloads, maybe generated, maybe the Helm 4 tell."""
    if kind is None or kind_may_hold_workloads(kind):
        return True
    if any(kind == k and (name in text or "\\" in text) for k, name in generated):
        return True  # (a name can only hide from a substring search behind escapes)
    return not helm4 and stream.HELM4_FILENAME in text


def analyse(
    data: bytes, settings: Settings, method: Method | None = None,
    observe: Callable[[Result], None] | None = None,
) -> Result:
    """Read the stream and plan the changes, without applying them.

    ``observe`` sees the result as soon as the plan exists, so that the per-workload
    report (``--explain``) survives a run that then fails on conflicts or no match.
    """
    method = method or method_for(settings.openlineage)
    segments = stream.split(stream.decode(data))  # (the decoded whole is not kept: segments are its copy)
    generated = {
        (str(new.doc["kind"]), str(new.doc["metadata"]["name"])) for new in method.documents(None)
    }
    candidates: list[tuple[int, Any, list[str]]] = []
    helm4 = False
    has_documents = False
    for segment in segments:
        kind = stream.plain_kind(segment.text)
        if not _needs_objects(kind, segment.text, generated, helm4):
            stream.check(segment)  # well-formed is all we need to know: its text passes through
            has_documents = True
            continue
        doc, duplicates = _read(segment, kind, settings)
        if doc is None:
            continue
        has_documents = True
        if not helm4 and isinstance(doc, dict):
            helm4 = stream.detect_format([], [doc]) == "helm4"
        if _interesting(doc, generated):
            candidates.append((segment.index, _kept(segment.index, doc, settings), duplicates))
    fmt = stream.detect_format(segments, [])
    if fmt == "plain" and helm4:
        fmt = "helm4"
    plan = build_plan(candidates, settings, method)
    result = Result(plan, fmt, segments, {i: d for i, d, _ in candidates}, data)
    if observe is not None:
        observe(result)
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
    if settings.openlineage.enabled:
        from postrenderer.check import lint_rendered

        lint_rendered(result, settings.rules)
    return result


def apply(result: Result) -> bytes:
    """Apply the plan and serialise the stream."""
    segments = result.segments
    if not any(s.has_document for s in segments) and not "".join(s.text for s in segments).strip():
        return EMPTY_OUTPUT.encode()
    # ASCII input (the usual case): each run of untouched documents is one slice of the input bytes
    source = memoryview(result.source) if len(result.source) == sum(len(s.text) for s in segments) else None
    parts: list[bytes | memoryview] = []
    last = ""
    end = copied = 0  # copied: where the untouched input not yet in parts begins
    for segment in segments:
        start, end = end, end + len(segment.text)
        ops = result.plan.ops.get(segment.index)
        if not ops:
            if source is None:
                parts.append(segment.text.encode())
            last = segment.text
            continue
        if source is not None:
            parts.append(source[copied:start])
        copied = end
        last = stream.rewrite(segment, result.patched[segment.index])
        parts.append(last.encode())
    if source is not None:
        parts.append(source[copied:end])
    newline = segments[0].newline if segments else "\n"
    for new in result.plan.new_documents:
        if parts and not last.endswith("\n"):
            parts.append(newline.encode())
        last = stream.new_document(new.doc, new.filename, result.format, newline)
        parts.append(last.encode())
    return b"".join(parts)


def render(data: bytes, settings: Settings) -> Result:
    """Run the whole post-renderer on a stream."""
    result = analyse(data, settings)
    result.output = apply(result)
    return result
