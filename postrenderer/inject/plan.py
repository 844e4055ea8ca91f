"""Turn injections into RFC 6902 operations, one list per document.

The plan is the single source of truth: rendering applies it, ``--emit-patches``
prints it, ``--check`` inspects it. For a worker whose main container has no
OpenLineage variables yet, the plan holds for example:

    {"op": "add", "path": "/spec/template/spec/containers/0/env/-",
     "value": {"name": "OPENLINEAGE_API_KEY", "valueFrom": {"secretKeyRef": ...}}}

Entries already present with the same value produce no operation (so a second
run changes nothing); a different value is a conflict unless ``--overwrite``, or
unless the method marks that item repairable (the vault method's fixes to the
vendor's example), which replaces or removes it with a warning. The
``--restart-on-change`` annotations (``inject.rotation``) join each component's
injection: checksums on the pod template, Reloader's on the workload's metadata.
The documents a method adds are reconciled with the stream's in ``inject.documents``.
"""

from __future__ import annotations

from postrenderer.errors import InputError, where
from postrenderer.inject.documents import plan_documents
from postrenderer.inject.rotation import annotation_ops, rotation
from postrenderer.read.identity import identity as document_identity
from postrenderer.read.variables import CLIENT_DISABLED_VAR, is_sensitive
from postrenderer.read.workloads import pointer

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from postrenderer.config.settings import Settings
    from postrenderer.inject.contract import Injection, Method, NewDocument, Repairable
    from postrenderer.read.analysis import Analysis, Classified
    from postrenderer.read.discovery import Component
    from postrenderer.read.workloads import Workload


class Action:
    """One thing done to a workload, as data: ``Action("added", "env", "OPENLINEAGE_API_KEY")``."""

    __slots__ = ("name", "note", "verb", "what")

    def __init__(self, verb: str, what: str, name: object, note: str | None = None) -> None:
        self.verb, self.what, self.name, self.note = verb, what, str(name), note

    def __str__(self) -> str:
        """The action in words: ``kept env OPENLINEAGE_URL (already present)``."""
        verb = "conflict on" if self.verb == "conflict" else self.verb
        return f"{verb} {self.what} {self.name}" + (f" ({self.note})" if self.note else "")

    def to_dict(self) -> dict[str, str]:
        """The action as JSON-ready data, its words in ``message``."""
        return {"action": self.verb, "what": self.what, "name": self.name, "message": str(self)}


class WorkloadReport:
    """Why a workload was or was not changed, and what was done to it; where it is comes from its classification."""

    __slots__ = ("actions", "container", "container_reason", "findings", "index", "known", "role")

    def __init__(self, index: int, known: Classified) -> None:
        """known: the workload as the analysis classified it (its name is read only when a report shows it)."""
        self.index, self.known = index, known
        self.role: str | None = None
        self.container: str | None = None
        self.container_reason: str | None = None
        self.actions: list[Action] = []
        self.findings: list[Any] = []  # lint.Finding objects (their str() is the message)

    @property
    def kind(self) -> str:
        """The workload's kind."""
        return self.known.kind

    @property
    def name(self) -> str | None:
        """Its name (None: it has none)."""
        return self.known.name

    @property
    def namespace(self) -> str | None:
        """Its namespace (None: not set)."""
        return self.known.namespace

    @property
    def position(self) -> int:
        """Its place among its document's workloads (a List holds several)."""
        return self.known.position

    @property
    def reason(self) -> str:
        """Why it is, or is not, a component."""
        return self.known.reason

    @property
    def component(self) -> bool:
        """Whether it is an agent component."""
        return self.known.role is not None


class Plan:
    """Operations per document index, documents to add, and the report."""

    __slots__ = ("conflicts", "new_documents", "ops", "reports", "warnings")

    def __init__(self) -> None:
        self.ops: dict[int, list[dict[str, Any]]] = {}
        self.new_documents: list[NewDocument] = []
        self.reports: list[WorkloadReport] = []
        self.conflicts: list[str] = []
        self.warnings: list[str] = []

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
        if is_sensitive(name):
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
    if isinstance(current, dict) and isinstance(wanted, dict) and wanted.get("name") == CLIENT_DISABLED_VAR:
        return str(current.get("value", "")).lower() == str(wanted.get("value", "")).lower()
    return bool(current == wanted)


def _repaired_away(
    current: list[Any], wanted_keys: set[Any], key: str, what: str, repair: Callable[[int], str | None],
    report: WorkloadReport, warnings: list[str] | None, subject: str,
) -> set[int]:
    """Indexes of items olrender wants none of and may remove as repairs (each a warning)."""
    removals = set()
    for i, existing in enumerate(current):
        if isinstance(existing, dict) and existing.get(key) not in wanted_keys and (reason := repair(i)):
            removals.add(i)
            report.actions.append(Action("removed", what, existing.get(key)))
            if warnings is not None:
                warnings.append(f"{subject}: removed {what} {existing.get(key)}: {reason}")
    return removals


