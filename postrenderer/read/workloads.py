"""Where each workload kind keeps its pod template: one table, no if-chains.

``iter_workloads`` walks one parsed document (and the items of a ``kind: List``)
and yields every pod-template holder with the JSON Pointer of its template, so
that later stages can address it in RFC 6902 operations:

    Deployment  -> /spec/template
    CronJob     -> /spec/jobTemplate/spec/template
    Pod         -> ""            (the pod is its own template)
    List item 2 -> /items/2/spec/template
"""

from __future__ import annotations

from jsonpointer import JsonPointer

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
    "Pod": (),
}

CONTAINER_GROUPS = ("initContainers", "containers")
HOOK_ANNOTATION = "helm.sh/hook"


def pointer(*parts: object) -> str:
    """The RFC 6901 JSON Pointer (``jsonpointer``'s) of path parts: ``pointer("data", "a/b")`` is ``/data/a~1b``."""
    return JsonPointer.from_parts(parts).path


class Workload:
    """A pod-template holder found in a document."""

    __slots__ = ("base", "doc_index", "kind", "metadata", "name", "namespace", "template", "template_path")

    def __init__(
        self, doc_index: int, base: tuple[object, ...], kind: str, name: str | None, namespace: str | None,
        metadata: dict[str, Any], template_path: tuple[object, ...], template: dict[str, Any],
    ) -> None:
        self.doc_index, self.base, self.kind, self.name, self.namespace = doc_index, base, kind, name, namespace
        self.metadata, self.template_path, self.template = metadata, template_path, template

    @property
    def label(self) -> str:
        """``Kind/name`` for messages."""
        return f"{self.kind}/{self.name or '?'}"

    @property
    def pod_spec(self) -> Any:
        """The pod spec mapping (may be missing or malformed)."""
        return self.template.get("spec")

    @property
    def pod_spec_path(self) -> tuple[object, ...]:
        """Path parts of the pod spec inside the document."""
        return (*self.template_path, "spec")

    @property
    def is_hook(self) -> bool:
        """Whether Helm treats this object as a hook."""
        annotations = self.metadata.get("annotations")
        return isinstance(annotations, dict) and HOOK_ANNOTATION in annotations


def containers(pod_spec: Any, groups: tuple[str, ...] = CONTAINER_GROUPS) -> Iterator[dict[str, Any]]:
    """Every container of a pod spec that is a mapping, init containers first (only those of groups)."""
    if not isinstance(pod_spec, dict):
        return
    for group in groups:
        found = pod_spec.get(group)
        for container in found if isinstance(found, list) else ():
            if isinstance(container, dict):
                yield container


def env_entries(container: Any) -> Iterator[dict[str, Any]]:
    """A container's ``env`` entries that are mappings."""
    env = container.get("env") if isinstance(container, dict) else None
    for entry in env if isinstance(env, list) else ():
        if isinstance(entry, dict):
            yield entry


def workload_containers(doc_index: int, doc: Any) -> Iterator[tuple[Workload, dict[str, Any]]]:
    """Every (workload, container) of a document, over the pod-template table and a List's items."""
    for workload in iter_workloads(doc_index, doc):
        for container in containers(workload.pod_spec):
            yield workload, container


def _walk(obj: Any, path: tuple[str, ...]) -> Any:
    """Follow path through nested mappings; None when a step is missing."""
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _workload(doc_index: int, base: tuple[object, ...], obj: Any) -> Workload | None:
    """Return the workload held by obj, if obj is a pod-template holder."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in POD_TEMPLATE_PATHS:
        return None
    path = POD_TEMPLATE_PATHS[kind]
    template = _walk(obj, path) if path else obj
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    name = metadata.get("name")
    namespace = metadata.get("namespace")
    return Workload(
        doc_index=doc_index,
        base=base,
        kind=kind,
        name=name if isinstance(name, str) else None,
        namespace=namespace if isinstance(namespace, str) else None,
        metadata=metadata,
        template_path=(*base, *path),
        template=template if isinstance(template, dict) else {},
    )


def iter_workloads(doc_index: int, doc: Any) -> Iterator[Workload]:
    """Yield the workloads in one document, including the items of a List."""
    if isinstance(doc, dict) and isinstance(doc.get("items"), list) and _is_list(doc):
        for i, item in enumerate(doc["items"]):
            found = _workload(doc_index, ("items", i), item)
            if found:
                yield found
        return
    found = _workload(doc_index, (), doc)
    if found:
        yield found


def _is_list(doc: dict[str, Any]) -> bool:
    """Whether doc is a ``kind: List`` (or a typed ``*List``)."""
    kind = doc.get("kind")
    return isinstance(kind, str) and kind.endswith("List")


def might_hold_workloads(doc: Any) -> bool:
    """Cheap test: could this document hold a workload?"""
    if not isinstance(doc, dict):
        return False
    kind = doc.get("kind")
    return isinstance(kind, str) and kind_may_hold_workloads(kind)


def kind_may_hold_workloads(kind: str) -> bool:
    """Whether documents of this kind can hold workloads (workload kinds and lists)."""
    return kind in POD_TEMPLATE_PATHS or kind.endswith("List")


def outline_paths(kind: str) -> set[tuple[str, ...]]:
    """The key paths ``outline`` keeps of a workload kind's documents."""
    return {("kind",), ("metadata",), (*POD_TEMPLATE_PATHS[kind], "metadata", "labels")}


def outline(doc: Any) -> Any:
    """What discovery reads of a workload that is no component: kind, metadata and each pod template's labels.

    A document with no agent component is kept only as its outline, so that a
    stream's thousands of workloads are never all in memory at once:

        {kind: Deployment, metadata: {...}, spec: {replicas: 2, template: {metadata: {labels: ..., ...}, spec: ...}}}
        -> {kind: Deployment, metadata: {...}, spec: {template: {metadata: {labels: ...}}}}
    """
    if not isinstance(doc, dict):
        return doc
    if isinstance(doc.get("items"), list) and _is_list(doc):
        items = [outline(item) if isinstance(item, dict) else None for item in doc["items"]]
        return {"kind": doc["kind"], "items": items}
    kept = {key: doc[key] for key in ("kind", "metadata") if key in doc}
    kind = doc.get("kind")
    path = POD_TEMPLATE_PATHS.get(kind) if isinstance(kind, str) else None
    if not path:  # not a workload, or a Pod (its own template)
        return kept
    template = _walk(doc, path)
    metadata = template.get("metadata") if isinstance(template, dict) else None
    if isinstance(metadata, dict) and "labels" in metadata:
        node = kept
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = {"metadata": {"labels": metadata["labels"]}}
    return kept
