"""What a run did, for people and for CI: ``--explain``, ``--emit-patches`` and ``--diff``.

All three read the same run that rendering writes, so they cannot disagree with
the output: ``--emit-patches`` is the plan's operations, which ``verify`` found
the edited text to read as; ``--diff`` compares each changed document's input
text with its verified text (``Result.texts``, the bytes the stream gets), both
with secret values replaced in place and read back again, a side that does not
read back as its redacted reading being withheld rather than shown.
``--emit-patches`` prints the plan as RFC 6902 operations per document;
applying them to the input documents and appending ``added`` gives olrender's
output:

    {"olrender": "0.1.0", "format": "helm3", "method": "secret",
     "documents": [{"index": 12, "apiVersion": "apps/v1", "kind": "Deployment", "namespace": null,
                    "name": "astro-agent-dag-processor",
                    "source": "astro-remote-execution-agent/templates/dag-processor-deployment.yaml",
                    "patch": [{"op": "add", "path": "/spec/template/spec/containers/0/env/-",
                               "value": {"name": "OPENLINEAGE_API_KEY", "valueFrom": {...}}}]}],
     "added": [{"filename": "olrender/openlineage-api-key-secret.yaml",
                "document": {"kind": "Secret", ..., "data": {"api-key": "<redacted>"}}}]}

Secret values never appear: a Secret's ``data``/``stringData`` values and the
literal value of any env variable with a sensitive name (``*KEY*``, ``*TOKEN*``,
``AIRFLOW__OPENLINEAGE__TRANSPORT``, ...) and the password in a URL
(``https://user:<redacted>@host``) become ``<redacted>`` (in a diff,
``<redacted, changed>`` on the side where such a value changed).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping

from jsonpointer import JsonPointer

from postrenderer import __version__
from postrenderer.read import stream
from postrenderer.read.identity import identity
from postrenderer.read.variables import is_sensitive
from postrenderer.read.workloads import pointer
from postrenderer.write import edit

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.inject.plan import WorkloadReport
    from postrenderer.lint.verdict import CheckResult
    from postrenderer.read.analysis import Analysis
    from postrenderer.result import Result

REDACTED = "<redacted>"
CHANGED = "<redacted, changed>"
SECRET_PARTS = ("data", "stringData")
_MISSING: Any = object()
_SOURCE_LINE_RE = re.compile(r"^# Source: (.+?)\s*$")
_URL_PASSWORD_RE = re.compile(r"(://[^/\s:@]+:)[^/\s@]+@")


def _mark(value: Any, other: Any) -> str:
    """The placeholder for a hidden value: says whether it differs from its counterpart."""
    return REDACTED if other is _MISSING or other == value else CHANGED


def _is_secret_env(node: Mapping[str, Any]) -> bool:
    """Whether a mapping is an env entry whose literal value must be hidden."""
    name = node.get("name")
    return isinstance(name, str) and "value" in node and is_sensitive(name)


def _redact(node: Any, other: Any = _MISSING) -> Any:
    """A copy of node with sensitive env values hidden; ``other`` is its counterpart on the old side."""
    if isinstance(node, dict):
        secret_env = _is_secret_env(node)
        out = {}
        for key, value in node.items():
            counterpart = other.get(key, _MISSING) if isinstance(other, dict) else _MISSING
            if secret_env and key == "value":
                out[key] = _mark(value, counterpart)
            else:
                out[key] = _redact(value, counterpart)
        return out
    if isinstance(node, list):
        others = other if isinstance(other, list) else []
        named = {o.get("name"): o for o in others if isinstance(o, dict) and "name" in o}
        items = []
        for i, item in enumerate(node):
            if isinstance(item, dict) and "name" in item:
                counterpart = named.get(item["name"], _MISSING)
            else:
                counterpart = others[i] if i < len(others) else _MISSING
            items.append(_redact(item, counterpart))
        return items
    if isinstance(node, str) and "://" in node:
        return _URL_PASSWORD_RE.sub(rf"\1{REDACTED}@", node)
    return node


def redact_document(doc: Any, other: Any = _MISSING) -> Any:
    """A copy of a document with every secret value replaced (``other``: the same document before)."""
    out = _redact(doc, other)
    if isinstance(out, dict) and out.get("kind") == "Secret":
        for part in SECRET_PARTS:
            values = out.get(part)
            if isinstance(values, dict):
                before = other.get(part) if isinstance(other, dict) else None
                before = before if isinstance(before, dict) else {}
                original = doc[part]
                out[part] = {
                    k: _mark(original[k], before.get(k, _MISSING) if before else _MISSING) for k in values
                }
    return out


def redact_op(op: Mapping[str, Any], doc: Any) -> dict[str, Any]:
    """A copy of an RFC 6902 operation on doc with secret values hidden."""
    out = dict(op)
    if "value" not in out:
        return out
    path = str(out.get("path", ""))
    parts = JsonPointer(path).parts
    if isinstance(doc, dict) and doc.get("kind") == "Secret" and parts and parts[0] in SECRET_PARTS:
        value = out["value"]
        out["value"] = {k: REDACTED for k in value} if len(parts) == 1 and isinstance(value, dict) else REDACTED
        return out
    if parts and parts[-1] == "value":
        parent = JsonPointer.from_parts(parts[:-1]).resolve(doc, None)
        if isinstance(parent, dict) and isinstance(parent.get("name"), str) and is_sensitive(parent["name"]):
            out["value"] = REDACTED
            return out
    out["value"] = _redact(out["value"])
    return out


def source_of(segment: stream.Segment | None, doc: Any) -> str | None:
    """Where Helm says a document came from: its ``# Source:`` line or Helm 4 filename annotation."""
    if segment is not None:
        for line in segment.text.splitlines():
            stripped = line.strip()
            match = _SOURCE_LINE_RE.match(stripped)
            if match:
                return match[1]
            if stripped and not stripped.startswith("#") and not stripped.startswith("---"):
                break
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict) and isinstance(annotations.get(stream.HELM4_FILENAME), str):
        return str(annotations[stream.HELM4_FILENAME])
    return None