def ensure_items(
    path: tuple[object, ...], current: Any, wanted: list[dict[str, Any]], key: str, what: str, place: str,
    overwrite: bool, report: WorkloadReport, conflicts: list[str], repairable: Repairable | None = None,
    warnings: list[str] | None = None, removals: set[int] | None = None,
) -> list[dict[str, Any]]:
    """Operations that make the list at path hold each wanted item (matched by key).

    ``repairable`` names existing items olrender may replace (or, when it wants
    no item with that key, remove) without ``--overwrite``; each repair becomes
    a warning. Operations come as replacements, then removals in descending
    index order, then appends, so that every index is valid when applied.
    """
    removals = set(removals or ())  # (indexes of items the caller removes: see foreign_env)
    if not wanted and repairable is None and not removals:
        return []
    if current is None:
        for item in wanted:
            report.actions.append(Action("added", what, item[key]))
        return [{"op": "add", "path": pointer(*path), "value": [dict(w) for w in wanted]}] if wanted else []
    if not isinstance(current, list):
        raise InputError(f"{place}: {pointer(*path)} must be a list, got {type(current).__name__}")
    replaces: list[dict[str, Any]] = []
    appends: list[dict[str, Any]] = []
    subject = f"{place}, container {report.container!r}" if what in ("env", "volume mount") else place

    def repair(index: int) -> str | None:
        item = current[index]
        return repairable(what, item) if repairable is not None and isinstance(item, dict) else None

    for item in wanted:
        matches = [i for i, x in enumerate(current) if isinstance(x, dict) and x.get(key) == item[key]]
        if not matches:
            appends.append({"op": "add", "path": pointer(*path, "-"), "value": dict(item)})
            report.actions.append(Action("added", what, item[key]))
        elif all(_same(current[i], item) for i in matches):
            report.actions.append(Action("kept", what, item[key], "already present"))
        elif overwrite or all(repair(i) for i in matches):
            replaces.append({"op": "replace", "path": pointer(*path, matches[-1]), "value": dict(item)})
            removals.update(matches[:-1])
            if overwrite:
                report.actions.append(Action("replaced", what, item[key], "--overwrite"))
            else:
                report.actions.append(Action("repaired", what, item[key]))
                if warnings is not None:
                    warnings.append(f"{subject}: replaced {what} {item[key]}: {repair(matches[-1])}")
        else:
            have = describe(current[matches[-1]]) if what == "env" else "a different definition"
            conflicts.append(
                f"{place}, container {report.container!r}: {what} {item[key]} is already set "
                f"({have}); olrender would set {describe(item) if what == 'env' else 'its own'}. "
                "Remove it from the chart values or pass --overwrite"
            )
            report.actions.append(Action("conflict", what, item[key]))
    if repairable is not None:
        removals |= _repaired_away(current, {item[key] for item in wanted}, key, what, repair, report,
                                   warnings, subject)
    ordered_removals = [{"op": "remove", "path": pointer(*path, i)} for i in sorted(removals, reverse=True)]
    return [*replaces, *ordered_removals, *appends]


