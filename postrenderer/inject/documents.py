"""The documents a method adds to the stream, reconciled with the ones already there.

A method may add whole documents (the secret method's Secret, an ExternalSecret).
When the stream already holds the same object (same kind and name, in the same
namespace, or one of the two without a namespace), its content is compared, not
its text: a Secret whose ``data`` says ``c2VjcmV0`` and one whose ``stringData``
says ``secret`` are equal. Equal: nothing to do. Different: a conflict, or under
``--overwrite`` operations that replace the differing keys, for example:

    {"op": "add", "path": "/data/OPENLINEAGE_API_KEY", "value": "c2VjcmV0"}
    {"op": "remove", "path": "/stringData/OPENLINEAGE_API_KEY"}
"""

from __future__ import annotations

import base64
import binascii

from postrenderer.errors import where
from postrenderer.read.identity import identity as document_identity
from postrenderer.read.workloads import pointer

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.inject.contract import Method, NewDocument


def _payload(doc: dict[str, Any], secret: bool) -> dict[str, Any]:
    """The effective key/value content of a Secret or ConfigMap, as bytes; of another kind, its fields but metadata."""
    if doc.get("kind") not in ("Secret", "ConfigMap"):
        return {field: value for field, value in doc.items() if field != "metadata"}
    content: dict[str, Any] = {}
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


def _without_namespace(
    existing: dict[tuple[str, str, str | None], tuple[int, dict[str, Any]]], identity: tuple[str, str, str | None]
) -> tuple[int, dict[str, Any]] | None:
    """The same-named object when one side has no namespace (it lands in the release's namespace: the same one)."""
    kind, name, namespace = identity
    for (k, n, ns), found in existing.items():
        if k == kind and n == name and (ns is None or namespace is None):
            return found
    return None


def plan_documents(
    method: Method,
    namespaces: list[str | None],
    existing: dict[tuple[str, str, str | None], tuple[int, dict[str, Any]]],
    overwrite: bool,
    conflicts: list[str],
    new_documents: list[NewDocument],
    ops_by_index: dict[int, list[dict[str, Any]]],
) -> None:
    """Add the method's documents, reusing equal ones already in the stream; what they own must not be there."""
    for namespace in namespaces:
        for new in method.documents(namespace):
            identity = document_identity(new.doc).key
            assert identity is not None
            for (kind, name), why in new.owns.items():
                owned = existing.get((kind, name, namespace)) or _without_namespace(existing, (kind, name, namespace))
                if owned is not None:
                    conflicts.append(f"{where(owned[0], kind, name)}: rendered by the chart, but {why}")
            found = existing.get(identity) or _without_namespace(existing, identity)
            if found is None:
                new_documents.append(new)
                continue
            index, doc = found
            place = where(index, identity[0], identity[1])
            wanted = _payload(new.doc, new.secret)
            have = _payload(doc, new.secret)
            differing = [k for k, v in wanted.items() if have.get(k) != v]
            if not differing:
                continue
            if not overwrite:
                conflicts.append(
                    f"{place}: already in the stream with different content for "
                    f"{', '.join(differing)}; olrender would generate it. Drop it from the chart "
                    "values (e.g. openLineage.apiKey) or pass --overwrite"
                )
                continue
            ops = ops_by_index.setdefault(index, [])
            if new.doc.get("kind") not in ("Secret", "ConfigMap"):  # (its fields but metadata, each replaced whole)
                ops.extend({"op": "add", "path": pointer(field), "value": new.doc[field]} for field in differing)
                continue
            if not isinstance(doc.get("data"), dict):
                ops.append({"op": "add", "path": "/data", "value": {}})
            for k in differing:
                ops.append({"op": "add", "path": pointer("data", k), "value": new.doc["data"][k]})
                for other in ("stringData", "binaryData"):
                    if isinstance(doc.get(other), dict) and k in doc[other]:
                        ops.append({"op": "remove", "path": pointer(other, k)})
