"""Tests for postrenderer.lint.verdict: --check over whole streams, render-mode lint, --forbid-plaintext."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from postrenderer.config.settings import ApiKey, OpenLineageConfig, Settings, resolve
from postrenderer.errors import CheckFailed, ConfigError, NoMatchError
from postrenderer.inject.methods import method_for
from postrenderer.lint import verdict as check
from postrenderer.lint.container import Expected
from postrenderer.read.discovery import ComponentRules
from tests import programs
from tests.manifests import VAULT, VAULT_CONFIG_FILE

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ROOT / "fixtures" / "streams"
KEY = "sk-test-check-0001"
URL = "https://o11y.astronomer.io"
NAMESPACE = "ultraviolet-corona-6870"
METHODS = {
    "secret": OpenLineageConfig(api_key=ApiKey(KEY), url=URL, namespace=NAMESPACE),
    "existing-secret": OpenLineageConfig(method="existing-secret", secret_name="mine", url=URL, namespace=NAMESPACE),
    "vault-file-key-ref": OpenLineageConfig(method="vault", url=URL, namespace=NAMESPACE, method_settings=VAULT),
    "vault-config-file": OpenLineageConfig(method="vault", url=URL, namespace=NAMESPACE,
                                           method_settings=VAULT_CONFIG_FILE),
}
COMPONENTS = 4


def plaintext(data: bytes) -> list[str]:
    """The --forbid-plaintext findings of a whole stream."""
    return programs.check(data, ComponentRules.build(None, ".", None), forbid_plaintext=True).policy


def stream_of(*docs: dict[str, Any]) -> bytes:
    """A plain multi-document stream."""
    return yaml.safe_dump_all(docs, sort_keys=False).encode()


def deployment(name: str, env: list[dict[str, Any]], component: str = "worker") -> dict[str, Any]:
    """An agent Deployment with one container."""
    labels = {"app": "astro-agent", "component": component}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "agent", "image": "a", "env": env}]}}}}


GOOD_ENV = [{"name": "OPENLINEAGE_URL", "value": URL}, {"name": "OPENLINEAGE_NAMESPACE", "value": NAMESPACE},
            {"name": "OPENLINEAGE_API_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "api-key"}}}]


@pytest.mark.parametrize("name", ["helm3.yaml", "helm4.yaml"])
def test_raw_chart_output_fails(name: str) -> None:
    """The chart rendered without key configuration: every component misses the key, and the verdict says so."""
    result = programs.check((STREAMS / name).read_bytes(), ComponentRules())
    assert len(result.components) == COMPONENTS and len(result.failures) == COMPONENTS
    for checked in result.failures:
        assert checked.evaluation is not None
        assert [f.code for f in checked.evaluation.findings] == ["key-missing"]
    with pytest.raises(CheckFailed) as caught:
        check.verdict(result)
    message = str(caught.value)
    assert f"{COMPONENTS} of {COMPONENTS} agent component(s)" in message
    for name_ in ("astro-agent-dag-processor", "astro-agent-triggerer", "astro-agent-worker-default-worker",
                  "astro-agent-worker-gpu-worker"):
        assert f"Deployment/{name_}): container 'agent': OPENLINEAGE_API_KEY: is not set" in message


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("name", ["helm3.yaml", "helm4.yaml"])
def test_olrender_output_passes_for_every_method(name: str, method: str) -> None:
    """What olrender renders, by any method, passes the check, and render mode warns about nothing."""
    rendered = programs.render((STREAMS / name).read_bytes(), Settings(openlineage=METHODS[method]))
    assert rendered.warnings == []
    result = programs.check(rendered.output, ComponentRules(), Expected(URL, NAMESPACE))
    assert len(result.components) == COMPONENTS and result.ok
    assert "check passed: 4 agent component(s)" in check.verdict(result)


def test_disabled_output_fails() -> None:
    """openLineage.enabled: false renders OPENLINEAGE_DISABLED=true, which --check refuses."""
    rendered = programs.render((STREAMS / "helm3.yaml").read_bytes(),
                               Settings(openlineage=OpenLineageConfig(enabled=False)))
    result = programs.check(rendered.output, ComponentRules())
    assert all("disabled" in [f.code for f in c.evaluation.findings] for c in result.components if c.evaluation)
    assert not result.ok


def test_discovery_rules_and_container_apply() -> None:
    """--component-name and --container choose what is checked, exactly as in rendering."""
    doc = deployment("etl", [])
    doc["metadata"]["labels"] = doc["spec"]["template"]["metadata"]["labels"] = {}
    doc["spec"]["template"]["spec"]["containers"].append({"name": "main", "image": "m", "env": GOOD_ENV})
    data = stream_of(doc)
    assert programs.check(data, ComponentRules()).components == []
    result = programs.check(data, ComponentRules.build(None, "^etl$", "main"))
    assert len(result.components) == 1 and result.ok
    assert result.components[0].report.container == "main"
    assert not programs.check(data, ComponentRules.build(None, "^etl$", None)).ok


def test_secret_in_the_stream_is_looked_up_by_namespace() -> None:
    """A Secret in another namespace does not satisfy a reference; one without namespace does."""
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "other"},
              "data": {"token": "eA=="}}
    worker = deployment("astro-agent-worker-a", GOOD_ENV)
    worker["metadata"]["namespace"] = "agents"
    assert programs.check(stream_of(secret, worker), ComponentRules()).ok, "other namespace: not this Secret"
    secret["metadata"]["namespace"] = "agents"
    result = programs.check(stream_of(secret, worker), ComponentRules())
    assert not result.ok
    assert result.failures[0].evaluation is not None
    assert result.failures[0].evaluation.findings[0].code == "key-secret-missing-key"


def test_no_component_is_no_match_unless_allowed() -> None:
    """A stream without components fails with exit 5, like rendering; --allow-no-match passes it."""
    data = stream_of({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    result = programs.check(data, ComponentRules())
    with pytest.raises(NoMatchError):
        check.verdict(result)
    assert "no agent component" in check.verdict(result, allow_no_match=True)


def test_empty_stream_passes() -> None:
    """A chart that renders nothing has nothing to check."""
    result = programs.check(b"", ComponentRules())
    assert "holds no documents" in check.verdict(result)


def expected(options: dict[str, Any], values: dict[str, Any]) -> Any:
    """What --check expects, resolved as rendering resolves its settings (a check needs no key)."""
    settings, _ = resolve(options, values, {}, lambda _: "", check=True)
    return method_for(settings.openlineage).expected()


def test_expectations_come_from_options_then_values() -> None:
    """--url/--namespace beat openLineage.url/namespace from the values files, through config.resolve."""
    values = {"openLineage": {"url": "https://values", "namespace": "from-values"}}
    given = expected({"url": "https://option"}, values)
    assert (given.url, given.namespace) == ("https://option", "from-values")
    empty = expected({}, {})
    assert (empty.url, empty.namespace) == (None, None)


def test_a_check_resolution_needs_no_key_but_a_render_does() -> None:
    """The secret and existing-secret methods need a key or a Secret name to render, not to check."""
    with pytest.raises(ConfigError, match="the secret method needs a key"):
        resolve({}, {}, {}, lambda _: "")
    with pytest.raises(ConfigError, match="the existing-secret method needs --api-key-secret"):
        resolve({"method": "existing-secret"}, {}, {}, lambda _: "")
    for options in ({}, {"method": "existing-secret"}):
        settings, _ = resolve(options, {}, {}, lambda _: "", check=True)
        assert settings.openlineage.api_key is None


def test_render_mode_warns_about_a_transport_override() -> None:
    """Rendering injects the key but warns that the container's own transport will ignore it."""
    env = [{"name": "AIRFLOW__OPENLINEAGE__TRANSPORT", "value": '{"type": "http", "url": "https://x"}'}]
    data = stream_of(deployment("astro-agent-triggerer", env, "triggerer"))
    result = programs.render(data, Settings(openlineage=METHODS["secret"]))
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert warning.startswith("document 1 (Deployment/astro-agent-triggerer): container 'agent': "
                              "AIRFLOW__OPENLINEAGE__TRANSPORT: configures the OpenLineage transport")
    assert result.findings[(1, 0)] and result.plan.reports[0].findings == [] and KEY not in warning
    assert not programs.check(result.output, ComponentRules()).ok, "check fails on the same output"


