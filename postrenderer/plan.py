"""Turn injections into RFC 6902 operations, one list per document.

The plan is the single source of truth: rendering applies it, ``--emit-patches``
prints it, ``--check`` inspects it. For a worker whose main container has no
OpenLineage variables yet, the plan holds for example:

    {"op": "add", "path": "/spec/template/spec/containers/0/env/-",
     "value": {"name": "OPENLINEAGE_API_KEY", "valueFrom": {"secretKeyRef": ...}}}

Entries already present with the same value produce no operation (so a second
run changes nothing); a different value is a conflict unless ``--overwrite``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from postrenderer.config import Settings
from postrenderer.discovery import Component, find_component
from postrenderer.errors import InputError, where
from postrenderer.methods import Injection, Method, NewDocument
from postrenderer.workloads import Workload, iter_workloads, pointer

_SENSITIVE = ("KEY", "TOKEN", "SECRET", "PASSWORD")


@dataclass
class WorkloadReport:
    """Why a workload was or was not changed, and what was done to it."""

    index: int
    kind: str
    name: str | None
    namespace: str | None
    component: bool
    reason: str
    role: str | None = None
    container: str | None = None
    container_reason: str | None = None
    actions: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Operations per document index, documents to add, and the report."""

    ops: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    new_documents: list[NewDocument] = field(default_factory=list)
    reports: list[WorkloadReport] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def components(self) -> list[WorkloadReport]:
        """Reports of the workloads treated as components."""
        return [r for r in self.reports if r.component]


def describe(entry: Any) -> str:
    """Describe an env entry without ever showing a sensitive literal value."""
    if not isinstance(entry, dict):
        return repr(entry)
    name = str(entry.get("name", ""))
    if "value" in entry:
        if any(word in name.upper() for word in _SENSITIVE):
            return "a literal value (redacted)"
        return f"value {entry['value']!r}"
    source = entry.get("valueFrom")
    if isinstance(source, dict) and source:
        kind, ref = next(iter(source.items()))
        if isinstance(ref, dict):
            detail = "/".join(str(ref[k]) for k in ("name", "volumeName", "path", "key") if k in ref)
            return f"{kind} {detail}".strip()
        return str(kind)
    return "no value"


def _same(current: Any, wanted: Any) -> bool:
    """Whether an existing list item already says what olrender would write."""
    if isinstance(current, dict) and isinstance(wanted, dict) and wanted.get("name") == "OPENLINEAGE_DISABLED":
        return str(current.get("value", "")).lower() == str(wanted.get("value", "")).lower()
    return bool(current == wanted)


def ensure_items(
    path: tuple[object, ...],
    current: Any,
    wanted: list[dict[str, Any]],
    key: str,
    what: str,
    place: str,
    overwrite: bool,
    report: WorkloadReport,
    conflicts: list[str],
) -> list[dict[str, Any]]:
    """Operations that make the list at path hold each wanted item (matched by key)."""
    if not wanted:
        return []
    if current is None:
        for item in wanted:
            report.actions.append(f"added {what} {item[key]}")
        return [{"op": "add", "path": pointer(*path), "value": [dict(w) for w in wanted]}]
    if not isinstance(current, list):
        raise InputError(f"{place}: {pointer(*path)} must be a list, got {type(current).__name__}")
    ops: list[dict[str, Any]] = []
    for item in wanted:
        matches = [i for i, x in enumerate(current) if isinstance(x, dict) and x.get(key) == item[key]]
        if not matches:
            ops.append({"op": "add", "path": pointer(*path, "-"), "value": dict(item)})
            report.actions.append(f"added {what} {item[key]}")
        elif all(_same(current[i], item) for i in matches):
            report.actions.append(f"kept {what} {item[key]} (already present)")
        elif overwrite:
            ops.append({"op": "replace", "path": pointer(*path, matches[-1]), "value": dict(item)})
            for extra in reversed(matches[:-1]):
                ops.append({"op": "remove", "path": pointer(*path, extra)})
            report.actions.append(f"replaced {what} {item[key]} (--overwrite)")
        else:
            have = describe(current[matches[-1]]) if what == "env" else "a different definition"
            conflicts.append(
                f"{place}, container {report.container!r}: {what} {item[key]} is already set "
                f"({have}); olrender would set {describe(item) if what == 'env' else 'its own'}. "
                "Remove it from the chart values or pass --overwrite"
            )
            report.actions.append(f"conflict on {what} {item[key]}")
    return ops


def ensure_annotations(
    workload: Workload, wanted: dict[str, str], report: WorkloadReport
) -> list[dict[str, Any]]:
    """Operations that put olrender's annotations on the pod template (olrender owns their values)."""
    if not wanted:
        return []
    meta_path = (*workload.template_path, "metadata")
    metadata = workload.template.get("metadata")
    if not isinstance(metadata, dict):
        report.actions.extend(f"added annotation {k}" for k in wanted)
        return [{"op": "add", "path": pointer(*meta_path), "value": {"annotations": dict(wanted)}}]
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        report.actions.extend(f"added annotation {k}" for k in wanted)
        return [{"op": "add", "path": pointer(*meta_path, "annotations"), "value": dict(wanted)}]
    ops = []
    for name, value in wanted.items():
        if annotations.get(name) == value:
            report.actions.append(f"kept annotation {name} (already present)")
            continue
        op = "replace" if name in annotations else "add"
        ops.append({"op": op, "path": pointer(*meta_path, "annotations", name), "value": value})
        report.actions.append(f"{'updated' if op == 'replace' else 'added'} annotation {name}")
    return ops