def foreign_env(
    current: Any, injection: Injection, place: str, overwrite: bool, report: WorkloadReport, conflicts: list[str],
    warnings: list[str] | None,
) -> set[int]:
    """The chart's env entries that beat the method's: removed (their indexes) under --overwrite, else conflicts."""
    removals: set[int] = set()
    for index, entry in enumerate(current if isinstance(current, list) else []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name not in {**injection.overriding_env, **injection.ignored_env}:
            continue
        subject = f"{place}, container {report.container!r}: env {name}"
        if name in injection.ignored_env:  # (kept: the method's entries make the consumer ignore it)
            if warnings is not None:
                warnings.append(f"{subject} is {injection.ignored_env[name]}")
        elif overwrite:
            removals.add(index)
            report.actions.append(Action("removed", "env", name, "--overwrite"))
        else:
            conflicts.append(f"{subject} is already set ({describe(entry)}); {injection.overriding_env[name]}. "
                             "Remove it from the chart values or pass --overwrite")
            report.actions.append(Action("conflict", "env", name))
    return removals


def plan_annotations(
    workload: Workload, injection: Injection, report: WorkloadReport, place: str, conflicts: list[str],
    overwrite: bool,
) -> list[dict[str, Any]]:
    """Operations for the pod template's annotations and the workload's own (one set when the pod is the workload)."""
    template_meta = (*workload.template_path, "metadata")
    workload_meta = (*workload.base, "metadata")
    pod, own = injection.annotations, injection.workload_annotations
    places: list[tuple[tuple[object, ...], Any, dict[str, str], dict[str, str]]] = [
        (template_meta, workload.template.get("metadata"), pod, {})]
    if template_meta == workload_meta:  # a Pod: its metadata is both
        places = [(template_meta, workload.template.get("metadata"), pod, own)]
    elif own:
        places.append((workload_meta, workload.metadata or None, {}, own))
    ops: list[dict[str, Any]] = []
    for path, metadata, owned, guarded in places:
        found, notes = annotation_ops(path, metadata, owned, guarded, place, conflicts, overwrite)
        ops += found
        report.actions += [Action(verb, "annotation", name, note) for verb, name, note in notes]
    return ops


def check_file_refs(component: Component, injection: Injection, place: str) -> None:
    """Refuse ``valueFrom.fileRef`` (not a Kubernetes field) unless the method repairs that entry."""
    spec = component.workload.template["spec"]
    broken: list[str] = []
    for group in ("initContainers", "containers"):
        containers = spec.get(group)
        for index, container in enumerate(containers if isinstance(containers, list) else []):
            env = container.get("env") if isinstance(container, dict) else None
            for entry in env if isinstance(env, list) else []:
                source = entry.get("valueFrom") if isinstance(entry, dict) else None
                if not isinstance(source, dict) or "fileRef" not in source:
                    continue
                target = group == "containers" and index == component.container_index
                if target and injection.repairable is not None and injection.repairable("env", entry):
                    continue
                broken.append(f"container {container.get('name')!r} env {entry.get('name')}")
    if broken:
        raise InputError(
            f"{place}: {', '.join(broken)} uses valueFrom.fileRef, which is not a Kubernetes field "
            "(strict validation rejects it; the API server drops it and the variable ends up empty). "
            "This is the vendor's Vault example: use --method vault to render it in a working form "
            "(see docs/vault.md), or remove the entry from the chart values"
        )


def plan_component(
    component: Component, injection: Injection, settings: Settings, report: WorkloadReport, conflicts: list[str],
    warnings: list[str] | None = None,
) -> list[dict[str, Any]]:
    """All operations for one component workload."""
    workload = component.workload
    place = where(workload.doc_index, workload.kind, workload.name)
    check_file_refs(component, injection, place)
    spec = workload.template["spec"]
    spec_path = workload.pod_spec_path
    container = spec["containers"][component.container_index]
    container_path = (*spec_path, "containers", component.container_index)
    overwrite = settings.overwrite
    repairable = injection.repairable
    ops: list[dict[str, Any]] = []
    lists = (  # (path, what is there, what the method wants, the items' key, what they are), in the editor's order
        ((*spec_path, "initContainers"), spec, injection.init_containers, "name", "init container"),
        ((*spec_path, "volumes"), spec, injection.volumes, "name", "volume"),
        ((*container_path, "volumeMounts"), container, injection.volume_mounts, "mountPath", "volume mount"),
        ((*container_path, "env"), container, injection.env, "name", "env"),
    )
    for path, parent, wanted, key, what in lists:
        foreign = foreign_env(parent.get(path[-1]), injection, place, overwrite, report, conflicts, warnings) \
            if what == "env" else None
        ops += ensure_items(path, parent.get(path[-1]), wanted, key, what, place, overwrite, report, conflicts,
                            repairable, warnings, foreign)
    return ops + plan_annotations(workload, injection, report, place, conflicts, overwrite)


def build_plan(analysis: Analysis, settings: Settings, method: Method) -> Plan:
    """Plan every change for the documents the analysis kept, from its classification of their workloads."""
    plan = Plan()
    rolling = rotation(method, settings.restart_on_change)
    plan.warnings += rolling.warnings
    existing: dict[tuple[str, str, str | None], tuple[int, dict[str, Any]]] = {}
    namespaces: list[str | None] = []
    objects = analysis.objects()
    for index, doc in analysis.documents.items():
        identity = document_identity(doc).key
        if identity:
            existing.setdefault(identity, (index, doc))
    for index, known in analysis.classified.items():
        for classified in known:
            report = WorkloadReport(index, classified)
            plan.reports.append(report)
            if classified.role is None:
                continue
            if analysis.duplicates.get(index):
                raise InputError(
                    f"{where(index, classified.kind, classified.name)}: duplicate mapping keys "
                    f"{', '.join(analysis.duplicates[index])}; olrender would have to drop one of the values"
                )
            component = classified.component(settings.rules)
            report.role = component.role
            report.container = component.container_name
            report.container_reason = component.container_reason
            if (refused := method.refusal(component, objects)) is not None:
                plan.conflicts.append(f"{where(index, classified.kind, classified.name)}: {refused}")
                report.actions.append(Action("conflict", "method", method.label))
                continue
            injection = method.injection(component)
            if (unread := rolling.apply(injection, component.workload)) is not None:
                plan.warnings.append(unread)
            ops = plan_component(component, injection, settings, report, plan.conflicts, plan.warnings)
            if ops:
                plan.ops.setdefault(index, []).extend(ops)
            if classified.namespace not in namespaces:
                namespaces.append(classified.namespace)
    plan_documents(method, namespaces, existing, settings.overwrite, plan.conflicts, plan.new_documents, plan.ops)
    for index, duplicates in sorted(analysis.duplicates.items()):  # e.g. a Secret replaced under --overwrite
        if index in plan.ops:
            found = document_identity(analysis.documents[index])
            kind, name = found.kind, found.name
            raise InputError(
                f"{where(index, kind, name)}: duplicate mapping keys {', '.join(duplicates)}; "
                "olrender would have to drop one of the values"
            )
    return plan
