"""The Vault method: a Vault Agent init container writes the key where Kubernetes can read it.

The vendor's recipe (an init container running ``vault agent`` and
``valueFrom.fileRef``) cannot work: ``fileRef`` is not a Kubernetes field and
its agent configuration has no ``exit_after_auth``, so the init container never
exits. This method renders the same intent in a form a cluster accepts:

    before (vendor values, as the chart renders them)
        initContainers: [{name: vault-openlineage, command: [/bin/sh, -c], args: [export ...; vault agent ...]}]
        env: [{name: OPENLINEAGE_API_KEY, valueFrom: {fileRef: {path: /vault/secrets/openlineage-api-key}}}]

    after (Kubernetes >= 1.35, delivery file-key-ref)
        initContainers: [{name: vault-openlineage, command: [vault, agent, -config=/vault/config/agent.hcl],
                          env: [{name: VAULT_ADDR, ...}], securityContext: {runAsNonRoot: true, ...}}]
        env: [{name: OPENLINEAGE_API_KEY,
               valueFrom: {fileKeyRef: {volumeName: openlineage-volume, path: openlineage.env,
                                        key: OPENLINEAGE_API_KEY}}}]
        volumes: vault-config (the agent ConfigMap), openlineage-volume and vault-home (emptyDir, Memory)

On older clusters (delivery config-file) the agent renders a whole OpenLineage
config file instead, and the main container gets ``OPENLINEAGE_CONFIG`` and
``AIRFLOW__OPENLINEAGE__CONFIG_PATH`` pointing at it through a read-only mount.
The agent configuration (``agent.hcl``: Kubernetes auto-auth,
``exit_after_auth``, ``exit_on_retry_failure``, ``error_on_missing_key``) goes
into the stream as a ConfigMap unless the user manages it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from postrenderer.errors import ConfigError, where
from postrenderer.inject.contract import GENERATED_BY, Injection, Method, NewDocument, metadata, sha256_hex
from postrenderer.inject.methods import vault_settings
from postrenderer.inject.methods.vault_settings import (
    CONFIG_FILE,
    CONFIG_FILE_DELIVERY,
    ENV_FILE,
    FILE_KEY_REF,
    VaultConfig,
)
from postrenderer.read.variables import CONFIG_FILE_VARS, KEY_VAR
from postrenderer.read.workloads import containers

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.inject.contract import Given, OpenLineageConfig, Repairable
    from postrenderer.read.discovery import Component

INIT_CONTAINER = "vault-openlineage"
CONFIG_VOLUME = "vault-config"
SECRETS_VOLUME = "openlineage-volume"
HOME_VOLUME = "vault-home"
CONFIG_DIR = "/vault/config"
SECRETS_DIR = "/vault/secrets"
HOME_DIR = "/home/vault"
AGENT_FILE = "agent.hcl"
CHECKSUM_ANNOTATION = "checksum/vault-agent-config"

ENV_FILE_PERMS = "0400"  # only the kubelet reads it
CONFIG_FILE_PERMS = "0440"  # the agent container reads it: as its owner, or through the pod's fsGroup
TEMPLATE_RETRIES = 3  # a missing or forbidden secret fails after about 2 s (the default 12 retries: 304 s)

RUN_AS_USER = 100  # the vault user of the official image, as HashiCorp's injector runs it
RUN_AS_GROUP = 1000
RESOURCES = {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}

def _hcl_string(value: str) -> str:
    """A double-quoted string of HCL version 1, the language Vault and OpenBao read agent configurations in.

    HCL 1 unescapes only backslash sequences in quoted strings; ``${`` and ``%{`` are
    kept literally (``$${`` would stay ``$${``), so nothing else is escaped.
    """
    if any(ch < " " for ch in value):
        raise ValueError(f"control character in an agent.hcl string: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _hcl_heredoc(text: str) -> str:
    """An HCL version 1 heredoc: the lines up to ``EOT`` are taken literally, without any escapes."""
    if any(line == "EOT" for line in text.splitlines()):
        raise ValueError("a heredoc line equal to its terminator")
    return "<<EOT\n" + text + ("" if text.endswith("\n") else "\n") + "EOT"


def key_pattern(vault: VaultConfig) -> str:
    """The RE2 pattern a key must match to be written in this delivery's file format.

    Printable ASCII, because the client sends the key in an HTTP header; the env file of
    ``fileKeyRef`` (Kubernetes 1.35: ``KEY='value'``, no escapes) cannot hold ``'`` either.
    """
    return "^[ -&(-~]+$" if vault.delivery == FILE_KEY_REF else "^[ -~]+$"


def template_contents(vault: VaultConfig, url: str | None, endpoint: str | None) -> str:
    """What the agent writes into the shared volume: the key, checked, in the delivery's format.

    A key the format cannot carry stops the template (``parseInt`` of a sentence fails),
    so the agent exits non-zero and writes nothing; the key itself is never in the message.
    """
    data = ".Data.data" if vault.kv_version == 2 else ".Data"
    where = f"{vault.secret_path} field {vault.secret_field}"
    refusal = (
        f"olrender: the OpenLineage API key at {where} holds a character that "
        + ("the env file of valueFrom.fileKeyRef cannot carry (allowed: printable ASCII except ')"
           if vault.delivery == FILE_KEY_REF else "an HTTP header cannot carry (allowed: printable ASCII)")
    )
    head = (
        f'{{{{- with secret "{vault.secret_path}" }}}}\n'
        f"{{{{- $key := {data}.{vault.secret_field} }}}}\n"
        f'{{{{- if not (regexMatch "{key_pattern(vault)}" $key) }}}}{{{{ parseInt "{refusal}" }}}}{{{{ end -}}}}\n'
    )
    if vault.delivery == FILE_KEY_REF:
        return head + f"{KEY_VAR}='{{{{ $key }}}}'\n{{{{ end -}}}}\n"
    for name, value in (("url", url), ("endpoint", endpoint)):
        if value and ("{{" in value or "}}" in value):
            raise ConfigError(f"OpenLineage {name} {value!r}: must not contain '{{{{' or '}}}}'")
    lines = ["transport:", "  type: http", f"  url: {json.dumps(url)}"]
    if endpoint:
        lines.append(f"  endpoint: {json.dumps(endpoint)}")
    lines += ["  auth:", "    type: api_key", "    apiKey: {{ $key | toJSON }}"]
    return head + "\n".join(lines) + "\n{{ end -}}\n"


def render_agent_hcl(vault: VaultConfig, url: str | None = None, endpoint: str | None = None) -> str:
    """The agent configuration: log in with the pod's service account, render once, exit; fail fast."""
    perms = ENV_FILE_PERMS if vault.delivery == FILE_KEY_REF else CONFIG_FILE_PERMS
    contents = template_contents(vault, url, endpoint)
    return f"""\
# Generated by olrender: Vault Agent as an init container. It logs in with the pod's
# service account, renders the OpenLineage API key once and exits 0; if Vault is
# unreachable, the login is refused or the secret, its field or a usable key is
# missing, it exits non-zero within seconds and writes nothing.
exit_after_auth = true
pid_file        = {_hcl_string(HOME_DIR + "/.pid")}

vault {{
  retry {{
    num_retries = {TEMPLATE_RETRIES}
  }}
}}

auto_auth {{
  method "kubernetes" {{
    mount_path  = {_hcl_string(vault.auth_path)}
    exit_on_err = true
    config = {{
      role = {_hcl_string(vault.role)}
    }}
  }}

  sink "file" {{
    config = {{
      path = {_hcl_string(HOME_DIR + "/.vault-token")}
    }}
  }}
}}

template_config {{
  exit_on_retry_failure = true
}}

template {{
  destination          = {_hcl_string(SECRETS_DIR + "/" + vault.secret_file)}
  perms                = {_hcl_string(perms)}
  error_on_missing_key = true
  contents             = {_hcl_heredoc(contents)}
}}
"""


def _mount_paths(spec: Mapping[str, Any]) -> dict[str, str]:
    """mountPath -> volume name over every container and init container of a pod spec."""
    found: dict[str, str] = {}
    for container in containers(spec):
        mounts = container.get("volumeMounts")
        for mount in mounts if isinstance(mounts, list) else []:
            if isinstance(mount, dict) and isinstance(mount.get("mountPath"), str):
                found.setdefault(mount["mountPath"].rstrip("/") or "/", str(mount.get("name")))
    return found


def _volumes(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pod's volumes that are mappings."""
    volumes = spec.get("volumes")
    return [v for v in volumes if isinstance(v, dict)] if isinstance(volumes, list) else []


class VaultMethod(Method):
    """Inject a Vault Agent init container and hand the key to the main container."""

    name = "vault"
    title = "Vault method"
    reload_reason = "the Vault Agent init container reads the key once, at pod start, not from a Secret"
    settings = vault_settings.SETTINGS
    selected_by = "vault"

    @classmethod
    def configure(cls, given: Given, config: OpenLineageConfig) -> VaultConfig:
        """The Vault settings, every problem in one error."""
        return vault_settings.configure(given, config.url)

    @classmethod
    def warnings(cls, given: Given) -> list[str]:
        """The chart's own key settings would render a second OPENLINEAGE_API_KEY."""
        if given.block.get("apiKey") or given.block.get("apiKeySecret"):
            return [
                "openLineage.apiKey/apiKeySecret are ignored: the vault method reads the key from Vault "
                "(remove them, or the chart renders its own OPENLINEAGE_API_KEY)"
            ]
        return []

    @property
    def vault(self) -> VaultConfig:
        """The Vault settings (``configure``'s result)."""
        assert isinstance(self.config.method_settings, VaultConfig)
        return self.config.method_settings

    def agent_hcl(self) -> str:
        """The agent configuration text for the ConfigMap."""
        return render_agent_hcl(self.vault, self.config.url, self.config.endpoint)

    def checksum(self) -> str:
        """A digest of the ConfigMap's content, so that a new configuration rolls the pods."""
        return sha256_hex(self.agent_hcl().encode())

    def reference(self) -> str | None:
        """The agent configuration olrender generates (None: the user manages the ConfigMap)."""
        return self.agent_hcl() if self.vault.create_config_map else None

    def checksums(self) -> dict[str, str]:
        """The reference's digest, under the name this method has always written."""
        return {CHECKSUM_ANNOTATION: self.checksum()} if self.vault.create_config_map else {}

    def volume_names(self, spec: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The config and secret volumes, reusing the names the pod already has for them."""
        vault = self.vault
        volumes = _volumes(spec)
        by_name = {v.get("name"): v for v in volumes}
        config_volume: dict[str, Any] = {"name": CONFIG_VOLUME, "configMap": {"name": vault.config_map}}
        for volume in volumes:
            ref = volume.get("configMap")
            if isinstance(ref, dict) and ref.get("name") == vault.config_map and not ref.get("items"):
                config_volume = volume
                break
        secret_volume: dict[str, Any] = {"name": SECRETS_VOLUME, "emptyDir": {"medium": "Memory"}}
        reused = by_name.get(_mount_paths(spec).get(SECRETS_DIR))
        if reused is None and isinstance(by_name.get(SECRETS_VOLUME), dict):
            reused = by_name[SECRETS_VOLUME]
        if reused is not None and "emptyDir" in reused and isinstance(reused["emptyDir"] or {}, dict):
            empty_dir = reused["emptyDir"] or {}
            secret_volume = {**reused, "emptyDir": {**empty_dir, "medium": "Memory"}}
        return config_volume, secret_volume

    def agent_identity(self, component: Component) -> tuple[int, int]:
        """The uid and gid the agent runs as: the image's vault user, unless the main container could not read.

        A config file is read by the main container: without an fsGroup the agent runs as
        that container's runAsUser (and runAsGroup), so that it owns the file it reads.
        """
        spec = component.workload.pod_spec
        spec = spec if isinstance(spec, dict) else {}
        main = spec.get("containers", [])[component.container_index]
        from postrenderer.lint.vaultagent import key_file_readable, run_as

        if self.vault.delivery != CONFIG_FILE_DELIVERY or key_file_readable(RUN_AS_USER, RUN_AS_GROUP, main, spec):
            return RUN_AS_USER, RUN_AS_GROUP
        uid, gid = run_as(main, spec)
        if uid is not None and uid != 0:
            return uid, RUN_AS_GROUP if gid is None else gid
        workload = component.workload
        raise ConfigError(
            f"{where(workload.doc_index, workload.kind, workload.name)}: --vault-delivery {CONFIG_FILE_DELIVERY}: "
            f"the pod has no securityContext.fsGroup and container {component.container_name!r} no runAsUser, so "
            "nothing makes the OpenLineage config file the Vault Agent writes readable by that container. Set "
            "the pod's fsGroup (the chart's podSecurityContext has fsGroup: 50000) or the container's runAsUser, "
            "or target Kubernetes 1.35+ (--kube-version 1.35), where the kubelet reads the key through "
            "valueFrom.fileKeyRef"
        )

    def init_container(self, config_volume: str, secret_volume: str,
                       identity: tuple[int, int] = (RUN_AS_USER, RUN_AS_GROUP)) -> dict[str, Any]:
        """The Vault Agent init container: exec form, hardened, exits after rendering."""
        return {
            "name": INIT_CONTAINER,
            "image": self.vault.image,
            "command": ["vault", "agent", f"-config={CONFIG_DIR}/{AGENT_FILE}"],
            "env": [{"name": "VAULT_ADDR", "value": self.vault.addr}],
            "resources": {k: dict(v) for k, v in RESOURCES.items()},
            "securityContext": {
                "runAsUser": identity[0],
                "runAsGroup": identity[1],
                "runAsNonRoot": True,
                "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "volumeMounts": [
                {"name": config_volume, "mountPath": CONFIG_DIR, "readOnly": True},
                {"name": secret_volume, "mountPath": SECRETS_DIR},
                {"name": HOME_VOLUME, "mountPath": HOME_DIR},
            ],
        }

    def key_env(self, secret_volume: str) -> list[dict[str, Any]]:
        """What the main container reads the key through."""
        if self.vault.delivery == FILE_KEY_REF:
            ref = {"volumeName": secret_volume, "path": ENV_FILE, "key": KEY_VAR}
            return [{"name": KEY_VAR, "valueFrom": {"fileKeyRef": ref}}]
        return [{"name": name, "value": f"{SECRETS_DIR}/{CONFIG_FILE}"} for name in CONFIG_FILE_VARS]

    def injection(self, component: Component) -> Injection:
        """Init container, volumes, the key's env entry (and read-only mount); the planner adds the checksum."""
        spec = component.workload.pod_spec
        config_volume, secret_volume = self.volume_names(spec if isinstance(spec, dict) else {})
        secret_name = str(secret_volume["name"])
        home = {"name": HOME_VOLUME, "emptyDir": {"medium": "Memory"}}
        mounts: list[dict[str, Any]] = []
        if self.vault.delivery == CONFIG_FILE_DELIVERY:
            mounts = [{"name": secret_name, "mountPath": SECRETS_DIR, "readOnly": True}]
        return Injection(
            env=[*self.config.plain_env(), *self.key_env(secret_name)],
            init_containers=[self.init_container(str(config_volume["name"]), secret_name,
                                                 self.agent_identity(component))],
            volumes=[config_volume, secret_volume, home],
            volume_mounts=mounts,
            repairable=self.repair_reason(secret_name),
        )

    def repair_reason(self, secret_volume: str) -> Repairable:
        """Which of the vendor's items olrender may replace or remove, and why."""
        from postrenderer.lint.vaultagent import runs_vault_agent

        delivery = self.vault.delivery

        def reason(what: str, item: dict[str, Any]) -> str | None:
            if what == "init container" and item.get("name") == INIT_CONTAINER and runs_vault_agent(item):
                command = item.get("command")
                if isinstance(command, list) and command[:1] == ["vault"]:
                    return "updated to the current Vault settings"
                note = (
                    f"; olrender renders ConfigMap {self.vault.config_map} itself, so delete one created "
                    "with kubectl before installing"
                    if self.vault.create_config_map else ""
                )
                return (
                    "the vendor's version runs vault agent through a shell without exit_after_auth "
                    f"and never exits{note}"
                )
            if what == "env" and item.get("name") == KEY_VAR:
                source = item.get("valueFrom")
                if isinstance(source, dict) and "fileRef" in source:
                    if delivery == FILE_KEY_REF:
                        return "valueFrom.fileRef is not a Kubernetes field; now valueFrom.fileKeyRef"
                    return (
                        "valueFrom.fileRef is not a Kubernetes field; the key now comes from the "
                        f"OpenLineage config file {SECRETS_DIR}/{CONFIG_FILE}"
                    )
            if what == "volume" and item.get("name") in (secret_volume, HOME_VOLUME) and "emptyDir" in item:
                return "the rendered key is kept in memory (emptyDir medium Memory)"
            if (
                what == "volume mount" and delivery == CONFIG_FILE_DELIVERY
                and str(item.get("mountPath", "")).rstrip("/") == SECRETS_DIR
                and item.get("name") == secret_volume
            ):
                return "the agent container only reads the rendered config, so the mount is read-only"
            return None

        return reason

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """The agent ConfigMap, one per namespace, unless the user manages it."""
        if not self.vault.create_config_map:
            return []
        doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(self.vault.config_map, namespace),
               "data": {AGENT_FILE: self.agent_hcl()}}
        return [NewDocument(f"{GENERATED_BY}/{self.vault.config_map}.yaml", doc)]
