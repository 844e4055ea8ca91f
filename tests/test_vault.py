"""Tests for postrenderer.vault: settings, agent.hcl, delivery choice, injection and vendor repairs."""

from __future__ import annotations

import copy
import re
from typing import Any

import hcl2
import jsonpatch
import pytest
import yaml

from postrenderer.config import OpenLineageConfig, Settings, resolve
from postrenderer.errors import ConfigError, InputError
from postrenderer.methods import method_for
from postrenderer.plan import build_plan
from postrenderer.vault import (
    CHECKSUM_ANNOTATION,
    CONFIG_FILE_DELIVERY,
    FILE_KEY_REF,
    INIT_CONTAINER,
    VaultConfig,
    VaultMethod,
    choose_delivery,
    parse_kube_version,
    render_agent_hcl,
    vault_config,
)

HCL = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, preserve_heredocs=False, strip_string_quotes=True
)
REQUIRED = {
    "vault_addr": "https://vault.example.com:8200",
    "vault_role": "astro-agent",
    "vault_secret_path": "secret/data/openlineage/api-key",
    "vault_secret_field": "key",
}
URL = "https://o11y.example"


def vcfg(**kw: Any) -> VaultConfig:
    """Vault settings from options (the required ones filled in)."""
    url = kw.pop("url", URL)
    block = kw.pop("block", None)
    return vault_config({**REQUIRED, **kw}, block, url)


def method(**kw: Any) -> VaultMethod:
    """A vault method with URL, namespace and endpoint."""
    config = OpenLineageConfig(
        method="vault", url=URL, namespace="ns-1", endpoint="/api/v1/lineage?x=1", vault=vcfg(**kw)
    )
    found = method_for(config)
    assert isinstance(found, VaultMethod)
    return found


def parse(text: str) -> dict[str, Any]:
    """agent.hcl as python-hcl2 reads it."""
    return dict(hcl2.loads(text, serialization_options=HCL))


# --- settings -------------------------------------------------------------------------------


def test_defaults() -> None:
    """Defaults: auth/kubernetes, documented image, vault-agent-config, Kubernetes 1.35 -> fileKeyRef."""
    cfg = vcfg()
    assert (cfg.auth_path, cfg.image, cfg.config_map) == ("auth/kubernetes", "hashicorp/vault:2.0.4",
                                                          "vault-agent-config")
    assert (cfg.kube_version, cfg.delivery, cfg.create_config_map) == ("1.35", FILE_KEY_REF, True)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_required_settings_are_named(missing: str) -> None:
    """Each required setting missing is an error naming its flag and values key."""
    options = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(ConfigError, match="invalid config: the vault method needs --" + missing.replace("_", "-")):
        vault_config(options, None, URL)


def test_values_block_and_precedence() -> None:
    """camelCase values keys are read; an option beats the values file."""
    block = {"addr": "https://from-values:8200", "role": "r", "secretPath": "kv/app/key", "secretField": "f",
             "authPath": "/auth/k8s/", "kubeVersion": "1.33", "createConfigMap": False, "configMap": "cm"}
    cfg = vault_config({"vault_addr": "https://from-cli:8200"}, block, URL)
    assert cfg.addr == "https://from-cli:8200" and cfg.role == "r" and cfg.auth_path == "auth/k8s"
    assert (cfg.delivery, cfg.create_config_map, cfg.config_map) == (CONFIG_FILE_DELIVERY, False, "cm")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"adress": "x"}, "openLineage.vault.adress is not a Vault setting"),
        ({"kubeVersion": 1.35}, 'openLineage.vault.kubeVersion must be a string, got 1.35 (quote it: "1.35")'),
        ({"createConfigMap": "no"}, "openLineage.vault.createConfigMap must be true or false"),
        ({"role": ["a"]}, "openLineage.vault.role must be a string"),
    ],
)
def test_values_types(block: dict[str, Any], message: str) -> None:
    """Unknown keys and wrong types are refused, naming the setting."""
    with pytest.raises(ConfigError, match="invalid config: " + message.replace("(", r"\(").replace(")", r"\)")):
        vault_config(REQUIRED, block, URL)