def test_render_mode_warns_about_missing_namespace() -> None:
    """Rendering without a namespace warns (and still renders)."""
    data = stream_of(deployment("astro-agent-worker-a", []))
    result = programs.render(data, Settings(openlineage=OpenLineageConfig(api_key=ApiKey(KEY), url=URL)))
    assert [w.split(": ")[2] for w in result.warnings] == ["OPENLINEAGE_NAMESPACE"]
    assert result.output


def test_render_mode_disabled_does_not_lint() -> None:
    """With openLineage.enabled: false the missing key is intended, not a warning."""
    data = stream_of(deployment("astro-agent-worker-a", []))
    result = programs.render(data, Settings(openlineage=OpenLineageConfig(enabled=False)))
    assert result.warnings == []


def test_plaintext_in_olrender_secret_output() -> None:
    """The secret method's own Secret is plaintext in the release; existing-secret and vault are not."""
    data = (STREAMS / "helm3.yaml").read_bytes()
    secret = programs.render(data, Settings(openlineage=METHODS["secret"])).output
    found = plaintext(secret)
    assert len(found) == 1 and "Secret/openlineage-api-key-secret" in found[0] and "api-key" in found[0]
    assert KEY not in found[0]
    for method in ("existing-secret", "vault-file-key-ref", "vault-config-file"):
        assert plaintext(programs.render(data, Settings(openlineage=METHODS[method])).output) == []
    assert plaintext(data) == []


def test_plaintext_by_reference_config_map_and_literal() -> None:
    """A Secret referenced by OPENLINEAGE_API_KEY, an OpenLineage key in a ConfigMap, and a literal key."""
    referenced = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                  "data": {"lineage": "eA==", "other": "eA=="}}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
                  "data": {"OPENLINEAGE_API_KEY": "sk-test-cm"}}
    env = [{"name": "OPENLINEAGE_API_KEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "lineage"}}}]
    literal = [{"name": "OPENLINEAGE_API_KEY", "value": "sk-test-literal"}]
    found = plaintext(stream_of(referenced, config_map, deployment("astro-agent-worker-a", env),
                                           deployment("astro-agent-worker-b", literal)))
    assert len(found) == 3
    assert "Secret data lineage looks like" in found[0]
    assert "ConfigMap data OPENLINEAGE_API_KEY" in found[1]
    assert "sets OPENLINEAGE_API_KEY to a literal value" in found[2]
    assert not any("sk-test" in item for item in found)


def test_forbid_plaintext_fails_the_check() -> None:
    """--check --forbid-plaintext fails on the secret method's output although every component is fine."""
    rendered = programs.render((STREAMS / "helm4.yaml").read_bytes(), Settings(openlineage=METHODS["secret"]))
    result = programs.check(rendered.output, ComponentRules(), forbid_plaintext=True)
    assert result.failures == [] and not result.ok
    with pytest.raises(CheckFailed, match="--forbid-plaintext"):
        check.verdict(result)