def added_document(result: Result, index: int) -> dict[str, Any]:
    """A document olrender adds, exactly as it appears in the output (Helm 4: with its filename annotation)."""
    new = result.plan.new_documents[index]
    doc = copy.deepcopy(new.doc)
    if result.format == "helm4":
        metadata = doc.setdefault("metadata", {})
        metadata.setdefault("annotations", {})[stream.HELM4_FILENAME] = new.filename
    return doc


def patches(result: Result, method: str | None = None, redact: bool = True) -> dict[str, Any]:
    """The ``--emit-patches`` document: RFC 6902 operations per changed document, and added documents."""
    segments = result.segments
    documents = []
    for index in sorted(result.plan.ops):
        doc = result.documents[index]
        ops = result.plan.ops[index]
        documents.append({
            "index": index, **identity(doc).fields(), "source": source_of(segments.get(index), doc),
            "patch": [redact_op(op, doc) for op in ops] if redact else copy.deepcopy(ops),
        })
    added = []
    for i, new in enumerate(result.plan.new_documents):
        doc = added_document(result, i)
        added.append({"filename": new.filename, "document": redact_document(doc) if redact else doc})
    return {"olrender": __version__, "format": result.format, "method": method, "documents": documents,
            "added": added}


def _label(index: int | None, doc: Any) -> str:
    """``document 12, Deployment astro-agent-x`` (with namespace when set) for diff headers."""
    ident = identity(doc)
    name = f"{ident.namespace}/{ident.name}" if ident.namespace else str(ident.name)
    what = f"{ident.kind} {name}"
    return f"document {index}, {what}" if index is not None else f"added, {what}"


