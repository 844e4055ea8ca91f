"""The post-renderer without I/O: settings and the stream in, the mode's view out (``program``).

    analysis.read (each workload classified once) -> plan.build_plan (RFC 6902) -> lint (findings)
        -> edit.apply (in place) -> verify.check (read back)
        -> the view: the stream, --diff, --emit-patches, --emit-kustomize-patches
    --check: analysis.read -> verdict.evaluate (the same classification, the method's expectations)

Every mode is a view of one ``result.Result``; ``--explain``/``--report`` is one more
view (``explain``), available even when the run then fails (``Result.failure``).
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

from postrenderer.errors import ConflictError, InputError, NoMatchError, OlrenderError, printable, where
from postrenderer.inject.methods import method_for, producers
from postrenderer.inject.plan import build_plan
from postrenderer.read import analysis as reading
from postrenderer.read import stream
from postrenderer.read.discovery import HOOKS_ONLY, hooks_only
from postrenderer.result import Result
from postrenderer.write import edit, verify

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.config.settings import Settings
    from postrenderer.inject.contract import Method, NewDocument

EMPTY_OUTPUT = "# olrender: the chart rendered no manifests\n"
MODES = ("render", "check", "diff", "emit_patches", "emit_kustomize_patches")
SHAREABLE = ("diff", "emit_patches")  # views meant to be shared: the CLI scrubs them of the key


def explain(result: Result) -> dict[str, Any]:
    """The ``--explain``/``--report`` view (of a failed run too)."""
    from postrenderer.write.report import explain_check, explain_render

    if result.check is not None:
        return explain_check(result.check, result.analysis)
    return explain_render(result, result.method.label)


def read(data: bytes, settings: Settings, method: Method, full: bool = False) -> reading.Analysis:
    """The one read of the stream, keeping the objects the method generates or owns (to reuse or refuse them)."""
    generated = set()
    for new in method.documents(None):
        generated |= {(str(new.doc["kind"]), str(new.doc["metadata"]["name"])), *new.owns}
    return reading.read(data, settings.rules, keep=generated, full=full, producers=producers())


def program(data: bytes, settings: Settings, mode: str = "render", forbid_plaintext: bool = False) -> Result:
    """Read, plan (or check), lint and produce the mode's view; a failure after planning is kept in the result."""
    method = method_for(settings.openlineage)
    if mode == "check":
        return check(data, settings, method, forbid_plaintext)
    analysis = read(data, settings, method, full=forbid_plaintext)
    if forbid_plaintext:
        refuse_plaintext(analysis)
    result = Result(analysis, method, mode, build_plan(analysis, settings, method))
    try:
        refuse_failed_plan(result, settings)
        if not result.plan.components and hooks_only([report.reason for report in result.plan.reports]):
            result.notice = HOOKS_ONLY
        if method.lints:
            lint(result, settings)
        edit_documents(result)
        result.parts = view(result, mode, data)
    except OlrenderError as exc:
        result.failure = exc
    return result


def check(data: bytes, settings: Settings, method: Method, forbid_plaintext: bool) -> Result:
    """``--check``: the verdict over the stream as it is, which passes through unchanged."""
    from postrenderer.errors import CheckFailed
    from postrenderer.lint.verdict import evaluate, verdict

    analysis = reading.read(data, settings.rules, full=forbid_plaintext, producers=producers())
    result = Result(analysis, method, "check")
    result.check = evaluate(analysis, settings.rules, method.expected(), forbid_plaintext)
    try:
        result.notice = verdict(result.check, settings.allow_no_match)
    except (CheckFailed, NoMatchError) as exc:
        result.failure = exc
    result.parts = [data if data.strip() else EMPTY_OUTPUT.encode()]
    return result


def refuse_plaintext(analysis: reading.Analysis) -> None:
    """--forbid-plaintext in render modes: no plaintext key in the input."""
    from postrenderer.errors import CheckFailed
    from postrenderer.lint.verdict import plaintext_findings

    found = plaintext_findings(analysis.documents.items())
    if found:
        raise CheckFailed(
            "--forbid-plaintext: the stream holds the OpenLineage key in plain text:\n"
            + "\n".join(f"  - {item}" for item in found)
        )


def refuse_failed_plan(result: Result, settings: Settings) -> None:
    """Conflicts, and a stream without a component (unless --allow-no-match), fail the run."""
    plan, analysis = result.plan, result.analysis
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


def lint(result: Result, settings: Settings) -> None:
    """Lint the components as rendering leaves them: findings by workload, each also a warning."""
    from postrenderer.lint.verdict import lint_rendered

    added = [new.doc for new in result.plan.new_documents]
    result.findings = lint_rendered(result.analysis, result.patched, added, settings.rules)
    for report in result.plan.components:
        for finding in result.findings.get((report.index, report.position), []):
            result.warnings.append(f"{where(report.index, report.kind, report.name)}: {finding}")


def view(result: Result, mode: str, data: bytes) -> list[bytes | memoryview]:
    """The mode's output: the stream, the diff, the patches or the kustomize patches."""
    label = result.method.label
    if mode == "emit_patches":
        import json

        from postrenderer.write.report import patches

        return [(json.dumps(patches(result, label), indent=2) + "\n").encode()]
    if mode == "diff":
        from postrenderer.write.report import diff

        return [diff(result).encode()]
    if mode == "emit_kustomize_patches":  # holds a generated Secret as rendering does
        from postrenderer.write.kustomize import emit

        return [emit(result, label, data).encode()]
    return output(result)


def summary(result: Result) -> list[str]:
    """What a render did, one entry per workload, then the totals (the CLI's info lines)."""
    lines = []
    for report in result.plan.reports:  # one short line each: what, then why and what was done below it
        place = where(report.index, report.kind, report.name)
        if report.component:
            lines.append("\n  ".join([
                f"{place}: component {printable(report.role)}", f"why: {report.reason}",
                f"container: {printable(report.container)} ({report.container_reason})",
                *([str(action) for action in report.actions] or ["nothing to do"]),
            ]))
        else:
            lines.append(f"{place}: skipped\n  why: {report.reason}")
    plan = result.plan
    lines.append(
        f"{len(plan.components)} component(s), {len(plan.ops)} document(s) changed, "
        f"{len(plan.new_documents)} added ({result.format} stream, method {result.method.label})" + (
            ": the chart already references the Secret in every component, so olrender only verified it"
            if result.method.name == "existing-secret" and plan.components and not result.changed else "")
    )
    return lines


def edit_documents(result: Result) -> None:
    """Write each changed document's operations into its own text."""
    for index, ops in result.plan.ops.items():
        segment = result.segments[index]
        try:
            text = edit.apply(segment.source, ops, segment.newline, segment.line)
            if len(text) > stream.MAX_DOCUMENT_BYTES:  # (else a second run would refuse the output)
                raise InputError(
                    f"{stream.place(segment)}: with olrender's changes the document would be "
                    f"{len(text) / 2**20:.2f} MiB, over the {stream.MAX_DOCUMENT_BYTES // 2**20} MiB olrender accepts"
                )
            verify.check(segment.source, text, result.patched[index], segment.line)
            bom = segment.bom
            if bom > 0 and segment.start == 0:  # (after the stream's first --- line: Kubernetes reads it as text)
                verify.readable_bom(segment.text, bom, segment.line)
            result.texts[index] = text if bom < 0 else text[:bom] + "\ufeff" + text[bom:]  # (edits come after it)
        except edit.EditError as exc:
            raise InputError(f"{stream.place(segment)}: {exc}") from None


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
