"""Tests for inject.methods.vault: agent.hcl, injection and vendor repairs (settings: test_vault_settings.py)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import hcl2
import jsonpatch
import pytest
import yaml

from postrenderer.config.settings import OpenLineageConfig, Settings
from postrenderer.errors import ConfigError, InputError
from postrenderer.inject.methods import method_for
from postrenderer.inject.methods.vault import (
    CHECKSUM_ANNOTATION,
    INIT_CONTAINER,
    VaultMethod,
    _hcl_heredoc,
    _hcl_string,
    render_agent_hcl,
)
from postrenderer.inject.plan import build_plan
from tests.manifests import URL, analysed, vcfg

HCL = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, preserve_heredocs=False, strip_string_quotes=True
)
def method(**kw: Any) -> VaultMethod:
    """A vault method with URL, namespace and endpoint."""
    config = OpenLineageConfig(
        method="vault", url=URL, namespace="ns-1", endpoint="/api/v1/lineage?x=1", method_settings=vcfg(**kw)
    )
    found = method_for(config)
    assert isinstance(found, VaultMethod)
    return found


def parse(text: str) -> dict[str, Any]:
    """agent.hcl as python-hcl2 reads it."""
    return dict(hcl2.loads(text, serialization_options=HCL))


# --- agent.hcl --------------------------------------------------------------------------------


def test_agent_hcl_file_key_ref() -> None:
    """Parses as HCL; exits after auth, on auth errors and on retry failure; env-file template, tight perms."""
    text = render_agent_hcl(vcfg())
    assert "exit_after_auth = true" in text
    parsed = parse(text)
    assert parsed["exit_after_auth"] is True
    assert parsed["template_config"] == [{"exit_on_retry_failure": True}]
    assert parsed["vault"] == [{"retry": [{"num_retries": 3}]}]
    method_block = parsed["auto_auth"][0]["method"][0]["kubernetes"]
    assert method_block == {"mount_path": "auth/kubernetes", "exit_on_err": True, "config": {"role": "astro-agent"}}
    assert parsed["auto_auth"][0]["sink"][0]["file"]["config"]["path"] == "/home/vault/.vault-token"
    (template,) = parsed["template"]
    assert template["destination"] == "/vault/secrets/openlineage.env"
    assert (template["perms"], template["error_on_missing_key"]) == ("0400", True)
    assert template["contents"] == (
        '{{- with secret "secret/data/openlineage/api-key" }}\n'
        "{{- $key := .Data.data.key }}\n"
        '{{- if not (regexMatch "^[ -&(-~]+$" $key) }}{{ parseInt "olrender: the OpenLineage API key at '
        "secret/data/openlineage/api-key field key holds a character that the env file of valueFrom.fileKeyRef "
        "cannot carry (allowed: printable ASCII except ')\" }}{{ end -}}\n"
        "OPENLINEAGE_API_KEY='{{ $key }}'\n"
        "{{ end -}}"  # (python-hcl2 leaves out the heredoc's last line break)
    )


def test_docs_show_the_generated_agent_hcl() -> None:
    """The agent.hcl of docs/vault.md is what olrender renders for the quick start's settings."""
    docs = (Path(__file__).resolve().parent.parent / "docs" / "vault.md").read_text()
    shown = docs.split("```hcl\n", 1)[1].split("```", 1)[0]
    assert shown == render_agent_hcl(vcfg())


def config_file_body(text: str) -> dict[str, Any]:
    """The YAML a config-file template writes, with its template actions as placeholder strings."""
    body = text.split("<<EOT\n", 1)[1].split("\nEOT", 1)[0]
    lines = [line for line in body.splitlines() if not line.startswith("{{")]
    return dict(yaml.safe_load("\n".join(lines).replace("{{ $key | toJSON }}", "KEY")))


def test_agent_hcl_config_file() -> None:
    """Below 1.35 the agent renders a whole OpenLineage config: http transport, url, endpoint, api_key auth."""
    text = render_agent_hcl(vcfg(kube_version="1.33"), URL, "/api/v1/lineage?ASTRO_DEPLOYMENT_ID=x")
    (template,) = parse(text)["template"]
    assert template["destination"] == "/vault/secrets/openlineage.yml"
    assert template["perms"] == "0440"
    assert template["contents"].startswith('{{- with secret "secret/data/openlineage/api-key" }}\n')
    assert '{{- if not (regexMatch "^[ -~]+$" $key) }}' in template["contents"]
    assert config_file_body(text) == {"transport": {
        "type": "http", "url": URL, "endpoint": "/api/v1/lineage?ASTRO_DEPLOYMENT_ID=x",
        "auth": {"type": "api_key", "apiKey": "KEY"}}}


def test_kv_version_one_path() -> None:
    """--vault-kv-version 1 reads .Data.<field>, whatever the path looks like (it may contain data)."""
    text = render_agent_hcl(vcfg(vault_secret_path="kv/data/openlineage", vault_kv_version="1"))
    assert '{{- with secret "kv/data/openlineage" }}\n{{- $key := .Data.key }}\n' in text


def test_kv_version_two_nested_mount() -> None:
    """A nested KV v2 mount (team/kv) reads .Data.data.<field>."""
    text = render_agent_hcl(vcfg(vault_secret_path="team/kv/data/openlineage"))
    assert '{{- with secret "team/kv/data/openlineage" }}\n{{- $key := .Data.data.key }}\n' in text


def test_hcl_strings_are_hcl_version_1() -> None:
    """Agent configurations are HCL 1: quotes and backslashes are escaped, ${ and %{ are kept (they are literal)."""
    assert _hcl_string('a"b\\c ${d} %{e}') == '"a\\"b\\\\c ${d} %{e}"'
    with pytest.raises(ValueError, match="control character"):
        _hcl_string("auth/kubernetes\n")
    assert _hcl_heredoc("x: ${y}\n") == "<<EOT\nx: ${y}\nEOT"
    with pytest.raises(ValueError, match="terminator"):
        _hcl_heredoc("a\nEOT\nb")


def test_a_url_cannot_end_the_heredoc() -> None:
    """A URL is written as a JSON string: a line break in it cannot end the heredoc early."""
    text = render_agent_hcl(vcfg(kube_version="1.33"), "https://x/\nEOT\nexit_after_auth = false", None)
    assert text.count("\nEOT\n") == 1 and "\nexit_after_auth = false" not in text


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
        "spec": {"securityContext": {"fsGroup": 50000, "runAsNonRoot": True, "runAsUser": 50000},  # the chart's
                 "containers": [container, {"name": "vector-logging-sidecar", "image": "v:1"}],
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
    return build_plan(analysed({1: doc}), Settings(openlineage=m.config, overwrite=overwrite), m)


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
    from postrenderer.read.discovery import ComponentRules, find_component
    from postrenderer.read.workloads import iter_workloads

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
    from postrenderer.config.settings import ApiKey

    config = OpenLineageConfig(
        enabled=other != "disabled", method=other if other != "disabled" else "secret",
        api_key=ApiKey("sk-test-vault-0002"), url=URL,
    )
    doc = vendor_deployment()
    with pytest.raises(InputError) as info:
        build_plan(analysed({3: doc}), Settings(openlineage=config), method_for(config))
    message = str(info.value)
    assert message.startswith("document 3 (Deployment/astro-agent-worker-a): container 'agent' env OPENLINEAGE_API_KEY")
    assert "not a Kubernetes field" in message and "--method vault" in message
    assert "sk-test-vault-0002" not in message
