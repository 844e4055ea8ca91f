"""The plan as kustomize patches: ``--emit-kustomize-patches``, for Flux and kustomize users.

Flux's ``HelmRelease.spec.postRenderers`` runs kustomize patches only, never a
program. This module compiles olrender's plan (RFC 6902 operations per document,
and the documents the method generates) into patches that the real kustomize
applies with the same result, so no olrender runs in the cluster:

    - target: {group: apps, version: v1, kind: Deployment, name: astro-agent-triggerer}
      patch: |
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: astro-agent-triggerer
        spec:
          template:
            spec:
              containers:
              - name: agent
                env:
                - name: OPENLINEAGE_API_KEY
                  valueFrom: {secretKeyRef: {name: openlineage-api-key-secret, key: api-key}}

Each changed object gets a strategic merge patch: containers, init containers,
volumes and env entries are merged by name, volume mounts by mount path, so a
chart upgrade that reorders, adds or drops entries does not misplace the change.
A patch names only the entries it adds or replaces, in the plan's order: an entry
the chart drops later stays dropped (a name alone would bring it back, empty).
kustomize puts the entries a patch names first (kubernetes-sigs/kustomize#5904),
so the added entries come before the chart's own, always in the same order.
Where a strategic merge patch cannot say what the plan does (duplicate names,
a value set to null, a list kustomize replaces whole) the object gets the plan's
own RFC 6902 operations instead, guarded by ``test`` operations on the names of
the list items they address, so a chart that moved them makes kustomize fail
instead of patching the wrong container.

Before the list is printed, ``check`` reads it back as text, applies each patch
to the input's reading of the objects its target selects, as kustomize applies
that kind (strategic merge by the keys above, RFC 6902 with its ``test``
guards), and requires the verified documents (``Result.patched``), the order of
merged lists aside; else exit 3 naming the document.

The documents the method generates (the Secret, the Vault agent ConfigMap)
follow the list as separate documents: a post-renderer's patches cannot add
objects, so they belong in the user's own Flux Kustomization or ``resources:``.
"""

from __future__ import annotations

import copy
import re

from jsonpointer import JsonPointer

from postrenderer import __version__
from postrenderer.errors import InputError, printable, where
from postrenderer.read.identity import identity
from postrenderer.write.edit import document

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.result import Result

# Lists Kubernetes merges by a key (x-kubernetes-patch-merge-key): the lists of a pod template the plan changes.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "volumes": "name", "env": "name", "volumeMounts": "mountPath",
}
ATOMIC = frozenset({"command", "args", "add", "drop"})  # lists Kubernetes replaces whole: a container's, capabilities'
ITEM_KEYS = ("name", "mountPath")  # what a JSON-patch test operation checks on an addressed list item
# A string YAML 1.1 resolvers (PyYAML's and Kubernetes') both read as a string when written plain.
_REGEX_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


class _NeedsJsonPatch(Exception):
    """A change a strategic merge patch cannot express."""