def test_block_must_be_a_mapping() -> None:
    """openLineage.vault: true is refused."""
    with pytest.raises(ConfigError, match=r"openLineage\.vault must be a mapping"):
        vault_config(REQUIRED, True, URL)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("vault_addr", "vault.example.com", "--vault-addr"),
        ("vault_secret_path", 'secret/"x"', "--vault-secret-path"),
        ("vault_secret_path", "onlyone", "--vault-secret-path"),
        ("vault_secret_field", "api-key", "--vault-secret-field"),
        ("vault_config_map", "Vault_Config", "--vault-config-map"),
        ("vault_image", "hashicorp/vault 1.0", "--vault-image"),
        ("kube_version", "latest", "--kube-version"),
    ],
)
def test_bad_values(option: str, value: str, message: str) -> None:
    """Malformed settings are refused with the flag's name."""
    with pytest.raises(ConfigError, match=message):
        vcfg(**{option: value})


@pytest.mark.parametrize(
    ("text", "parsed"), [("1.35", (1, 35)), ("v1.33", (1, 33)), ("1.34.2", (1, 34)), (" 1.36 ", (1, 36))]
)
def test_parse_kube_version(text: str, parsed: tuple[int, int]) -> None:
    """MAJOR.MINOR with an optional v and patch."""
    assert parse_kube_version(text) == parsed


@pytest.mark.parametrize(
    ("kube", "forced", "delivery"),
    [
        ((1, 29), None, CONFIG_FILE_DELIVERY),
        ((1, 33), None, CONFIG_FILE_DELIVERY),
        ((1, 34), None, CONFIG_FILE_DELIVERY),  # alpha gate, other file format
        ((1, 35), None, FILE_KEY_REF),
        ((1, 38), None, FILE_KEY_REF),
        ((1, 33), CONFIG_FILE_DELIVERY, CONFIG_FILE_DELIVERY),
        ((1, 35), CONFIG_FILE_DELIVERY, CONFIG_FILE_DELIVERY),
        ((1, 35), FILE_KEY_REF, FILE_KEY_REF),
        ((2, 0), FILE_KEY_REF, FILE_KEY_REF),
    ],
)
def test_delivery_matrix(kube: tuple[int, int], forced: str | None, delivery: str) -> None:
    """The delivery follows the Kubernetes version unless forced."""
    assert choose_delivery(kube, forced, f"{kube[0]}.{kube[1]}") == delivery


@pytest.mark.parametrize("kube", ["1.33", "1.34"])
def test_impossible_delivery_is_a_clear_error(kube: str) -> None:
    """fileKeyRef forced on a cluster older than 1.35 is refused, saying what to do instead."""
    with pytest.raises(ConfigError, match=f"file-key-ref needs Kubernetes 1.35 or later, but --kube-version is {kube}"
                       ".*Use --vault-delivery config-file"):
        vcfg(kube_version=kube, vault_delivery=FILE_KEY_REF)


def test_config_file_delivery_needs_the_url() -> None:
    """The config file holds the whole transport, so it needs the URL."""
    with pytest.raises(ConfigError, match=re.escape("needs the OpenLineage URL: set --url or openLineage.url")):
        vcfg(kube_version="1.33", url=None)


def test_resolve_selects_vault_from_the_values_block() -> None:
    """An openLineage.vault block selects the method; values settings reach VaultConfig."""
    values = {"openLineage": {"url": URL, "vault": {
        "addr": "https://v:8200", "role": "r", "secretPath": "secret/data/x", "secretField": "k"}}}
    settings, warnings = resolve({}, values, {}, lambda _: "")
    assert settings.openlineage.method == "vault" and warnings == []
    assert isinstance(settings.openlineage.vault, VaultConfig) and settings.openlineage.vault.role == "r"
    assert isinstance(method_for(settings.openlineage), VaultMethod)


def test_resolve_warns_about_an_ignored_key() -> None:
    """A plaintext key in the values file is ignored by the vault method, with a warning."""
    values = {"openLineage": {"apiKey": "sk-test-vault-0001"}}
    settings, warnings = resolve({"method": "vault", **REQUIRED}, values, {}, lambda _: "")
    assert settings.openlineage.api_key is None
    assert any("ignored: the vault method" in w for w in warnings)
    assert not any("sk-test-vault-0001" in w for w in warnings)


