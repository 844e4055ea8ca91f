"""Tests for postrenderer.lint: how the key, URL and namespace reach a container, and what is wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from postrenderer.lint import Expected, Variable, collect_env, is_sensitive, lint_container

URL = {"name": "OPENLINEAGE_URL", "value": "https://o11y.astronomer.io"}
NAMESPACE = {"name": "OPENLINEAGE_NAMESPACE", "value": "ultraviolet-corona-6870"}
KEY_REF = {"name": "OPENLINEAGE_API_KEY",
           "valueFrom": {"secretKeyRef": {"name": "openlineage-api-key-secret", "key": "api-key"}}}
FILE_KEY_REF = {"name": "OPENLINEAGE_API_KEY", "valueFrom": {"fileKeyRef": {
    "volumeName": "openlineage-volume", "path": "openlineage.env", "key": "OPENLINEAGE_API_KEY"}}}
VAULT_INIT = {"name": "vault-openlineage", "image": "hashicorp/vault:2.0.4",
              "command": ["vault", "agent", "-config=/vault/config/agent.hcl"],
              "volumeMounts": [{"name": "openlineage-volume", "mountPath": "/vault/secrets"}]}
MEMORY = {"name": "openlineage-volume", "emptyDir": {"medium": "Memory"}}


def container(*env: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A main container with these env entries."""
    return {"name": "agent", "image": "agent:1", "env": list(env), **extra}


def codes(result: Any) -> list[str]:
    """The finding codes of an evaluation."""
    return [f.code for f in result.findings]


def lookup_of(objects: Mapping[tuple[str, str], Mapping[str, str | None]]) -> Any:
    """A lookup over a fixed set of (kind, name) -> keys."""
    return lambda kind, name: objects.get((kind, name))


def test_complete_configuration_passes() -> None:
    """Key from a Secret, URL and namespace: no findings, and the evaluation says where each comes from."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF), {})
    assert result.ok and result.findings == []
    assert result.key == "Secret openlineage-api-key-secret key api-key"
    assert result.url == "'https://o11y.astronomer.io'" and result.namespace == "'ultraviolet-corona-6870'"
    assert any("not in the stream" in note for note in result.notes)


def test_missing_key_url_and_namespace_each_name_the_variable() -> None:
    """A bare container misses all three; each finding names container and variable and says how to fix it."""
    result = lint_container(container(), {})
    assert codes(result) == ["key-missing", "url-missing", "namespace-missing"]
    for finding in result.findings:
        text = str(finding)
        assert text.startswith("container 'agent': OPENLINEAGE_") and "Fix: " in text


def test_empty_url_is_missing() -> None:
    """An empty OPENLINEAGE_URL counts as missing."""
    result = lint_container(container({"name": "OPENLINEAGE_URL", "value": ""}, NAMESPACE, KEY_REF), {})
    assert codes(result) == ["url-missing"] and "is empty" in result.findings[0].problem


@pytest.mark.parametrize("override", [
    {"name": "AIRFLOW__OPENLINEAGE__TRANSPORT", "value": json.dumps({"type": "http", "url": "https://x"})},
    {"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "http"},
    {"name": "OPENLINEAGE_CONFIG", "value": "/etc/openlineage/openlineage.yml"},
    {"name": "AIRFLOW__OPENLINEAGE__CONFIG_PATH", "value": "openlineage.yml"},
])
def test_transport_override_makes_the_key_ignored(override: dict[str, Any]) -> None:
    """The silent case: a transport configured another way makes OPENLINEAGE_API_KEY be ignored."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, override), {})
    assert "transport-override" in codes(result)
    finding = next(f for f in result.findings if f.code == "transport-override")
    assert finding.variable == override["name"]
    assert "silently ignored" in finding.problem and "OPENLINEAGE__TRANSPORT__AUTH__APIKEY" in finding.fix
    assert not result.ok


