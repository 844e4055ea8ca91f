"""Tests for postrenderer.inject.methods: what each method asks for."""

from __future__ import annotations

import base64

from postrenderer.config.settings import ApiKey, OpenLineageConfig
from postrenderer.inject.methods import CHECKSUM_ANNOTATION, method_for

KEY = "sk-test-methods-0001"


def config(**kw: object) -> OpenLineageConfig:
    """A config with URL and namespace set."""
    base: dict = {"url": "https://o11y.example", "namespace": "ns-1"}
    base.update(kw)
    return OpenLineageConfig(**base)


def test_secret_method_env_and_secret() -> None:
    """The secret method references the generated Secret and emits it base64-encoded."""
    method = method_for(config(api_key=ApiKey(KEY)))
    injection = method.injection(None)  # type: ignore[arg-type]
    assert [e["name"] for e in injection.env] == ["OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_API_KEY"]
    assert injection.env[-1]["valueFrom"] == {
        "secretKeyRef": {"name": "openlineage-api-key-secret", "key": "api-key"}}
    (doc,) = method.documents("agents")
    assert doc.filename == "olrender/openlineage-api-key-secret.yaml"
    assert doc.doc["metadata"]["namespace"] == "agents"
    assert doc.doc["type"] == "Opaque"
    assert base64.b64decode(doc.doc["data"]["api-key"]).decode() == KEY


def test_checksum_follows_the_key() -> None:
    """A different key gives a different pod annotation, so pods roll."""
    one = method_for(config(api_key=ApiKey(KEY))).injection(None).annotations  # type: ignore[arg-type]
    two = method_for(config(api_key=ApiKey(KEY + "x"))).injection(None).annotations  # type: ignore[arg-type]
    assert one[CHECKSUM_ANNOTATION] != two[CHECKSUM_ANNOTATION]
    assert KEY not in one[CHECKSUM_ANNOTATION]


def test_existing_secret_method() -> None:
    """The existing-secret method references the user's Secret and adds no document."""
    method = method_for(config(method="existing-secret", secret_name="mine", secret_key="token"))
    env = method.injection(None).env  # type: ignore[arg-type]
    assert env[-1]["valueFrom"]["secretKeyRef"] == {"name": "mine", "key": "token"}
    assert method.documents(None) == []


def test_disabled_method() -> None:
    """enabled: false sets only OPENLINEAGE_DISABLED."""
    method = method_for(config(enabled=False))
    assert method.injection(None).env == [{"name": "OPENLINEAGE_DISABLED", "value": "true"}]  # type: ignore[arg-type]
    assert method.documents(None) == []


def test_optional_variables_in_chart_order() -> None:
    """Endpoint and facets come after URL and namespace, when set."""
    cfg = config(endpoint="/api/v1/lineage", facets_environment_variables="A,B")
    assert [e["name"] for e in cfg.plain_env()] == [
        "OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_ENDPOINT",
        "OPENLINEAGE__FACETS__ENVIRONMENT_VARIABLES"]