def redaction_ops(doc: Any, path: tuple[object, ...] = ()) -> list[dict[str, Any]]:
    """Operations that replace every secret value of a document with ``<redacted>`` (text diffs show no key)."""
    ops: list[dict[str, Any]] = []
    if isinstance(doc, dict):
        if not path and doc.get("kind") == "Secret":
            for part in SECRET_PARTS:
                values = doc.get(part)
                if isinstance(values, dict):
                    ops += [{"op": "replace", "path": pointer(part, k), "value": REDACTED} for k in values]
        secret_env = _is_secret_env(doc)
        for key, value in doc.items():
            if not path and doc.get("kind") == "Secret" and key in SECRET_PARTS:
                continue
            if secret_env and key == "value":
                ops.append({"op": "replace", "path": pointer(*path, key), "value": REDACTED})
            else:
                ops += redaction_ops(value, (*path, key))
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            ops += redaction_ops(item, (*path, i))
    elif isinstance(doc, str) and "://" in doc and _URL_PASSWORD_RE.search(doc):
        ops.append({"op": "replace", "path": pointer(*path), "value": _redact(doc)})
    return ops


def _marked(hide: list[dict[str, Any]], before: Any, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Redaction operations for the new side: a hidden value the plan changed says so (``<redacted, changed>``)."""
    touched = [str(op["path"]) for op in ops]
    marked = []
    for op in hide:
        path = str(op["path"])
        if op["value"] == REDACTED and any(path == p or path.startswith(p + "/") for p in touched):
            old = JsonPointer(path).resolve(before, None)
            if old is not None and not isinstance(old, (dict, list)):
                op = {**op, "value": CHANGED}
        marked.append(op)
    return marked


def _shown(text: str, doc: Any, hide: list[dict[str, Any]], newline: str, side: str) -> str:
    """A document's text with its secret values replaced, read back (else withheld: nothing unverified is shown)."""
    import jsonpatch  # deferred: only --diff needs it

    from postrenderer.write import verify

    try:
        shown = edit.apply(text, hide, newline)
        verify.check(text, shown, jsonpatch.apply_patch(doc, hide, in_place=False))
    except (edit.EditError, ValueError):
        return (f"# (olrender cannot show this document {side}: it holds a secret value it cannot redact in "
                f"place){newline}")
    return shown


def verified_text(result: Result, index: int) -> str:
    """The changed document's text exactly as the stream gets it, read back by ``verify`` (without a BOM)."""
    text, bom = result.texts[index], result.segments[index].bom
    return text if bom < 0 else text[:bom] + text[bom + 1 :]


def diff(result: Result) -> str:
    """A unified diff per changed or added document: the input against the verified output, secrets hidden."""
    import difflib  # deferred: only --diff needs it (start-up time of every render)

    segments = result.segments
    chunks: list[str] = []
    for index in sorted(result.plan.ops):
        segment, before, after = segments[index], result.documents[index], result.patched[index]
        old = _shown(segment.source, before, redaction_ops(before), segment.newline, "as it was")
        hide = _marked(redaction_ops(after), before, result.plan.ops[index])
        new = _shown(verified_text(result, index), after, hide, segment.newline, "as olrender writes it")
        source = source_of(segment, before) or f"document-{index}"
        label = _label(index, before)
        chunks.extend(difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True),
            f"a/{source} ({label})", f"b/{source} ({label})",
        ))
    for i, new_doc in enumerate(result.plan.new_documents):
        doc = added_document(result, i)
        lines = edit.document(redact_document(doc)).splitlines(keepends=True)
        chunks.extend(difflib.unified_diff([], lines, "/dev/null", f"b/{new_doc.filename} ({_label(None, doc)})"))
    return "".join(chunks)


def workload_data(report: WorkloadReport, source: str | None = None,
                  findings: list[Any] | None = None) -> dict[str, Any]:
    """One workload's report as JSON-ready data (``source``: the template Helm names, when known; ``findings``:
    the lint's, when not the report's own)."""
    return {
        "index": report.index, "kind": report.kind, "name": report.name, "namespace": report.namespace,
        "source": source,
        "component": report.component, "reason": report.reason, "role": report.role,
        "container": report.container, "containerReason": report.container_reason,
        "actions": [action.to_dict() for action in report.actions],
        "findings": [finding.to_dict() for finding in (report.findings if findings is None else findings)],
    }


