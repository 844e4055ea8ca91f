"""The post-renderer without I/O: bytes in, bytes (and a report) out.

    analysis.read -> plan.build_plan (RFC 6902) -> edit.apply (in place) -> verify.check -> the stream

Documents the plan does not touch are copied from the input bytes; a changed
document is its own text with the plan's operations spliced in
(``edit.apply``), and is read back before anything is written: olrender's
Kubernetes-faithful reader must find exactly the input's reading plus the
planned operations (``verify.check``), else the run fails with exit 3 naming
the document and the line. ``--emit-patches`` and ``--diff`` describe these
verified operations. The documents the method adds are appended with
provenance in the stream's own format.
"""

from __future__ import annotations

from postrenderer.errors import ConflictError, InputError, NoMatchError
from postrenderer.inject.methods import method_for
from postrenderer.inject.plan import build_plan
from postrenderer.read import analysis as reading
from postrenderer.read import stream
from postrenderer.read.discovery import hooks_only
from postrenderer.write import edit, verify

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from postrenderer.config.settings import Settings
    from postrenderer.inject.methods import Method, NewDocument
    from postrenderer.inject.plan import Plan

EMPTY_OUTPUT = "# olrender: the chart rendered no manifests\n"


class Result:
    """What a run produced: the analysis, the plan and, for each changed document, its data and text after it."""

    __slots__ = ("analysis", "output", "patched", "plan", "texts")

    def __init__(self, analysis: reading.Analysis, plan: Plan) -> None:
        self.analysis, self.plan = analysis, plan
        self.patched = patch_documents(analysis.documents, plan.ops)
        self.texts: dict[int, str] = {}  # changed documents' text (set by edit_documents)
        self.output = b""

    @property
    def format(self) -> str:
        """helm3, helm4 or plain."""
        return self.analysis.format

    @property
    def segments(self) -> dict[int, stream.Segment]:
        """The kept documents' segments, by index."""
        return self.analysis.segments

    @property
    def documents(self) -> dict[int, Any]:
        """The documents kept by the analysis, as read."""
        return self.analysis.documents


def patch_documents(documents: dict[int, Any], ops: dict[int, list[dict[str, Any]]]) -> dict[int, Any]:
    """Each changed document after its operations, as data (the documents themselves stay as read)."""
    if not ops:
        return {}
    import jsonpatch  # deferred: a run that changes nothing (a second run, --check) never loads it

    return {
        index: jsonpatch.apply_patch(_copied_along(documents[index], doc_ops), doc_ops, in_place=True)
        for index, doc_ops in ops.items()
    }