def test_resolve_disabled_needs_no_vault_settings() -> None:
    """openLineage.enabled: false with a vault block disables lineage without asking for Vault settings."""
    settings, _ = resolve({}, {"openLineage": {"enabled": False, "vault": {}}}, {}, lambda _: "")
    assert settings.openlineage.enabled is False and settings.openlineage.vault is None


# --- agent.hcl --------------------------------------------------------------------------------


def test_agent_hcl_file_key_ref() -> None:
    """Parses as HCL; exits after auth and on retry failure; env-file template, tight perms."""
    text = render_agent_hcl(vcfg())
    assert "exit_after_auth = true" in text
    parsed = parse(text)
    assert parsed["exit_after_auth"] is True
    assert parsed["template_config"] == [{"exit_on_retry_failure": True}]
    method_block = parsed["auto_auth"][0]["method"][0]["kubernetes"]
    assert method_block == {"mount_path": "auth/kubernetes", "config": {"role": "astro-agent"}}
    assert parsed["auto_auth"][0]["sink"][0]["file"]["config"]["path"] == "/home/vault/.vault-token"
    (template,) = parsed["template"]
    assert template["destination"] == "/vault/secrets/openlineage.env"
    assert (template["perms"], template["error_on_missing_key"]) == ("0400", True)
    assert template["contents"].startswith("OPENLINEAGE_API_KEY='{{ with secret")
    assert "OPENLINEAGE_API_KEY='{{ with secret \"secret/data/openlineage/api-key\" }}" \
           "{{ .Data.data.key }}{{ end }}'\nEOT" in text


def test_agent_hcl_config_file() -> None:
    """Below 1.35 the agent renders a whole OpenLineage config: http transport, url, endpoint, api_key auth."""
    text = render_agent_hcl(vcfg(kube_version="1.33"), URL, "/api/v1/lineage?ASTRO_DEPLOYMENT_ID=x")
    (template,) = parse(text)["template"]
    assert template["destination"] == "/vault/secrets/openlineage.yml"
    assert template["perms"] == "0440"
    body = text.split("<<EOT\n", 1)[1].split("\nEOT", 1)[0]
    config = yaml.safe_load(body.replace("{{", "'{{").replace("}}", "}}'"))
    assert config["transport"]["type"] == "http"
    assert config["transport"]["url"] == URL
    assert config["transport"]["endpoint"] == "/api/v1/lineage?ASTRO_DEPLOYMENT_ID=x"
    assert config["transport"]["auth"]["type"] == "api_key"
    assert ".Data.data.key | toJSON" in config["transport"]["auth"]["apiKey"]


def test_kv_version_one_path() -> None:
    """A path without /data/ reads a KV v1 secret."""
    text = render_agent_hcl(vcfg(vault_secret_path="kv/openlineage"))
    assert '{{ with secret "kv/openlineage" }}{{ .Data.key }}{{ end }}' in text


def test_hcl_strings_are_escaped() -> None:
    """Quotes and HCL template sequences in settings cannot break or inject into agent.hcl."""
    text = render_agent_hcl(vcfg(vault_role='a"b ${c} %{d}', vault_auth_path="auth/k8s"))
    role = parse(text)["auto_auth"][0]["method"][0]["kubernetes"]["config"]["role"]
    assert role == 'a"b $${c} %%{d}'  # one literal; $${ and %%{ are HCL's escapes for ${ and %{


def test_template_braces_in_url_are_refused() -> None:
    """A URL with template braces would be evaluated by the agent."""
    with pytest.raises(ConfigError, match="must not contain"):
        render_agent_hcl(vcfg(kube_version="1.33"), "https://x/{{ secret }}", None)


# --- injection ------------------------------------------------------------------------------


