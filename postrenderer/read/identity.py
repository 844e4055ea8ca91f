"""A document's identity: the apiVersion, kind, name and namespace every stage names an object by.

Reading, planning, the reports and the kustomize patches all ask the same four
questions of a document; this module answers them once. A field that is missing
or not a string is None (Kubernetes would refuse such an object):

    {apiVersion: v1, kind: Secret, metadata: {name: key, namespace: ns}}
    -> Identity(api_version="v1", kind="Secret", name="key", namespace="ns")
    -> .named == ("Secret", "key"), .key == ("Secret", "key", "ns")
"""

from __future__ import annotations

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any


class Identity:
    """apiVersion, kind, name and namespace of one document (None where missing or not a string)."""

    __slots__ = ("api_version", "kind", "name", "namespace")

    def __init__(self, api_version: str | None, kind: str | None, name: str | None, namespace: str | None) -> None:
        self.api_version, self.kind, self.name, self.namespace = api_version, kind, name, namespace

    @property
    def named(self) -> tuple[str, str] | None:
        """(kind, name), when the document has both."""
        return (self.kind, self.name) if self.kind is not None and self.name is not None else None

    @property
    def key(self) -> tuple[str, str, str | None] | None:
        """(kind, name, namespace), when the document has a kind and a name."""
        return (self.kind, self.name, self.namespace) if self.kind is not None and self.name is not None else None

    def fields(self) -> dict[str, str | None]:
        """The identity as a report prints it: apiVersion, kind, namespace, name."""
        return {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace, "name": self.name}


def _text(value: Any) -> str | None:
    """value when it is a string, else None."""
    return value if isinstance(value, str) else None


def identity(doc: Any) -> Identity:
    """The identity of a parsed document (every field None when it is no mapping)."""
    if not isinstance(doc, dict):
        return Identity(None, None, None, None)
    metadata = doc.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return Identity(
        _text(doc.get("apiVersion")), _text(doc.get("kind")), _text(metadata.get("name")),
        _text(metadata.get("namespace")),
    )