def _merge_patch(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The strategic merge patch that turns mapping before into after."""
    patch: dict[str, Any] = {}
    for key, value in after.items():
        if value is None and before.get(key, 0) is not None:
            raise _NeedsJsonPatch(f"{key} set to null")
        if key not in before:
            patch[key] = copy.deepcopy(value)
        elif before[key] != value:
            patch[key] = _value_patch(key, before[key], value)
    patch.update((key, None) for key in before if key not in after)  # null deletes the key
    return patch


def _value_patch(key: str, before: Any, after: Any) -> Any:
    """The patch for one changed value."""
    if isinstance(before, dict) and isinstance(after, dict):
        return _merge_patch(before, after)
    if isinstance(before, list) and isinstance(after, list) and key not in ATOMIC:
        if key not in MERGE_KEYS:
            raise _NeedsJsonPatch(f"{key} is a list kustomize replaces whole")
        return _list_patch(MERGE_KEYS[key], before, after)
    return copy.deepcopy(after)


def _keys(items: list[Any], key: str) -> list[Any]:
    """The merge keys of a list's items, which must be mappings with distinct keys."""
    if not all(isinstance(item, dict) and key in item for item in items):
        raise _NeedsJsonPatch(f"an item without {key}")
    keys = [item[key] for item in items]
    if len(set(map(repr, keys))) != len(keys):
        raise _NeedsJsonPatch(f"two items with the same {key}")
    return keys


def _list_patch(key: str, before: list[Any], after: list[Any]) -> list[Any]:
    """The patch for a list merged by key: the items added or changed, in their order, then the deletions.

    An item the plan leaves alone is never named: a chart that later drops it must not get it back.
    """
    old, new = _keys(before, key), _keys(after, key)
    old_items = dict(zip(map(repr, old), before, strict=True))
    named: list[dict[str, Any]] = []
    for item in after:
        previous = old_items.get(repr(item[key]))
        if previous is None:
            named.append(copy.deepcopy(item))
        elif previous != item:
            named.append({key: item[key], **_merge_patch(previous, item)})
    kept = {repr(k) for k in new}
    return named + [{key: k, "$patch": "delete"} for k in old if repr(k) not in kept]


def _guards(doc: Any, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``test`` operations on the name (or mount path) of every list item the operations address by index."""
    tests: dict[str, dict[str, Any]] = {}
    for op in ops:
        node, parts = doc, JsonPointer(op["path"]).parts
        for depth, part in enumerate(parts):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                key = next((k for k in ITEM_KEYS if isinstance(node, dict) and k in node), None)
                if key is not None:
                    path = JsonPointer.from_parts([*parts[: depth + 1], key]).path
                    tests.setdefault(path, {"op": "test", "path": path, "value": node[key]})
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                break
    return list(tests.values())


def _target(doc: Any, index: int) -> dict[str, Any]:
    """The kustomize target of a document: group, version, kind, name, namespace (name as an exact regex)."""
    found = identity(doc)
    kind, name, api_version = found.kind, found.name, found.api_version
    if name is None or kind is None or api_version is None:
        raise InputError(
            f"{where(index, kind, name)}: a kustomize patch selects its object by apiVersion, kind and "
            "metadata.name, and this changed object lacks one of them"
        )
    group, _, version = api_version.rpartition("/")
    target: dict[str, Any] = {"group": group} if group else {}
    target.update(version=version, kind=kind, name=_REGEX_SPECIAL.sub(r"\\\1", name))
    if found.namespace is not None:
        target["namespace"] = _REGEX_SPECIAL.sub(r"\\\1", found.namespace)
    return target


def object_patch(index: int, before: Any, after: Any, ops: list[dict[str, Any]]) -> dict[str, Any]:
    """One kustomize patch turning object before into after: strategic merge, or the guarded RFC 6902 ops."""
    target = _target(before, index)
    try:
        changes = _merge_patch(before, after)
    except _NeedsJsonPatch:
        return {"target": target, "patch": document([*_guards(before, ops), *ops])}
    head = {"apiVersion": before["apiVersion"], "kind": before["kind"], "metadata": {
        "name": before["metadata"]["name"],
        **({"namespace": before["metadata"]["namespace"]} if "namespace" in target else {}),
    }}
    head["metadata"].update(changes.pop("metadata", {}))
    return {"target": target, "patch": document({**head, **changes})}


def _item_ops(ops: list[dict[str, Any]], item: int) -> list[dict[str, Any]]:
    """The operations on one item of a ``kind: List``, with paths relative to the item."""
    prefix = f"/items/{item}/"
    return [{**op, "path": op["path"][len(prefix) - 1:]} for op in ops if op["path"].startswith(prefix)]


def document_patches(index: int, before: Any, ops: list[dict[str, Any]], after: Any = None) -> list[dict[str, Any]]:
    """One changed document's patches (after: as patched, if known); a List's items are objects of their own."""
    if after is None:
        import jsonpatch  # deferred: only this mode and changed documents need it

        after = jsonpatch.apply_patch(before, ops, in_place=False)
    kind = before.get("kind") if isinstance(before, dict) else None
    if not (isinstance(kind, str) and kind.endswith("List")):  # (as workloads.iter_workloads reads Lists)
        return [object_patch(index, before, after, ops)]
    if any(not op["path"].startswith("/items/") for op in ops) or len(before["items"]) != len(after["items"]):
        raise InputError(f"{where(index, kind)}: olrender changes the List itself, which kustomize does not keep")
    return [
        object_patch(index, old, new, _item_ops(ops, i))
        for i, (old, new) in enumerate(zip(before["items"], after["items"], strict=True)) if old != new
    ]


def generated_objects(result: Result) -> list[dict[str, Any]]:
    """The objects the method adds, as they must be applied (without Helm 4's filename annotation)."""
    return [copy.deepcopy(new.doc) for new in result.plan.new_documents]


def patches(result: Result) -> list[dict[str, Any]]:
    """Every patch of the plan, in document order."""
    out: list[dict[str, Any]] = []
    for index in sorted(result.plan.ops):
        out.extend(document_patches(index, result.documents[index], result.plan.ops[index], result.patched[index]))
    return out


def merge_order(value: Any) -> Any:
    """A copy with every list kustomize merges by key sorted by that key (kustomize puts the named entries first)."""
    if isinstance(value, dict):
        return {k: sorted(map(merge_order, v), key=lambda item: repr(item.get(MERGE_KEYS[k])))
                if k in MERGE_KEYS and isinstance(v, list) and all(isinstance(i, dict) for i in v)
                else merge_order(v) for k, v in value.items()}
    return [merge_order(item) for item in value] if isinstance(value, list) else value


def _strategic(target: Any, patch: Any, key: str = "") -> Any:
    """A strategic merge patch applied as kustomize applies the ones ``object_patch`` writes."""
    if isinstance(patch, list) and isinstance(target, list) and key in MERGE_KEYS:
        merge = MERGE_KEYS[key]
        gone = {repr(p.get(merge)) for p in patch if isinstance(p, dict) and p.get("$patch") == "delete"}
        old = {repr(item.get(merge)): item for item in target if isinstance(item, dict)}
        named = [_strategic(old.get(repr(p.get(merge))), p) for p in patch if p.get("$patch") != "delete"]
        seen = gone | {repr(item.get(merge)) for item in named}
        return named + [item for item in target if not (isinstance(item, dict) and repr(item.get(merge)) in seen)]
    if not (isinstance(patch, dict) and isinstance(target, dict)):
        return copy.deepcopy(patch)
    out = dict(target)
    for name, value in patch.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = _strategic(out.get(name), value, name)
    return out


def _selects(target: dict[str, Any], doc: Any) -> bool:
    """Whether a patch's target selects the object (group, version, kind, name and namespace as regexes)."""
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    if not isinstance(metadata, dict) or not isinstance(doc.get("apiVersion"), str):
        return False
    group, _, version = doc["apiVersion"].rpartition("/")
    namespace = metadata.get("namespace")
    return (target.get("group", "") == group and target.get("version") == version and target.get("kind") == doc.get(
        "kind") and re.fullmatch(str(target.get("name")), str(metadata.get("name"))) is not None
        and ("namespace" not in target or re.fullmatch(str(target["namespace"]), str(namespace or "")) is not None))


def check(result: Result, listed: str) -> None:
    """Read the emitted patch list back, apply it as kustomize does, and require the verified documents (exit 3)."""
    import jsonpatch

    from postrenderer.read import reader
    from postrenderer.write.verify import difference

    objects = []  # (document index, state, verified) of every object a changed document holds
    for index in sorted(result.plan.ops):
        before, after = result.documents[index], result.patched[index]
        kind = before.get("kind") if isinstance(before, dict) else None
        pairs = zip(before["items"], after["items"], strict=True) if isinstance(kind, str) and kind.endswith(
            "List") else [(before, after)]
        objects += [[index, old, new] for old, new in pairs]
    for entry in reader.load(listed)[0] or []:
        patch = reader.load(entry["patch"])[0]
        for found in [o for o in objects if _selects(entry["target"], o[1])]:
            try:
                found[1] = (jsonpatch.apply_patch(found[1], patch) if isinstance(patch, list)
                            else _strategic(found[1], patch))
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
                found[1] = None
    for index, state, verified in objects:
        wrong = difference(merge_order(state), merge_order(verified))
        if wrong is not None:
            doc = result.documents[index]
            raise InputError(
                f"{where(index, doc.get('kind'), (doc.get('metadata') or {}).get('name'))}: the kustomize patches "
                f"would not give what olrender renders: kustomize would read /{'/'.join(wrong[0])} so that it "
                f"{wrong[1]}; render with olrender as Helm's post-renderer instead of --emit-kustomize-patches"
            )


def emit(result: Result, method: str | None, data: bytes) -> str:
    """The ``--emit-kustomize-patches`` output: the patch list, then each generated object as its own document."""
    if not data.strip():  # an empty list would silently drop the whole change
        raise InputError("--emit-kustomize-patches: the manifest stream on stdin is empty (did helm template fail? "
                         "pipe it with set -o pipefail)")
    found = patches(result)
    objects = generated_objects(result)
    lines = [
        f"# olrender {__version__} --emit-kustomize-patches: {len(found)} patch(es), method {method}, "
        f"{result.format} stream.",
        "# Use this list as spec.postRenderers[].kustomize.patches of a Flux HelmRelease, or as patches: of a",
        "# kustomization (docs/flux.md).",
    ]
    if objects:
        lines.append(f"# The {len(objects)} document(s) after it are objects olrender generates: apply them yourself.")
    listed = document(found)
    check(result, listed)
    parts = ["\n".join(lines) + "\n" + listed]
    for new, doc in zip(result.plan.new_documents, objects, strict=True):
        note = [f"# Generated by olrender ({new.filename}): a post-renderer's patches cannot add objects; put this",
                "# one in your own Flux Kustomization or in the resources: of a kustomization."]
        if new.secret:
            note.append("# It holds the API key (base64): encrypt it (e.g. SOPS) before committing it, or prefer "
                        "--api-key-secret or --method vault.")
        parts.append("---\n" + "\n".join(note) + "\n" + document(doc))
    return "".join(parts)


def committed_patches(text: str, path: str) -> list[Any]:
    """The patches a committed file holds: a patch list, a kustomization's ``patches:`` or a HelmRelease's.

    Every ``spec.postRenderers[].kustomize.patches`` of every HelmRelease in the file counts, in order.
    """
    import yaml

    from postrenderer.read import reader, stream

    try:
        docs = [doc for seg in stream.split(text) if seg.has_document
                for doc in (reader.load(seg.text)[0],) if doc is not None]
    except (yaml.YAMLError, reader.TooLarge) as exc:
        raise InputError(f"--committed-patches {path}: not YAML olrender can read ({printable(exc)})") from None
    found: list[Any] = []
    for doc in docs:
        if isinstance(doc, list):
            found += doc
        elif isinstance(doc, dict) and isinstance(doc.get("patches"), list):
            found += doc["patches"]
        elif isinstance(doc, dict) and isinstance(doc.get("spec"), dict):
            for renderer in doc["spec"].get("postRenderers") or ():
                kustomize = renderer.get("kustomize") if isinstance(renderer, dict) else None
                found += (kustomize.get("patches") or []) if isinstance(kustomize, dict) else []
    if not found:
        raise InputError(f"--committed-patches {path}: no kustomize patches found (a patch list, a kustomization's "
                         "patches: or a HelmRelease's spec.postRenderers[].kustomize.patches)")
    return found


def _as_data(found: list[Any]) -> str:
    """Patches as comparable YAML: each patch's text parsed, so that formatting does not count."""
    import yaml

    from postrenderer.read import reader

    def parsed(item: Any) -> Any:
        if not isinstance(item, dict) or not isinstance(item.get("patch"), str):
            return item
        try:
            return {**item, "patch": reader.load(item["patch"])[0]}
        except (yaml.YAMLError, reader.TooLarge):
            return item

    return yaml.safe_dump([parsed(item) for item in found], sort_keys=True, default_flow_style=False)


def compare(result: Result, committed: list[Any], path: str) -> str | None:
    """The difference between committed patches and those olrender generates now (None when they agree)."""
    import difflib

    old, new = _as_data(committed), _as_data(patches(result))
    if old == new:
        return None
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), path, "olrender --emit-kustomize-patches",
                                 lineterm="")
    return "\n".join(f"  {line}" for line in lines)