def deployment(spec_extra: dict[str, Any] | None = None, container_extra: dict[str, Any] | None = None,
               kind: str = "Deployment") -> dict[str, Any]:
    """A worker workload as the chart renders it."""
    container: dict[str, Any] = {"name": "agent", "image": "agent:1",
                                 "env": [{"name": "OPENLINEAGE_URL", "value": URL}]}
    container.update(container_extra or {})
    pod: dict[str, Any] = {
        "metadata": {"labels": {"app": "astro-agent", "component": "worker"}},
        "spec": {"containers": [container, {"name": "vector-logging-sidecar", "image": "v:1"}],
                 **(spec_extra or {})},
    }
    spec: dict[str, Any] = {"template": pod}
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": pod}}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "astro-agent-worker-a"}, "spec": spec}


VENDOR_INIT = {
    "name": INIT_CONTAINER, "image": "hashicorp/vault:1.13.1", "command": ["/bin/sh", "-c"],
    "args": ["export VAULT_ADDR=https://vault.example.com\nvault agent -config=/vault/config/agent.hcl\n"],
    "volumeMounts": [{"name": "vault-config", "mountPath": "/vault/config"},
                     {"name": "openlineage-volume", "mountPath": "/vault/secrets"}],
}
VENDOR_ENV = {"name": "OPENLINEAGE_API_KEY", "valueFrom": {"fileRef": {"path": "/vault/secrets/openlineage-api-key"}}}


def vendor_deployment(**volume: Any) -> dict[str, Any]:
    """A worker rendered from the vendor's values."""
    secrets = {"name": "openlineage-volume", "emptyDir": {"medium": "Memory"}, **volume}
    return deployment(
        {"initContainers": [copy.deepcopy(VENDOR_INIT)],
         "volumes": [{"name": "vault-config", "configMap": {"name": "vault-agent-config"}}, secrets]},
        {"env": [{"name": "OPENLINEAGE_URL", "value": URL}, copy.deepcopy(VENDOR_ENV)],
         "volumeMounts": [{"name": "openlineage-volume", "mountPath": "/vault/secrets"}]},
    )


