"""Tests for postrenderer.lint.container: how the key, URL and namespace reach a container, and what is wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from postrenderer.lint.container import lint_container
from postrenderer.lint.evaluation import Expected, Variable, collect_env
from postrenderer.read.variables import is_sensitive

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


def config_map_file(content: str, *names: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Env entries naming a config file, the pod spec mounting it from a ConfigMap, and the stream's lookup."""
    env = [{"name": n, "value": "/etc/openlineage/openlineage.yml"} for n in names]
    spec = {"volumes": [{"name": "config", "configMap": {"name": "openlineage"}}]}
    mounts = {"volumeMounts": [{"name": "config", "mountPath": "/etc/openlineage", "readOnly": True}]}
    return {"env": env, **mounts}, spec, lookup_of({("ConfigMap", "openlineage"): {"openlineage.yml": content}})


HTTP_FILE = "transport:\n  type: http\n  url: https://lineage.example.com\n"


@pytest.mark.parametrize("override", [
    [{"name": "AIRFLOW__OPENLINEAGE__TRANSPORT", "value": json.dumps({"type": "http", "url": "https://x"})}],
    [{"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "http"}, {"name": "OPENLINEAGE__TRANSPORT__URL", "value": "https://x"}],
    [{"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "composite"},
     {"name": "OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__TYPE", "value": "http"},
     {"name": "OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__URL", "value": "https://x"}],
], ids=["airflow-json", "dynamic-http", "own-default-http"])
def test_transport_override_makes_the_key_ignored(override: list[dict[str, Any]]) -> None:
    """The silent case: a transport of another kind of configuration leaves OPENLINEAGE_API_KEY unused."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, *override), {})
    assert codes(result) == ["transport-override"]
    finding = result.findings[0]
    assert finding.variable == override[0]["name"]
    assert "silently ignored" in finding.problem and "OPENLINEAGE__TRANSPORT__AUTH__APIKEY" in finding.fix


@pytest.mark.parametrize("names", [("OPENLINEAGE_CONFIG",), ("AIRFLOW__OPENLINEAGE__CONFIG_PATH",)])
def test_config_file_with_an_http_transport_makes_the_key_ignored(names: tuple[str, ...]) -> None:
    """A config file from a ConfigMap in the stream is read: its http transport has no key."""
    extra, spec, lookup = config_map_file(HTTP_FILE, *names)
    result = lint_container(container(URL, NAMESPACE, KEY_REF, *extra.pop("env"), **extra), spec, lookup)
    assert codes(result) == ["transport-override"] and result.findings[0].variable == names[0]
    assert result.url == "the config file /etc/openlineage/openlineage.yml (ConfigMap openlineage)"


@pytest.mark.parametrize("extra", [
    [{"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "async_http"}],
    [{"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "composite"}],
    [{"name": "OPENLINEAGE__TRANSPORT__URL", "value": "https://x"}],
    [{"name": "OPENLINEAGE__TRANSPORT__TIMEOUT", "value": "10"}],
], ids=["async_http", "composite", "typeless-url", "typeless-timeout"])
def test_settings_that_keep_the_key_in_use(extra: list[dict[str, Any]]) -> None:
    """Reported as overrides before: the client copies OPENLINEAGE_URL and the key into async_http and into the
    default_http transport of a composite, and ignores OPENLINEAGE__TRANSPORT__* without a type."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, *extra), {})
    assert result.ok, [str(f) for f in result.findings]
    assert result.key == "Secret openlineage-api-key-secret key api-key"
    assert result.url == "'https://o11y.astronomer.io'"


@pytest.mark.parametrize("extra", [
    [{"name": "AIRFLOW__OPENLINEAGE__TRANSPORT",
      "value": json.dumps({"type": "composite", "transports": {"console": {"type": "console"}}})}],
    [{"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "composite"},
     {"name": "OPENLINEAGE__TRANSPORT__TRANSPORTS__MINE__TYPE", "value": "console"}],
], ids=["airflow-composite", "dynamic-composite"])
def test_a_composite_of_its_own_also_sends_to_the_url(extra: list[dict[str, Any]]) -> None:
    """The client adds OPENLINEAGE_URL (with the key) beside the composite's own transports: one finding, with the
    opt-out; the key still counts as in use (tests/oracles/test_lint_behaviours.py measures both consumers)."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, *extra), {})
    assert codes(result) == ["composite-also-url"]
    assert "OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP='{}'" in result.findings[0].fix
    assert result.key == "Secret openlineage-api-key-secret key api-key"
    opted_out = lint_container(container(URL, NAMESPACE, KEY_REF, *extra, {
        "name": "OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP", "value": "{}"}), {})
    assert "composite-also-url" not in codes(opted_out)


def test_config_file_without_a_transport_keeps_the_key_in_use() -> None:
    """A config file that configures no transport changes nothing about the key."""
    extra, spec, lookup = config_map_file("filters: []\n", "OPENLINEAGE_CONFIG", "AIRFLOW__OPENLINEAGE__CONFIG_PATH")
    result = lint_container(container(URL, NAMESPACE, KEY_REF, *extra.pop("env"), **extra), spec, lookup)
    assert result.ok, [str(f) for f in result.findings]
    assert result.key == "Secret openlineage-api-key-secret key api-key"


def test_typeless_settings_are_noted_as_ignored() -> None:
    """OPENLINEAGE__TRANSPORT__* without a type: one note, no finding."""
    timeout = {"name": "OPENLINEAGE__TRANSPORT__TIMEOUT", "value": "10"}
    result = lint_container(container(URL, NAMESPACE, KEY_REF, timeout), {})
    assert result.findings == []
    assert [n for n in result.notes if "TIMEOUT" in n] == [
        "OPENLINEAGE__TRANSPORT__TIMEOUT: ignored, since no transport type is set (OPENLINEAGE__TRANSPORT__TYPE)"]


def test_transport_override_with_its_own_key_passes() -> None:
    """Dynamic auth variables merge into the transport: the key reaches it, OPENLINEAGE_API_KEY is just ignored."""
    transport = {"name": "AIRFLOW__OPENLINEAGE__TRANSPORT", "value": '{"type": "http", "url": "https://x"}'}
    auth_type = {"name": "OPENLINEAGE__TRANSPORT__AUTH__TYPE", "value": "api_key"}
    auth_key = {"name": "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "valueFrom": KEY_REF["valueFrom"]}
    result = lint_container(container(NAMESPACE, KEY_REF, transport, auth_type, auth_key), {})
    assert result.ok, result.findings
    assert result.key == "OPENLINEAGE__TRANSPORT__AUTH__APIKEY, secretKeyRef openlineage-api-key-secret/api-key"
    assert any("OPENLINEAGE_API_KEY is ignored" in note for note in result.notes)


def test_api_key_of_a_typed_transport_needs_the_auth_type() -> None:
    """OPENLINEAGE__TRANSPORT__AUTH__APIKEY does nothing unless the auth type is api_key."""
    kind = {"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "http"}
    transport_url = {"name": "OPENLINEAGE__TRANSPORT__URL", "value": "https://x"}
    auth_key = {"name": "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "valueFrom": KEY_REF["valueFrom"]}
    result = lint_container(container(NAMESPACE, kind, transport_url, auth_key), {})
    assert codes(result) == ["transport-auth-type"]


def test_auth_variables_without_a_transport_type_are_ignored() -> None:
    """Without OPENLINEAGE__TRANSPORT__TYPE the client ignores the auth variables and uses OPENLINEAGE_URL, keyless."""
    auth_type = {"name": "OPENLINEAGE__TRANSPORT__AUTH__TYPE", "value": "api_key"}
    auth_key = {"name": "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "valueFrom": KEY_REF["valueFrom"]}
    result = lint_container(container(URL, NAMESPACE, auth_type, auth_key), {})
    assert codes(result) == ["transport-type-missing"]
    assert "unless OPENLINEAGE__TRANSPORT__TYPE is set" in result.findings[0].problem
    assert lint_container(container(URL, NAMESPACE, KEY_REF, auth_type, auth_key), {}).ok


@pytest.mark.parametrize("variable", ["AIRFLOW__OPENLINEAGE__TRANSPORT", "OPENLINEAGE__TRANSPORT"])
def test_transport_json_with_its_own_key_passes_and_url_comes_from_it(variable: str) -> None:
    """A JSON transport that holds auth and url configures everything itself; its value is never shown."""
    value = json.dumps({"type": "http", "url": "https://x", "auth": {"type": "api_key", "apiKey": "sk-test-json"}})
    result = lint_container(container(NAMESPACE, {"name": variable, "value": value}), {})
    assert result.ok, result.findings
    assert result.url == result.key == f"{variable}, a literal value (redacted)"
    assert "sk-test-json" not in json.dumps(result.to_dict())


def test_transport_without_url_is_flagged() -> None:
    """A dynamic http transport without OPENLINEAGE__TRANSPORT__URL has no URL: OPENLINEAGE_URL is ignored."""
    kind = {"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "http"}
    auth_type = {"name": "OPENLINEAGE__TRANSPORT__AUTH__TYPE", "value": "api_key"}
    auth_key = {"name": "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "valueFrom": KEY_REF["valueFrom"]}
    result = lint_container(container(URL, NAMESPACE, kind, auth_type, auth_key), {})
    assert codes(result) == ["url-missing"]
    assert result.findings[0].variable == "OPENLINEAGE__TRANSPORT__TYPE"


def test_transport_without_any_key_is_flagged() -> None:
    """A transport of its own, and no key anywhere."""
    kind = {"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "http"}
    transport_url = {"name": "OPENLINEAGE__TRANSPORT__URL", "value": "https://x"}
    result = lint_container(container(NAMESPACE, kind, transport_url), {})
    assert codes(result) == ["transport-without-key"]


def test_transport_that_does_not_send_over_http() -> None:
    """A console (or file, kafka...) transport never reaches the OpenLineage API."""
    kind = {"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "console"}
    result = lint_container(container(URL, NAMESPACE, KEY_REF, kind), {})
    assert codes(result) == ["transport-not-http"] and "console transport" in result.findings[0].problem


@pytest.mark.parametrize(("entry", "why"), [
    ({"name": "OPENLINEAGE_CONFIG", "value": "/etc/openlineage/openlineage.yml"}, "on no volume of the pod"),
    ({"name": "AIRFLOW__OPENLINEAGE__CONFIG_PATH", "value": "openlineage.yml"}, "relative to the container's"),
    ({"name": "AIRFLOW__OPENLINEAGE__TRANSPORT", "valueFrom": {"secretKeyRef": {"name": "t", "key": "json"}}},
     "secretKeyRef t/json"),
    ({"name": "AIRFLOW__OPENLINEAGE__CONFIG_CONN_ID", "value": "openlineage"}, "the Airflow connection"),
    ({"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "my_company.lineage.Transport"}, "the transport class"),
])
def test_what_olrender_cannot_see(entry: dict[str, Any], why: str) -> None:
    """A transport setting olrender cannot read is a finding that says so (not a claim that the key is ignored)."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, entry), {})
    assert codes(result) == ["transport-unseen"] and result.findings[0].variable == entry["name"]
    assert why in result.findings[0].problem and "silently" not in result.findings[0].problem


def test_config_file_on_a_volume_olrender_cannot_read() -> None:
    """A config file on a Secret volume (or any volume but a ConfigMap or olrender's Vault Agent emptyDir)."""
    spec = {"volumes": [{"name": "config", "secret": {"secretName": "openlineage"}}]}
    main = container(URL, NAMESPACE, KEY_REF, {"name": "OPENLINEAGE_CONFIG", "value": "/etc/openlineage/ol.yml"},
                     volumeMounts=[{"name": "config", "mountPath": "/etc/openlineage"}])
    result = lint_container(main, spec)
    assert codes(result) == ["transport-unseen"] and "on volume config" in result.findings[0].problem


def test_an_entry_without_a_value_is_empty() -> None:
    """Kubernetes gives an env entry without value or valueFrom the empty string: an empty type is no type."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, {"name": "OPENLINEAGE__TRANSPORT__TYPE"}), {})
    assert result.ok and result.transport is not None and result.transport.by is None


@pytest.mark.parametrize(("entry", "problem"), [
    ({"name": "AIRFLOW__OPENLINEAGE__DISABLED", "value": "yes"}, "is not a boolean Airflow can read"),
    ({"name": "AIRFLOW__OPENLINEAGE__TRANSPORT", "value": "{not json"}, "is not valid JSON"),
    ({"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "HTTP"}, "the transport type 'HTTP' is not one"),
])
def test_settings_the_client_fails_on(entry: dict[str, Any], problem: str) -> None:
    """Settings Airflow or the client cannot start with: the finding names the variable and the reason."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, entry), {})
    assert codes(result) == ["transport-invalid"] and result.findings[0].variable == entry["name"]
    assert result.findings[0].problem.startswith(problem)


def test_config_path_to_a_file_the_config_map_lacks() -> None:
    """Airflow fails on a config file that does not exist (the client alone would look elsewhere)."""
    extra, spec, lookup = config_map_file(HTTP_FILE)
    extra.pop("env")
    missing = {"name": "AIRFLOW__OPENLINEAGE__CONFIG_PATH", "value": "/etc/openlineage/other.yml"}
    result = lint_container(container(URL, NAMESPACE, KEY_REF, missing, **extra), spec, lookup)
    assert codes(result) == ["transport-invalid"] and "does not exist" in result.findings[0].problem


@pytest.mark.parametrize(("mount", "volume"), [
    ({"mountPath": "/etc/openlineage/openlineage.yml", "subPath": "openlineage.yml"}, {"name": "openlineage"}),
    ({"mountPath": "/etc/openlineage"},
     {"name": "openlineage", "items": [{"key": "config", "path": "openlineage.yml"}]}),
])
def test_config_map_files_are_found_through_sub_paths_and_items(mount: dict[str, Any], volume: dict[str, Any]) -> None:
    """The file the container sees: a subPath mount, or a ConfigMap key projected to another file name."""
    data = {"openlineage.yml" if "subPath" in mount else "config": HTTP_FILE}
    spec = {"volumes": [{"name": "config", "configMap": volume}]}
    config = {"name": "OPENLINEAGE_CONFIG", "value": "/etc/openlineage/openlineage.yml"}
    main = container(URL, NAMESPACE, KEY_REF, config, volumeMounts=[{"name": "config", **mount}])
    result = lint_container(main, spec, lookup_of({("ConfigMap", "openlineage"): data}))
    assert codes(result) == ["transport-override"]


def test_config_map_outside_the_stream_cannot_be_seen() -> None:
    """A config file from a ConfigMap the stream does not hold."""
    extra, spec, _ = config_map_file(HTTP_FILE, "OPENLINEAGE_CONFIG")
    result = lint_container(container(URL, NAMESPACE, KEY_REF, *extra.pop("env"), **extra), spec)
    assert codes(result) == ["transport-unseen"] and "not in the stream" in result.findings[0].problem


@pytest.mark.parametrize("variable", ["OPENLINEAGE_DISABLED", "AIRFLOW__OPENLINEAGE__DISABLED"])
@pytest.mark.parametrize("value", ["true", "True", "1", "t"])
def test_disabled_alongside_configuration(variable: str, value: str) -> None:
    """A switch turns lineage off, whatever else is configured; only OPENLINEAGE_DISABLED=true (any case) turns the
    client off too, every other switch leaves it on (disabled-partly)."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, {"name": variable, "value": value}), {})
    both = variable == "OPENLINEAGE_DISABLED" and value.lower() == "true"
    assert codes(result) == ["disabled" if both else "disabled-partly"] and result.findings[0].variable == variable


@pytest.mark.parametrize("value", ["False", "yes"])
def test_disabled_false_is_fine(value: str) -> None:
    """The Astro Deployment's own OPENLINEAGE_DISABLED=False is not a problem; neither is a word Airflow ignores."""
    result = lint_container(container(URL, NAMESPACE, KEY_REF, {"name": "OPENLINEAGE_DISABLED", "value": value}), {})
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
    transport = [{"name": "OPENLINEAGE__TRANSPORT__TYPE", "value": "http"},
                 {"name": "OPENLINEAGE__TRANSPORT__URL", "value": "https://x"}]
    result = lint_container(container(URL, NAMESPACE, FILE_KEY_REF, *transport), spec)
    assert codes(result) == ["vault-transport-override"]
    assert "--vault-delivery config-file" in result.findings[0].fix


def test_vault_config_file_is_trusted_when_the_agent_renders_it() -> None:
    """The config-file delivery: the Vault Agent init container renders the whole transport, key included."""
    config = [{"name": n, "value": "/vault/secrets/openlineage.yml"}
              for n in ("OPENLINEAGE_CONFIG", "AIRFLOW__OPENLINEAGE__CONFIG_PATH")]
    main = container(URL, NAMESPACE, *config,
                     volumeMounts=[{"name": "openlineage-volume", "mountPath": "/vault/secrets", "readOnly": True}])
    pod = {"securityContext": {"fsGroup": 50000}, "initContainers": [VAULT_INIT], "volumes": [MEMORY]}  # (readable)
    result = lint_container(main, pod)
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
    """Keys, tokens, transports (whole, as JSON) and connections are sensitive; URLs and namespaces are not."""
    for name in ("OPENLINEAGE_API_KEY", "ASTRO_AGENT_CLIENT_API_TOKEN", "AIRFLOW__OPENLINEAGE__TRANSPORT",
                 "OPENLINEAGE__TRANSPORT__AUTH__APIKEY", "AIRFLOW_CONN_MY_DB", "DB_PASSWORD",
                 "OPENLINEAGE__TRANSPORT", "OPENLINEAGE__TRANSPORT__TRANSPORTS__MINE",
                 "OPENLINEAGE__TRANSPORT__CONFIG"):
        assert is_sensitive(name), name
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "TZ", "OPENLINEAGE__TRANSPORT__URL",
                 "OPENLINEAGE__TRANSPORT__TYPE", "OPENLINEAGE__TRANSPORT__TRANSPORTS__MINE__URL"):
        assert not is_sensitive(name), name


def test_describe_hides_sensitive_literals() -> None:
    """Variable.describe shows plain values but never a sensitive literal."""
    assert Variable("TZ", "env", {"name": "TZ", "value": "UTC"}, "UTC").describe() == "'UTC'"
    hidden = Variable("X_TOKEN", "env", {"name": "X_TOKEN", "value": "sk-test-1"}, "sk-test-1").describe()
    assert "sk-test-1" not in hidden
