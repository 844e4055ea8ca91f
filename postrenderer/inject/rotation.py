"""Rolling the pods when the key or where it comes from changes (``--restart-on-change``), and annotation edits.

    checksum  (default)  pod template: the method's ``checksums()``: checksum/openlineage-api-key
                         (the plaintext key's digest), checksum/vault-agent-config, or
                         checksum/openlineage-reference (the digest of ``reference()``)
    reloader             workload metadata: secret.reloader.stakater.com/reload: <reload_secret()>,
                         and no checksum: Reloader rolls the pods, a checksum would roll them a second
                         time. A method without a Secret keeps its checksums and gets a warning that
                         names its ``reload_reason``
    none                 neither

The annotations become RFC 6902 operations like every other injection
(``annotation_ops``): on a pod template olrender owns its annotations' values; on
a workload's metadata a different value is a conflict unless ``--overwrite``.
"""

from __future__ import annotations

from postrenderer.errors import printable, where
from postrenderer.inject.contract import RELOADER_ANNOTATION
from postrenderer.read.workloads import pointer

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from postrenderer.inject.contract import Injection, Method
    from postrenderer.read.workloads import Workload

    Note: TypeAlias = tuple[str, str, str | None]  # (verb, annotation name, note): the planner's Action

# the kinds Reloader restarts (its internal/pkg/handler/upgrade.go; and Argo Rollouts, not a pod-template kind here)
RELOADED_KINDS = frozenset({"Deployment", "DaemonSet", "StatefulSet", "CronJob", "Job"})


class Rotation:
    """What one mode adds to every component: pod-template and workload annotations, and why not."""

    __slots__ = ("pod", "warnings", "workload")

    def __init__(self, pod: dict[str, str], workload: dict[str, str], warnings: list[str]) -> None:
        self.pod, self.workload, self.warnings = pod, workload, warnings

    def apply(self, injection: Injection, workload: Workload) -> str | None:
        """Add the annotations to a component's injection; a warning when Reloader ignores its kind."""
        injection.annotations.update(self.pod)
        injection.workload_annotations.update(self.workload)
        if self.workload and workload.kind not in RELOADED_KINDS:
            return (f"{where(workload.doc_index, workload.kind, workload.name)}: Reloader restarts Deployments, "
                    f"StatefulSets, DaemonSets, Jobs and CronJobs, not a {workload.kind}; "
                    f"{RELOADER_ANNOTATION} is added but nothing acts on it")
        return None


def rotation(method: Method, mode: str) -> Rotation:
    """The annotations ``--restart-on-change`` mode adds for this method (the same for every component)."""
    if mode == "none":
        return Rotation({}, {}, [])
    secret = method.reload_secret() if mode == "reloader" else None
    if secret is not None:
        return Rotation({}, {RELOADER_ANNOTATION: secret}, [])
    warnings = []
    if mode == "reloader":
        checksums = ", ".join(method.checksums())
        warnings.append(
            f"--restart-on-change reloader does not apply to method {method.label}: {method.reload_reason}"
            + (f"; its pods roll through {checksums} when that changes" if checksums else "")
        )
    return Rotation(method.checksums(), {}, warnings)


def _listed(current: Any, value: str) -> bool:
    """Whether Reloader's comma-separated list already names value (its entries are trimmed)."""
    return isinstance(current, str) and value in (entry.strip() for entry in current.split(","))


def annotation_ops(
    path: tuple[object, ...], metadata: Any, owned: dict[str, str], guarded: dict[str, str], place: str,
    conflicts: list[str], overwrite: bool,
) -> tuple[list[dict[str, Any]], list[Note]]:
    """Operations that put annotations on the metadata at path, and what each did.

    ``owned`` values are olrender's (a pod template's checksums: replaced when they differ);
    a different value of a ``guarded`` one (a workload's Reloader annotation) is a conflict
    unless ``--overwrite``.
    """
    wanted = {**owned, **guarded}
    if not wanted:
        return [], []
    added: list[Note] = [("added", name, None) for name in wanted]
    if not isinstance(metadata, dict):
        return [{"op": "add", "path": pointer(*path), "value": {"annotations": dict(wanted)}}], added
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        return [{"op": "add", "path": pointer(*path, "annotations"), "value": dict(wanted)}], added
    ops: list[dict[str, Any]] = []
    notes: list[Note] = []
    for name, value in wanted.items():
        current = annotations.get(name)
        if current == value or (name == RELOADER_ANNOTATION and _listed(current, value)):
            notes.append(("kept", name, "already present"))
        elif name not in annotations:
            ops.append({"op": "add", "path": pointer(*path, "annotations", name), "value": value})
            notes.append(("added", name, None))
        elif name in guarded and not overwrite:
            conflicts.append(
                f"{place}: annotation {name} is already {printable(current)!r}; olrender would set {value!r}. "
                "Remove it from the chart values or pass --overwrite"
            )
            notes.append(("conflict", name, None))
        else:
            ops.append({"op": "replace", "path": pointer(*path, "annotations", name), "value": value})
            notes.append(("replaced", name, "--overwrite") if name in guarded else ("updated", name, None))
    return ops, notes