def _copied_along(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """A copy of doc in which every mapping and list the operations go through is new (the rest is shared)."""
    copied: dict[int, Any] = {}

    def fresh(node: Any) -> Any:
        known = copied.get(id(node))
        if known is None:
            known = copied[id(node)] = dict(node) if isinstance(node, dict) else list(node)
            copied[id(known)] = known
        return known

    root = fresh(doc)
    for op in ops:
        node = root
        for raw in str(op["path"]).split("/")[1:-1]:
            part: Any = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                part = int(part) if part.isdigit() and int(part) < len(node) else None
            elif not isinstance(node, dict) or part not in node:
                part = None
            child = None if part is None else node[part]
            if not isinstance(child, (dict, list)):
                break
            node[part] = node = fresh(child)
    return root


def read(data: bytes, settings: Settings, method: Method, full: bool = False) -> reading.Analysis:
    """The one read of the stream, keeping the objects the method generates (to reuse or overwrite them)."""
    generated = {(str(new.doc["kind"]), str(new.doc["metadata"]["name"])) for new in method.documents(None)}
    return reading.read(data, settings.rules, keep=generated, full=full)


def analyse(
    data: bytes, settings: Settings, method: Method | None = None,
    observe: Callable[[Result], None] | None = None, analysis: reading.Analysis | None = None,
) -> Result:
    """Read the stream (unless already read) and plan the changes, without applying them.

    ``observe`` sees the result as soon as the plan exists, so that the per-workload
    report (``--explain``) survives a run that then fails on conflicts or no match.
    """
    method = method or method_for(settings.openlineage)
    if analysis is None:
        analysis = read(data, settings, method)
    candidates = [(i, doc, analysis.duplicates.get(i, [])) for i, doc in analysis.documents.items()]
    plan = build_plan(candidates, settings, method)
    result = Result(analysis, plan)
    if observe is not None:
        observe(result)
    if plan.conflicts:
        raise ConflictError(
            f"{len(plan.conflicts)} conflict(s):\n" + "\n".join(f"  - {c}" for c in plan.conflicts)
        )
    if analysis.has_documents and not plan.components and not settings.allow_no_match and not hooks_only(
            [report.reason for report in plan.reports]):
        looked = "; ".join(sorted({r.reason for r in plan.reports})) or "no workloads in the stream"
        raise NoMatchError(
            "no agent component (Worker, DAG processor, Triggerer) found in the stream "
            f"({len(plan.reports)} workload(s) examined: {looked}). "
            "Check --component-selector/--component-name, or pass --allow-no-match"
        )
    if settings.openlineage.enabled:
        from postrenderer.lint.verdict import lint_rendered

        lint_rendered(analysis, plan, result.patched, [new.doc for new in plan.new_documents], settings.rules)
    edit_documents(result)
    return result


def edit_documents(result: Result) -> None:
    """Write each changed document's operations into its own text."""
    for index, ops in result.plan.ops.items():
        segment = result.segments[index]
        try:
            text = edit.apply(segment.source, ops, segment.newline, segment.line)
            verify.check(segment.source, text, result.patched[index], segment.line)
            bom = segment.bom
            result.texts[index] = text if bom < 0 else text[:bom] + "\ufeff" + text[bom:]  # (edits come after it)
        except edit.EditError as exc:
            raise InputError(f"{stream.place(segment)}: {exc}") from None
        if len(result.texts[index]) > stream.MAX_DOCUMENT_BYTES:  # (else a second run would refuse the output)
            raise InputError(
                f"{stream.place(segment)}: with olrender's changes the document would be "
                f"{len(result.texts[index]) / 2**20:.2f} MiB, over the {stream.MAX_DOCUMENT_BYTES // 2**20} MiB "
                "olrender accepts"
            )


def new_document(new: NewDocument, fmt: str, newline: str = "\n") -> str:
    """A document olrender adds, with provenance that fits the stream's format."""
    doc = new.doc
    if fmt == "helm4":
        metadata = dict(doc.get("metadata") or {})
        metadata["annotations"] = {**(metadata.get("annotations") or {}), stream.HELM4_FILENAME: new.filename}
        doc = {**doc, "metadata": metadata}
    head = f"---{newline}# Source: {new.filename}{newline}" if fmt == "helm3" else f"---{newline}"
    return head + edit.document(doc, newline)


def output(result: Result) -> list[bytes | memoryview]:
    """The output stream in parts: untouched input bytes, edited documents, new documents (joined: the stream)."""
    analysis = result.analysis
    if not analysis.has_documents and not analysis.source.strip():
        return [EMPTY_OUTPUT.encode()]
    source = memoryview(analysis.source)
    parts: list[bytes | memoryview] = []
    copied = 0  # where the input not yet in parts begins
    for index, text in sorted(result.texts.items()):
        segment = result.segments[index]
        parts += [source[copied : segment.start], text.encode()]
        copied = segment.start + segment.size
    parts.append(source[copied:])
    newline = analysis.newline
    for new in result.plan.new_documents:
        last = next((part for part in reversed(parts) if len(part)), b"")
        if last and bytes(last[-1:]) != b"\n":
            parts.append(newline.encode())
        parts.append(new_document(new, result.format, newline).encode())
    return parts


def apply(result: Result) -> bytes:
    """The output stream."""
    return b"".join(output(result))


def render(data: bytes, settings: Settings) -> Result:
    """Run the whole post-renderer on a stream."""
    result = analyse(data, settings)
    result.output = apply(result)
    return result