def test_transport_override_with_its_own_key_passes() -> None:
    """Dynamic auth variables merge into the transport: the key reaches it, OPENLINEAGE_API_KEY is just ignored."""
    transport = {"name": "AIRFLOW__OPENLINEAGE__TRANSPORT", "value": '{"type": "http", "url": "https://x"}'}
    auth_type = {"name": "OPENLINEAGE__TRANSPORT__AUTH__TYPE", "value": "api_key"}
    auth_key = {"name": "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "valueFrom": KEY_REF["valueFrom"]}
    result = lint_container(container(NAMESPACE, KEY_REF, transport, auth_type, auth_key), {})
    assert result.ok, result.findings
    assert "dynamic auth" in str(result.key)
    assert any("OPENLINEAGE_API_KEY is ignored" in note for note in result.notes)


def test_api_key_without_auth_type_is_flagged() -> None:
    """OPENLINEAGE__TRANSPORT__AUTH__APIKEY does nothing unless the auth type is api_key."""
    auth_key = {"name": "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "valueFrom": KEY_REF["valueFrom"]}
    result = lint_container(container(URL, NAMESPACE, auth_key), {})
    assert "transport-auth-type" in codes(result)


def test_transport_json_with_its_own_key_passes_and_url_comes_from_it() -> None:
    """A JSON transport that holds auth and url configures everything itself."""
    value = json.dumps({"type": "http", "url": "https://x", "auth": {"type": "api_key", "apiKey": "sk-test-json"}})
    transport = {"name": "AIRFLOW__OPENLINEAGE__TRANSPORT", "value": value}
    result = lint_container(container(NAMESPACE, transport), {})
    assert result.ok, result.findings
    assert result.url == "the transport in AIRFLOW__OPENLINEAGE__TRANSPORT"


def test_transport_without_url_is_flagged() -> None:
    """A dynamic http transport without OPENLINEAGE__TRANSPORT__URL has no URL: OPENLINEAGE_URL is ignored."""
    kind = {"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "http"}
    auth_type = {"name": "OPENLINEAGE__TRANSPORT__AUTH__TYPE", "value": "api_key"}
    auth_key = {"name": "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "valueFrom": KEY_REF["valueFrom"]}
    result = lint_container(container(URL, NAMESPACE, kind, auth_type, auth_key), {})
    assert codes(result) == ["url-missing"]
    assert result.findings[0].variable.startswith("OPENLINEAGE__TRANSPORT__")


def test_transport_without_any_key_is_flagged() -> None:
    """A transport from a file olrender cannot read, and no key anywhere."""
    config = {"name": "OPENLINEAGE_CONFIG", "value": "/etc/openlineage/openlineage.yml"}
    result = lint_container(container(NAMESPACE, config), {})
    assert codes(result) == ["transport-without-key"]
    assert "cannot see" in result.findings[0].problem


@pytest.mark.parametrize("variable", ["OPENLINEAGE_DISABLED", "AIRFLOW__OPENLINEAGE__DISABLED"])
@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_disabled_alongside_configuration(variable: str, value: str) -> None:
    """OPENLINEAGE_DISABLED=true switches everything off, whatever else is configured."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, {"name": variable, "value": value}), {})
    assert codes(result) == ["disabled"] and result.findings[0].variable == variable


def test_disabled_false_is_fine() -> None:
    """The Astro Deployment's own OPENLINEAGE_DISABLED=False is not a problem."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, {"name": "OPENLINEAGE_DISABLED", "value": "False"}), {})
    assert result.ok


def test_vault_file_key_ref_is_accepted_with_its_writer() -> None:
    """fileKeyRef to an emptyDir written by the Vault Agent init container."""
    spec = {"initContainers": [VAULT_INIT], "volumes": [MEMORY]}
    result = lint_container(container(URL, NAMESPACE, FILE_KEY_REF), spec)
    assert result.ok, result.findings
    assert "vault-openlineage" in str(result.key)


@pytest.mark.parametrize(("spec", "code"), [
    ({"initContainers": [VAULT_INIT]}, "key-file-volume"),
    ({"initContainers": [VAULT_INIT], "volumes": [{"name": "openlineage-volume", "configMap": {"name": "x"}}]},
     "key-file-volume"),
    ({"volumes": [MEMORY]}, "key-file-writer"),
])
def test_broken_file_key_ref(spec: dict[str, Any], code: str) -> None:
    """fileKeyRef needs its volume, an emptyDir, and an init container that writes it."""
    assert codes(lint_container(container(URL, NAMESPACE, FILE_KEY_REF), spec)) == [code]


def test_vault_file_key_ref_with_a_transport_override() -> None:
    """The vault-specific case: fileKeyRef delivery only feeds OPENLINEAGE_API_KEY, which a transport ignores."""
    spec = {"initContainers": [VAULT_INIT], "volumes": [MEMORY]}
    transport = {"name": "OPENLINEAGE__TRANSPORT__URL", "value": "https://x"}
    result = lint_container(container(URL, NAMESPACE, FILE_KEY_REF, transport), spec)
    assert codes(result) == ["vault-transport-override"]
    assert "--vault-delivery config-file" in result.findings[0].fix


def test_vault_config_file_is_trusted_when_the_agent_renders_it() -> None:
    """The config-file delivery: the Vault Agent init container renders the whole transport, key included."""
    config = [{"name": n, "value": "/vault/secrets/openlineage.yml"}
              for n in ("OPENLINEAGE_CONFIG", "AIRFLOW__OPENLINEAGE__CONFIG_PATH")]
    main = container(URL, NAMESPACE, *config,
                     volumeMounts=[{"name": "openlineage-volume", "mountPath": "/vault/secrets", "readOnly": True}])
    result = lint_container(main, {"initContainers": [VAULT_INIT], "volumes": [MEMORY]})
    assert result.ok, result.findings
    assert "rendered by Vault Agent" in str(result.key) and "rendered by Vault Agent" in str(result.url)


def test_file_ref_is_not_a_kubernetes_field() -> None:
    """The vendor's valueFrom.fileRef ends up empty."""
    entry = {"name": "OPENLINEAGE_API_KEY", "valueFrom": {"fileRef": {"path": "/vault/secrets/key"}}}
    result = lint_container(container(URL, NAMESPACE, entry), {})
    assert codes(result) == ["key-invalid-source"]


def test_secret_in_the_stream_without_the_key() -> None:
    """A secretKeyRef to a Secret the stream holds, but without that key."""
    lookup = lookup_of({("Secret", "openlineage-api-key-secret"): {"token": None}})
    result = lint_container(container(URL, NAMESPACE, KEY_REF), {}, lookup)
    assert codes(result) == ["key-secret-missing-key"]


def test_optional_reference_to_a_secret_outside_the_stream() -> None:
    """optional: true lets the pod start without the key."""
    entry = {"name": "OPENLINEAGE_API_KEY",
             "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}}
    assert codes(lint_container(container(URL, NAMESPACE, entry), {})) == ["key-optional"]


def test_empty_literal_key() -> None:
    """An empty literal key is no key."""
    entry = {"name": "OPENLINEAGE_API_KEY", "value": ""}
    assert codes(lint_container(container(URL, NAMESPACE, entry), {})) == ["key-empty"]


def test_literal_key_is_noted_but_never_shown() -> None:
    """A literal key works but is plaintext; neither the evaluation nor its notes show it."""
    entry = {"name": "OPENLINEAGE_API_KEY", "value": "sk-test-literal-0001"}
    result = lint_container(container(URL, NAMESPACE, entry), {})
    assert result.ok
    assert "sk-test-literal-0001" not in json.dumps(result.to_dict())
    assert any("plaintext" in note for note in result.notes)


def test_env_from_config_map_in_the_stream() -> None:
    """Variables from an envFrom ConfigMap in the stream count (with the prefix); env beats envFrom."""
    lookup = lookup_of({("ConfigMap", "ol"): {"URL": "https://x", "NAMESPACE": "ns"}})
    main = container(KEY_REF, envFrom=[{"configMapRef": {"name": "ol"}, "prefix": "OPENLINEAGE_"}])
    result = lint_container(main, {}, lookup)
    assert result.ok, result.findings
    assert result.url == "'https://x' from envFrom configMapRef ol"


def test_env_from_outside_the_stream_is_named_in_the_finding() -> None:
    """A variable that might come from an envFrom source olrender cannot see: still missing, but says so."""
    main = container(URL, KEY_REF, envFrom=[{"secretRef": {"name": "external"}}])
    result = lint_container(main, {})
    assert codes(result) == ["namespace-missing"]
    assert "envFrom secretRef external" in result.findings[0].problem


def test_env_beats_env_from_and_later_entries_win() -> None:
    """Kubernetes semantics: env overrides envFrom, and the last duplicate env entry wins."""
    lookup = lookup_of({("ConfigMap", "c"): {"OPENLINEAGE_URL": "from-config-map"}})
    main = container({"name": "OPENLINEAGE_URL", "value": "first"}, {"name": "OPENLINEAGE_URL", "value": "last"},
                     envFrom=[{"configMapRef": {"name": "c"}}])
    variables, unresolved = collect_env(main, lookup)
    assert variables["OPENLINEAGE_URL"].value == "last" and unresolved == []


def test_expected_url_and_namespace_must_match() -> None:
    """Configured values (``--url``, ``--namespace``) that the stream does not carry are failures."""
    expected = Expected(url="https://lineage.example.com", namespace="other")
    result = lint_container(container(URL, NAMESPACE, KEY_REF), {}, expected=expected)
    assert codes(result) == ["url-mismatch", "namespace-mismatch"]


def test_sensitive_names() -> None:
    """Keys, tokens, transports and connections are sensitive; URLs and namespaces are not."""
    for name in ("OPENLINEAGE_API_KEY", "ASTRO_AGENT_CLIENT_API_TOKEN", "AIRFLOW__OPENLINEAGE__TRANSPORT",
                 "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "AIRFLOW_CONN_MY_DB", "DB_PASSWORD"):
        assert is_sensitive(name), name
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "TZ"):
        assert not is_sensitive(name), name


def test_describe_hides_sensitive_literals() -> None:
    """Variable.describe shows plain values but never a sensitive literal."""
    assert Variable("TZ", "env", {"name": "TZ", "value": "UTC"}, "UTC").describe() == "'UTC'"
    hidden = Variable("X_TOKEN", "env", {"name": "X_TOKEN", "value": "sk-test-1"}, "sk-test-1").describe()
    assert "sk-test-1" not in hidden
