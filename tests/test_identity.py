"""The one document identity (postrenderer/read/identity.py)."""

from __future__ import annotations

from postrenderer.read.identity import identity


def test_identity_of_a_namespaced_object() -> None:
    found = identity({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "key", "namespace": "ns"}})
    assert found.fields() == {"apiVersion": "v1", "kind": "Secret", "namespace": "ns", "name": "key"}
    assert found.named == ("Secret", "key")
    assert found.key == ("Secret", "key", "ns")


def test_missing_or_non_string_fields_are_none() -> None:
    found = identity({"kind": "ConfigMap", "metadata": {"name": 7}})
    assert found.fields() == {"apiVersion": None, "kind": "ConfigMap", "namespace": None, "name": None}
    assert found.named is None and found.key is None
    assert identity(["not", "a", "mapping"]).fields() == dict.fromkeys(("apiVersion", "kind", "namespace", "name"))