def plan_component(
    component: Component, injection: Injection, settings: Settings, report: WorkloadReport, conflicts: list[str]
) -> list[dict[str, Any]]:
    """All operations for one component workload."""
    workload = component.workload
    place = where(workload.doc_index, workload.kind, workload.name)
    spec = workload.template["spec"]
    spec_path = workload.pod_spec_path
    container = spec["containers"][component.container_index]
    container_path = (*spec_path, "containers", component.container_index)
    overwrite = settings.overwrite
    ops: list[dict[str, Any]] = []
    ops += ensure_items(
        (*spec_path, "initContainers"), spec.get("initContainers"), injection.init_containers,
        "name", "init container", place, overwrite, report, conflicts,
    )
    ops += ensure_items(
        (*spec_path, "volumes"), spec.get("volumes"), injection.volumes,
        "name", "volume", place, overwrite, report, conflicts,
    )
    ops += ensure_items(
        (*container_path, "volumeMounts"), container.get("volumeMounts"), injection.volume_mounts,
        "mountPath", "volume mount", place, overwrite, report, conflicts,
    )
    ops += ensure_items(
        (*container_path, "env"), container.get("env"), injection.env,
        "name", "env", place, overwrite, report, conflicts,
    )
    ops += ensure_annotations(workload, injection.annotations, report)
    return ops


def _payload(doc: dict[str, Any], secret: bool) -> dict[str, bytes]:
    """The effective key/value content of a Secret or ConfigMap, as bytes."""
    content: dict[str, bytes] = {}
    data = doc.get("data")
    if isinstance(data, dict):
        for k, v in data.items():
            if secret:
                try:
                    content[str(k)] = base64.b64decode(str(v), validate=False)
                except (binascii.Error, ValueError):
                    content[str(k)] = str(v).encode()
            else:
                content[str(k)] = str(v).encode()
    plain = doc.get("stringData") if secret else doc.get("binaryData")
    if isinstance(plain, dict):
        for k, v in plain.items():
            content[str(k)] = str(v).encode()
    return content


def _identity(doc: Any) -> tuple[str, str, str | None] | None:
    """(kind, name, namespace) of a document, when it has them."""
    if not isinstance(doc, dict):
        return None
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(doc.get("kind"), str):
        return None
    namespace = metadata.get("namespace")
    return str(doc["kind"]), str(metadata.get("name")), namespace if isinstance(namespace, str) else None


def plan_documents(
    method: Method,
    namespaces: list[str | None],
    existing: dict[tuple[str, str, str | None], tuple[int, dict[str, Any]]],
    overwrite: bool,
    plan: Plan,
) -> None:
    """Add the method's documents, reusing equal ones already in the stream."""
    for namespace in namespaces:
        for new in method.documents(namespace):
            identity = _identity(new.doc)
            assert identity is not None
            found = existing.get(identity)
            if found is None:
                plan.new_documents.append(new)
                continue
            index, doc = found
            place = where(index, identity[0], identity[1])
            wanted = _payload(new.doc, new.secret)
            have = _payload(doc, new.secret)
            differing = [k for k, v in wanted.items() if have.get(k) != v]
            if not differing:
                continue
            if not overwrite:
                plan.conflicts.append(
                    f"{place}: already in the stream with different content for "
                    f"{', '.join(differing)}; olrender would generate it. Drop it from the chart "
                    "values (e.g. openLineage.apiKey) or pass --overwrite"
                )
                continue
            ops = plan.ops.setdefault(index, [])
            if not isinstance(doc.get("data"), dict):
                ops.append({"op": "add", "path": "/data", "value": {}})
            for k in differing:
                ops.append({"op": "add", "path": pointer("data", k), "value": new.doc["data"][k]})
                for other in ("stringData", "binaryData"):
                    if isinstance(doc.get(other), dict) and k in doc[other]:
                        ops.append({"op": "remove", "path": pointer(other, k)})


def build_plan(
    candidates: list[tuple[int, Any, list[str]]], settings: Settings, method: Method
) -> Plan:
    """Plan every change for the candidate documents (index, document, duplicate keys)."""
    plan = Plan()
    existing: dict[tuple[str, str, str | None], tuple[int, dict[str, Any]]] = {}
    namespaces: list[str | None] = []
    for index, doc, duplicates in candidates:
        identity = _identity(doc)
        if identity and identity[0] in ("Secret", "ConfigMap"):
            existing.setdefault(identity, (index, doc))
        for workload in iter_workloads(index, doc):
            component, reason = find_component(workload, settings.rules)
            report = WorkloadReport(
                index, workload.kind, workload.name, workload.namespace, component is not None, reason
            )
            plan.reports.append(report)
            if component is None:
                continue
            if duplicates:
                raise InputError(
                    f"{where(index, workload.kind, workload.name)}: duplicate mapping keys "
                    f"{', '.join(duplicates)}; olrender would have to drop one of the values"
                )
            report.role = component.role
            report.container = component.container_name
            report.container_reason = component.container_reason
            ops = plan_component(component, method.injection(component), settings, report, plan.conflicts)
            if ops:
                plan.ops.setdefault(index, []).extend(ops)
            if workload.namespace not in namespaces:
                namespaces.append(workload.namespace)
    plan_documents(method, namespaces, existing, settings.overwrite, plan)
    return plan