def plan(doc: dict[str, Any], m: VaultMethod, overwrite: bool = False) -> Any:
    """Plan one document (index 1)."""
    return build_plan([(1, doc, [])], Settings(openlineage=m.config, overwrite=overwrite), m)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment or CronJob."""
    if doc["kind"] == "CronJob":
        return dict(doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(doc["spec"]["template"]["spec"])


def test_injection_file_key_ref() -> None:
    """Init container in exec form, hardened; three volumes; fileKeyRef on the main container only."""
    m = method()
    doc = deployment()
    result = plan(doc, m)
    patched = jsonpatch.apply_patch(doc, result.ops[1])
    spec = pod_spec(patched)
    (init,) = spec["initContainers"]
    assert init["command"] == ["vault", "agent", "-config=/vault/config/agent.hcl"] and "args" not in init
    assert init["env"] == [{"name": "VAULT_ADDR", "value": "https://vault.example.com:8200"}]
    assert init["securityContext"]["runAsNonRoot"] and init["securityContext"]["readOnlyRootFilesystem"]
    assert init["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert [v["name"] for v in spec["volumes"]] == ["vault-config", "openlineage-volume", "vault-home"]
    assert spec["volumes"][1]["emptyDir"] == {"medium": "Memory"}
    env = spec["containers"][0]["env"]
    assert env[-1] == {"name": "OPENLINEAGE_API_KEY", "valueFrom": {"fileKeyRef": {
        "volumeName": "openlineage-volume", "path": "openlineage.env", "key": "OPENLINEAGE_API_KEY"}}}
    assert "volumeMounts" not in spec["containers"][0]
    assert spec["containers"][1] == {"name": "vector-logging-sidecar", "image": "v:1"}
    annotations = patched["spec"]["template"]["metadata"]["annotations"]
    assert annotations[CHECKSUM_ANNOTATION] == m.checksum()
    (configmap,) = result.new_documents
    assert configmap.filename == "olrender/vault-agent-config.yaml"
    assert configmap.doc["data"]["agent.hcl"] == m.agent_hcl()
    assert result.warnings == []
    again = plan(patched, m)
    assert again.ops == {} and again.warnings == []


def test_injection_config_file() -> None:
    """Below 1.35: config file variables and a read-only mount; no OPENLINEAGE_API_KEY."""
    m = method(kube_version="1.33")
    doc = deployment()
    patched = jsonpatch.apply_patch(doc, plan(doc, m).ops[1])
    main = pod_spec(patched)["containers"][0]
    names = [e["name"] for e in main["env"]]
    assert "OPENLINEAGE_API_KEY" not in names
    assert {e["name"]: e.get("value") for e in main["env"]}["OPENLINEAGE_CONFIG"] == "/vault/secrets/openlineage.yml"
    assert "AIRFLOW__OPENLINEAGE__CONFIG_PATH" in names
    assert main["volumeMounts"] == [{"name": "openlineage-volume", "mountPath": "/vault/secrets", "readOnly": True}]


def test_checksum_follows_the_configuration() -> None:
    """Another role changes agent.hcl and so the pod annotation."""
    assert method().checksum() != method(vault_role="other").checksum()


def test_user_managed_config_map() -> None:
    """--no-vault-config-map: no ConfigMap, no checksum annotation, the named ConfigMap is mounted."""
    m = method(no_vault_config_map=True, vault_config_map="team-agent")
    assert m.documents("ns") == []
    injection = m.injection(_component(deployment(), m))
    assert injection.annotations == {}
    assert injection.volumes[0] == {"name": "vault-config", "configMap": {"name": "team-agent"}}


def test_config_map_per_namespace() -> None:
    """One ConfigMap per namespace of the components."""
    (doc,) = method().documents("agents")
    assert doc.doc["metadata"]["namespace"] == "agents" and doc.doc["kind"] == "ConfigMap"


def _component(doc: dict[str, Any], m: VaultMethod) -> Any:
    """The component of a one-workload document."""
    from postrenderer.discovery import ComponentRules, find_component
    from postrenderer.workloads import iter_workloads

    (workload,) = iter_workloads(1, doc)
    component, _ = find_component(workload, ComponentRules())
    assert component is not None
    return component


def test_cronjob_gets_the_init_container_only() -> None:
    """A CronJob component gets the init container and no extra container."""
    m = method()
    doc = deployment(kind="CronJob")
    patched = jsonpatch.apply_patch(doc, plan(doc, m).ops[1])
    spec = pod_spec(patched)
    assert [c["name"] for c in spec["initContainers"]] == [INIT_CONTAINER]
    assert "restartPolicy" not in spec["initContainers"][0]
    assert [c["name"] for c in spec["containers"]] == ["agent", "vector-logging-sidecar"]


# --- vendor repairs -------------------------------------------------------------------------


def test_vendor_values_are_repaired_with_warnings() -> None:
    """The vendor's init container and fileRef entry are replaced in place; names are reused; no duplicates."""
    m = method()
    doc = vendor_deployment()
    result = plan(doc, m)
    patched = jsonpatch.apply_patch(doc, result.ops[1])
    spec = pod_spec(patched)
    assert [c["name"] for c in spec["initContainers"]] == [INIT_CONTAINER]
    assert spec["initContainers"][0]["command"][:2] == ["vault", "agent"]
    assert [v["name"] for v in spec["volumes"]] == ["vault-config", "openlineage-volume", "vault-home"]
    env = spec["containers"][0]["env"]
    assert [e["name"] for e in env] == [
        "OPENLINEAGE_URL", "OPENLINEAGE_API_KEY", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_ENDPOINT"]
    assert "fileKeyRef" in str(env[1]) and "fileRef" not in str(patched)
    assert len(result.warnings) == 2
    assert "replaced init container vault-openlineage" in result.warnings[0]
    assert "container 'agent': replaced env OPENLINEAGE_API_KEY: valueFrom.fileRef is not" in result.warnings[1]
    again = plan(patched, m)
    assert again.ops == {} and again.warnings == [] and again.conflicts == []


def test_vendor_values_on_old_clusters_remove_file_ref() -> None:
    """Config-file delivery removes the fileRef entry and makes the vendor's mount read-only."""
    m = method(kube_version="1.33")
    doc = vendor_deployment()
    result = plan(doc, m)
    ops = result.ops[1]
    env_ops = [op for op in ops if op["path"].startswith("/spec/template/spec/containers/0/env/")]
    assert [op["op"] for op in env_ops] == ["remove", "add", "add", "add", "add"], "removals before appends"
    patched = jsonpatch.apply_patch(doc, ops)
    main = pod_spec(patched)["containers"][0]
    assert "OPENLINEAGE_API_KEY" not in [e["name"] for e in main["env"]]
    assert main["volumeMounts"] == [{"name": "openlineage-volume", "mountPath": "/vault/secrets", "readOnly": True}]
    assert any("removed env OPENLINEAGE_API_KEY" in w for w in result.warnings)
    assert any("replaced volume mount /vault/secrets" in w for w in result.warnings)
    assert plan(patched, m).ops == {}


def test_reuses_the_users_volume_names() -> None:
    """An emptyDir mounted at /vault/secrets and a volume of the configured ConfigMap keep their names."""
    m = method()
    doc = deployment(
        {"initContainers": [{**copy.deepcopy(VENDOR_INIT), "volumeMounts": [
            {"name": "agent-cfg", "mountPath": "/vault/config"}, {"name": "secrets", "mountPath": "/vault/secrets/"}]}],
         "volumes": [{"name": "agent-cfg", "configMap": {"name": "vault-agent-config"}},
                     {"name": "secrets", "emptyDir": {}}]},
    )
    result = plan(doc, m)
    spec = pod_spec(jsonpatch.apply_patch(doc, result.ops[1]))
    assert [v["name"] for v in spec["volumes"]] == ["agent-cfg", "secrets", "vault-home"]
    assert spec["volumes"][1] == {"name": "secrets", "emptyDir": {"medium": "Memory"}}
    mounts = spec["initContainers"][0]["volumeMounts"]
    assert [m_["name"] for m_ in mounts] == ["agent-cfg", "secrets", "vault-home"]
    assert spec["containers"][0]["env"][-1]["valueFrom"]["fileKeyRef"]["volumeName"] == "secrets"
    assert any("replaced volume secrets: the rendered key is kept in memory" in w for w in result.warnings)


def test_other_differences_stay_conflicts() -> None:
    """A vault-openlineage init container that does not run vault agent, or a chart-rendered key, conflicts."""
    m = method()
    doc = deployment({"initContainers": [{"name": INIT_CONTAINER, "image": "busybox", "command": ["true"]}]},
                     {"env": [{"name": "OPENLINEAGE_API_KEY", "valueFrom": {
                         "secretKeyRef": {"name": "openlineage-api-key-secret", "key": "api-key"}}}]})
    result = plan(doc, m)
    assert len(result.conflicts) == 2
    assert "init container vault-openlineage is already set" in result.conflicts[0]
    assert "env OPENLINEAGE_API_KEY is already set (secretKeyRef" in result.conflicts[1]
    assert result.warnings == []


def test_file_ref_elsewhere_is_an_error_even_in_vault_mode() -> None:
    """A fileRef on a sidecar is not the vendor's entry: it is refused, not silently dropped."""
    m = method()
    doc = deployment()
    doc["spec"]["template"]["spec"]["containers"][1]["env"] = [copy.deepcopy(VENDOR_ENV)]
    with pytest.raises(InputError, match=re.escape(
            "container 'vector-logging-sidecar' env OPENLINEAGE_API_KEY uses valueFrom.fileRef")):
        plan(doc, m)


@pytest.mark.parametrize("other", ["secret", "existing-secret", "disabled"])
def test_file_ref_in_other_methods_points_at_vault(other: str) -> None:
    """The Secret and disabled methods refuse fileRef and point at --method vault."""
    from postrenderer.config import ApiKey

    config = OpenLineageConfig(
        enabled=other != "disabled", method=other if other != "disabled" else "secret",
        api_key=ApiKey("sk-test-vault-0002"), url=URL,
    )
    doc = vendor_deployment()
    with pytest.raises(InputError) as info:
        build_plan([(3, doc, [])], Settings(openlineage=config), method_for(config))
    message = str(info.value)
    assert message.startswith("document 3 (Deployment/astro-agent-worker-a): container 'agent' env OPENLINEAGE_API_KEY")
    assert "not a Kubernetes field" in message and "--method vault" in message
    assert "sk-test-vault-0002" not in message
