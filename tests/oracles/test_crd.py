"""The strict CRD validator accepts the documented ExternalSecret and rejects what the API server rejects."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.oracles.crd import NotServed, crd_file, strict_schema, violations

MINIMAL = yaml.safe_load("""\
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: openlineage-api-key-secret, namespace: astro}
spec:
  refreshInterval: 1h
  secretStoreRef: {kind: ClusterSecretStore, name: vault}
  target: {name: openlineage-api-key-secret, creationPolicy: Owner}
  data:
  - secretKey: api-key
    remoteRef: {key: openlineage/api-key, property: key}
""")


def changed(path: str, value: Any) -> dict[str, Any]:
    """The minimal ExternalSecret with one dotted path set (list indexes as numbers)."""
    doc: dict[str, Any] = copy.deepcopy(MINIMAL)
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return doc


def test_the_documented_minimal_object_is_accepted(external_secret_crd: dict[str, Any]) -> None:
    """The object of secret-managers.md (and variants the schema allows) passes."""
    assert violations(MINIMAL, external_secret_crd) == []
    assert violations(changed("spec.refreshInterval", "0s"), external_secret_crd) == []
    for policy in ("Owner", "Orphan", "Merge", "None", "CreateOrMerge"):  # CreateOrMerge: new in chart 2.x
        assert violations(changed("spec.target.creationPolicy", policy), external_secret_crd) == []


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("spec.target.bogus", 1, "Additional properties are not allowed ('bogus'"),
        ("spec.bogus", "x", "Additional properties are not allowed ('bogus'"),
        ("spec.data.0.remoteRef.propery", "key", "Additional properties are not allowed ('propery'"),
        ("metadata.labelz", {}, "Additional properties are not allowed ('labelz'"),
        ("spec.target.creationPolicy", "owner",
         "'owner' is not one of ['Owner', 'Orphan', 'Merge', 'None', 'CreateOrMerge']"),
        ("spec.secretStoreRef.kind", "clustersecretstore", "is not one of"),
        ("spec.data.0.remoteRef", {"property": "key"}, "'key' is a required property"),
        ("spec.data.0.secretKey", 7, "7 is not of type 'string'"),
        ("spec.data", {"secretKey": "api-key"}, "is not of type 'array'"),
        ("kind", "ExternalSecrets", "'ExternalSecret' was expected"),
        ("metadata", {"namespace": "astro"}, "is not valid under any of the given schemas"),
    ],
)
def test_what_strict_validation_rejects(path: str, value: Any, message: str,
                                        external_secret_crd: dict[str, Any]) -> None:
    """An unknown field, a wrong-case enum, a missing required field or a wrong type fails, at its place."""
    problems = violations(changed(path, value), external_secret_crd)
    assert any(message in p for p in problems), problems


def test_v1beta1_is_not_served(external_secret_crd: dict[str, Any]) -> None:
    """ESO stopped serving v1beta1 (0.17.0): the same object with that apiVersion is refused."""
    problems = violations(changed("apiVersion", "external-secrets.io/v1beta1"), external_secret_crd)
    assert problems == ["external-secrets.io/v1beta1 is not served by externalsecrets.external-secrets.io "
                        "(served: external-secrets.io/v1)"]
    with pytest.raises(NotServed):
        strict_schema(external_secret_crd, "example.com/v1")


TOY = yaml.safe_load("""\
metadata: {name: toys.example.com}
spec:
  group: example.com
  names: {kind: Toy}
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              port: {x-kubernetes-int-or-string: true}
              free: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: string}}}
              maybe: {type: string, nullable: true}
              labels: {type: object, additionalProperties: {type: string}}
""")


@pytest.mark.parametrize(
    ("spec", "accepted"),
    [
        ({"port": 80}, True), ({"port": "http"}, True), ({"port": {"n": 1}}, False), ({"port": 1.5}, False),
        ({"free": {"a": "x", "anything": [1]}}, True), ({"free": {"a": 1}}, False),
        ({"maybe": None}, True), ({"maybe": 3}, False),
        ({"labels": {"k": "v"}}, True), ({"labels": {"k": 1}}, False), ({"other": 1}, False),
    ],
)
def test_structural_schema_keywords(spec: dict[str, Any], accepted: bool) -> None:
    """int-or-string, preserve-unknown-fields, nullable and maps mean what the API server makes of them."""
    doc = {"apiVersion": "example.com/v1", "kind": "Toy", "metadata": {"name": "t"}, "spec": spec}
    assert (violations(doc, TOY) == []) is accepted, violations(doc, TOY)


def test_no_extension_keyword_is_left_over(external_secret_crd: dict[str, Any]) -> None:
    """Every x-kubernetes-* keyword was translated (or, for CEL rules, knowingly dropped)."""
    assert "x-kubernetes" not in repr(strict_schema(external_secret_crd, "external-secrets.io/v1"))


def test_a_different_file_is_an_error(tmp_path: Any) -> None:
    """A CRD that is not the pinned one (edited, other version) fails the SHA-256 check."""
    (tmp_path / "external-secrets.io_externalsecrets.yaml").write_text("kind: CustomResourceDefinition\n")
    with pytest.raises(AssertionError, match="not the pinned upstream CRD"):
        crd_file("external-secrets.io_externalsecrets.yaml", tmp_path)