def _messages(texts: list[str]) -> list[dict[str, str]]:
    """Free-text items (conflicts, warnings, policy) as JSON objects whose words are in ``message``."""
    return [{"message": text} for text in texts]


def explain_render(result: Result, method: str | None = None) -> dict[str, Any]:
    """The ``--explain`` report of a render (also of one that failed after planning)."""
    plan = result.plan
    return {
        "olrender": __version__, "mode": "render", "format": result.format, "method": method,
        "components": len(plan.components), "workloads": [
            workload_data(r, source_of(result.segments.get(r.index), result.documents.get(r.index)),
                          result.findings.get((r.index, r.position), []))
            for r in plan.reports],
        "changed": sorted(plan.ops),
        "added": [{"filename": n.filename, **identity(n.doc).fields()} for n in plan.new_documents],
        "conflicts": _messages(plan.conflicts), "warnings": _messages(plan.warnings),
    }


def explain_check(result: CheckResult, analysis: Analysis | None = None) -> dict[str, Any]:
    """The ``--explain`` report of ``--check`` (``analysis``: the stream read, for each document's template)."""
    workloads = []
    for checked in result.workloads:
        index = checked.report.index
        entry = workload_data(checked.report, None if analysis is None else source_of(
            analysis.segments.get(index), analysis.documents.get(index)))
        entry.pop("actions")
        if checked.evaluation is not None:
            entry["ok"] = checked.evaluation.ok
            entry["evaluation"] = checked.evaluation.to_dict()
        workloads.append(entry)
    return {
        "olrender": __version__, "mode": "check", "format": result.format, "ok": result.ok,
        "components": len(result.components), "failing": len(result.failures), "workloads": workloads,
        "policy": _messages(result.policy),
    }


def _place(entry: Mapping[str, Any]) -> str:
    """``document 12 (Deployment/x)`` for a workload entry."""
    return f"document {entry['index']} ({entry['kind']}/{entry['name'] or '?'})"


def explain_text(report: Mapping[str, Any]) -> str:
    """The human-readable form of an explain report."""
    workloads = report["workloads"]
    if report["mode"] == "check":
        head = (
            f"olrender --check ({report['format']} stream): {report['components']} agent component(s) among "
            f"{len(workloads)} workload(s), {report['failing']} failing"
        )
    else:
        head = (
            f"olrender ({report['format']} stream, method {report['method']}): {report['components']} agent "
            f"component(s) among {len(workloads)} workload(s), {len(report['changed'])} document(s) changed, "
            f"{len(report['added'])} added"
        )
    lines = [head]
    for entry in workloads:
        if not entry["component"]:
            lines.append(f"{_place(entry)}: not a component: {entry['reason']}")
            continue
        verdict = "" if "ok" not in entry else " - ok" if entry["ok"] else " - FAILS"
        lines.append(f"{_place(entry)}: component {entry['role']}{verdict}")
        lines.append(f"  why: {entry['reason']}")
        lines.append(f"  container: {entry['container']} ({entry['containerReason']})")
        lines.extend(f"  {action['message']}" for action in entry.get("actions", []))
        evaluation = entry.get("evaluation")
        if evaluation is not None:
            for what in ("key", "url", "namespace"):
                lines.append(f"  {what}: {(evaluation[what] or {}).get('message') or 'MISSING'}")
            lines.extend(f"  note: {note}" for note in evaluation["notes"])
        lines.extend(f"  problem: {finding['message']}" for finding in entry["findings"])
    for added in report.get("added", []):
        lines.append(f"added: {added['filename']} ({added['kind']}/{added['name']})")
    lines.extend(f"conflict: {conflict['message']}" for conflict in report.get("conflicts", []))
    lines.extend(f"policy: {item['message']}" for item in report.get("policy", []))
    return "\n".join(lines) + "\n"
