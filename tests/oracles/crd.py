"""The real ESO CustomResourceDefinition as a strict validator of generated custom resources.

``crd_file(name)`` is a pinned upstream CRD from ``fixtures/crds/`` (a verbatim copy; its
README gives the provenance), checked against its SHA-256 below (another file is an error).
No package registry carries the file verbatim (the npm package
``@kubernetes-models/external-secrets`` holds validators compiled from ESO's Go types,
which accept unknown fields), so the repository holds it, and the oracle runs everywhere.

``strict_schema(crd, api_version)`` is a pure function: the served version's
``openAPIV3Schema`` turned into a JSON Schema that rejects what the API server's
strict field validation rejects (``additionalProperties: false`` wherever
``properties`` are given and ``x-kubernetes-preserve-unknown-fields`` is not set;
``nullable``; ``x-kubernetes-int-or-string``; ``enum`` with its case; ``required``),
with ``metadata`` checked as the strict ObjectMeta of Kubernetes 1.35 (from
kubernetes-validate). A version that is not served (ESO's ``v1beta1``) is refused.
``violations(doc, crd)`` lists what is wrong with a manifest (empty: accepted).

Not checked: the CEL rules (``x-kubernetes-validations``) that ClusterSecretStore and
SecretStore carry, and ``format``; a JSON Schema validator cannot evaluate CEL, so a
test that relies on this schema alone says nothing about those rules.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parent.parent.parent
FOLDER = ROOT / "fixtures" / "crds"
# external-secrets helm-chart-2.9.0 (cc5bfbc)
PINS = {
    "external-secrets.io_externalsecrets.yaml": "5044be5a610ca90a075f34f03ed20b462695c43387ba9410db7f4250e47b1e2f",
}
EXTERNAL_SECRET = "external-secrets.io_externalsecrets.yaml"
KUBE_SCHEMAS = "kubernetes-json-schema/v1.35.0-local-strict/_definitions.json"
OBJECT_META = {"$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
# keywords of a structural schema that mean the same in JSON Schema
KEPT = ("enum", "required", "pattern", "maxLength", "minLength", "maximum", "minimum", "exclusiveMaximum",
        "exclusiveMinimum", "maxItems", "minItems", "maxProperties", "minProperties", "multipleOf", "uniqueItems")


class NotServed(ValueError):
    """The CRD does not serve that apiVersion: the API server would answer 404 for it."""


def crd_file(name: str, folder: Path = FOLDER) -> Path:
    """The pinned CRD file ``name`` in folder, checked against its SHA-256."""
    pinned = PINS[name]
    path = folder / name
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != pinned:
        raise AssertionError(f"{path}: sha256 {actual}, pinned {pinned}: not the pinned upstream CRD")
    return path


def load_crd(name: str = EXTERNAL_SECRET) -> dict[str, Any]:
    """The parsed CRD document of a pinned file."""
    crd = yaml.safe_load(crd_file(name).read_text(encoding="utf-8"))
    assert isinstance(crd, dict) and crd.get("kind") == "CustomResourceDefinition", name
    return crd


def _convert(node: dict[str, Any]) -> dict[str, Any]:
    """One structural-schema node as a strict JSON Schema node."""
    out: dict[str, Any] = {key: node[key] for key in KEPT if key in node}
    if node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    elif "type" in node:
        out["type"] = [node["type"], "null"] if node.get("nullable") else node["type"]
    if "properties" in node:
        out["properties"] = {name: _convert(child) for name, child in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = _convert(node["additionalProperties"])
    if "items" in node:
        out["items"] = _convert(node["items"])
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in node:
            out.setdefault("allOf", []).append({combinator: [_convert(child) for child in node[combinator]]})
    if "not" in node:
        out["not"] = _convert(node["not"])
    if node.get("x-kubernetes-embedded-resource"):
        out.setdefault("properties", {}).update({"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                                 "metadata": {"type": "object"}})
    return out


def strict_schema(crd: dict[str, Any], api_version: str) -> dict[str, Any]:
    """The strict JSON Schema of ``api_version`` (``group/version``), or NotServed."""
    group, _, version = api_version.partition("/")
    spec = crd["spec"]
    served = [v for v in spec["versions"] if v.get("served")]
    if group != spec["group"] or version not in [v["name"] for v in served]:
        names = ", ".join(f"{spec['group']}/{v['name']}" for v in served)
        raise NotServed(f"{api_version} is not served by {crd['metadata']['name']} (served: {names})")
    (entry,) = [v for v in served if v["name"] == version]
    schema = _convert(entry["schema"]["openAPIV3Schema"])
    schema["properties"].update({"apiVersion": {"const": api_version}, "kind": {"const": spec["names"]["kind"]},
                                 "metadata": {"allOf": [OBJECT_META, {"anyOf": [{"required": ["name"]},
                                                                                {"required": ["generateName"]}]}]}})
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    return schema


def _registry() -> Registry:
    """kubernetes-validate's strict Kubernetes 1.35 definitions, for ObjectMeta."""
    text = resources.files("kubernetes_validate").joinpath(KUBE_SCHEMAS).read_text(encoding="utf-8")
    return Resource.from_contents(json.loads(text)) @ Registry()


def violations(doc: dict[str, Any], crd: dict[str, Any]) -> list[str]:
    """What the API server's strict validation would reject in ``doc`` (empty: accepted), one line each."""
    try:
        schema = strict_schema(crd, str(doc.get("apiVersion", "")))
    except NotServed as exc:
        return [str(exc)]
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors]
