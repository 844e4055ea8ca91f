"""``--method vault-injector``: the cluster's Vault Agent Injector webhook renders an OpenLineage config file.

For clusters that already run the injector (hashicorp/vault-k8s). olrender only
annotates each component's pod template; at admission the webhook adds an
init-only agent that logs in with the pod's service-account token, renders the
template into ``/vault/secrets/openlineage.yml`` and exits:

    metadata.annotations:
      vault.hashicorp.com/agent-inject: "true"
      vault.hashicorp.com/role: astro-agent
      vault.hashicorp.com/agent-pre-populate-only: "true"    # init container only: no sidecar
      vault.hashicorp.com/agent-init-first: "true"
      vault.hashicorp.com/agent-inject-containers: agent     # the component's main container
      vault.hashicorp.com/agent-inject-secret-openlineage.yml: secret/data/openlineage/api-key
      vault.hashicorp.com/agent-inject-template-openlineage.yml: |
        transport: {type: http, url: ..., auth: {type: api_key, apiKey: {{ $key | toJSON }}}}
      vault.hashicorp.com/error-on-missing-key-openlineage.yml: "true"
      vault.hashicorp.com/agent-auto-auth-exit-on-err: "true"
      (vault.hashicorp.com/auth-path and vault.hashicorp.com/service when given)
    env: OPENLINEAGE_NAMESPACE, OPENLINEAGE_CONFIG and AIRFLOW__OPENLINEAGE__CONFIG_PATH (the file)

The template is the vault method's config-file template (``vault.template_contents``):
the key goes through ``toJSON``, so any key survives YAML, and one an HTTP header
cannot carry stops the agent. The settings are the vault method's own ``Setting``
objects; ``--vault-addr`` is optional (the injector knows its Vault). A pod whose
service-account token is not mounted is refused: the webhook rejects it.
The template annotation is on the pod template, so a changed template rolls the pods.
"""

from __future__ import annotations

from postrenderer.inject.contract import Injection, Method
from postrenderer.inject.methods import vault_settings
from postrenderer.inject.methods.vault_settings import (
    BY_KEY,
    CONFIG_FILE,
    CONFIG_FILE_DELIVERY,
    DEFAULT_AUTH_PATH,
    VaultConfig,
)

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from postrenderer.inject.contract import Given, OpenLineageConfig
    from postrenderer.read.discovery import Component
    from postrenderer.read.objects import Objects

PREFIX = "vault.hashicorp.com/"
SECRETS_DIR = "/vault/secrets"
CONFIG_PATH = f"{SECRETS_DIR}/{CONFIG_FILE}"
CONFIG_ENVS = ("OPENLINEAGE_CONFIG", "AIRFLOW__OPENLINEAGE__CONFIG_PATH")
FILE_VARIABLES = ("OPENLINEAGE_URL", "OPENLINEAGE_ENDPOINT")  # written into the file, not the environment
SHARED = ("addr", "role", "secretPath", "secretField", "kvVersion", "authPath")  # the vault method's settings it uses
IGNORED = ("image", "configMap", "createConfigMap", "delivery", "kubeVersion")  # ... and those it has no use for


class VaultInjectorMethod(Method):
    """Annotate the pod templates for the cluster's Vault Agent Injector; point the client at the file it writes."""

    name = "vault-injector"
    title = "Vault Agent Injector method"
    settings = tuple(BY_KEY[key] for key in SHARED)
    selected_by = "vaultInjector"  # openLineage.vaultInjector: true, the settings in openLineage.vault
    reload_reason = "the injector's init-only agent reads the key once, at pod start"

    @classmethod
    def configure(cls, given: Given, config: OpenLineageConfig) -> VaultConfig:
        """The Vault settings the injector needs (the address is optional), every problem in one error."""
        read = vault_settings.reader(given.options, given.block.get("vault"), given.check, cls.name)
        source = read.source(addr_required=False)
        if not config.url and not given.check:
            read.problems.append(
                f"the {cls.name} method writes the whole OpenLineage transport into a file and needs the "
                "OpenLineage URL: set --url or openLineage.url"
            )
        read.raise_problems()
        return VaultConfig(**source, delivery=CONFIG_FILE_DELIVERY)

    @classmethod
    def warnings(cls, given: Given) -> list[str]:
        """Vault settings only the vault method uses, and the chart's own key settings."""
        found = []
        block = given.block.get("vault")
        block = block if isinstance(block, dict) else {}
        unused = [BY_KEY[k].flag for k in IGNORED if given.options.get(BY_KEY[k].name) or block.get(k) is not None]
        if unused:
            found.append(f"{', '.join(unused)} ignored: the {cls.name} method leaves the agent to the "
                         "cluster's Vault Agent Injector")
        if given.block.get("apiKey") or given.block.get("apiKeySecret"):
            found.append("openLineage.apiKey/apiKeySecret are ignored: the vault-injector method reads the key "
                         "from Vault (remove them, or the chart renders its own OPENLINEAGE_API_KEY)")
        return found

    @property
    def vault(self) -> VaultConfig:
        """The Vault settings (``configure``'s result)."""
        assert isinstance(self.config.method_settings, VaultConfig)
        return self.config.method_settings

    def template(self) -> str:
        """The consul-template template of the whole OpenLineage config file."""
        from postrenderer.inject.methods.vault import template_contents

        return template_contents(self.vault, self.config.url, self.config.endpoint)

    def annotations(self, container: str) -> dict[str, str]:
        """The pod-template annotations the webhook reads, for a component whose main container is named so."""
        vault = self.vault
        found = {
            "agent-inject": "true",
            "role": vault.role,
            "agent-pre-populate-only": "true",
            "agent-init-first": "true",
            "agent-inject-containers": container,
            f"agent-inject-secret-{CONFIG_FILE}": vault.secret_path,
            f"agent-inject-template-{CONFIG_FILE}": self.template(),
            f"error-on-missing-key-{CONFIG_FILE}": "true",
            "agent-auto-auth-exit-on-err": "true",
        }
        if vault.auth_path != DEFAULT_AUTH_PATH:
            found["auth-path"] = vault.auth_path
        if vault.addr:
            found["service"] = vault.addr
        return {PREFIX + name: value for name, value in found.items()}

    def injection(self, component: Component) -> Injection:
        """The annotations, the namespace and the two variables that name the file."""
        env = [entry for entry in self.config.plain_env() if entry["name"] not in FILE_VARIABLES]
        env += [{"name": name, "value": CONFIG_PATH} for name in CONFIG_ENVS]
        return Injection(env=env, annotations=self.annotations(component.container_name))

    def refusal(self, component: Component, objects: Objects) -> str | None:
        """A pod without its service-account token: the webhook rejects it."""
        from postrenderer.lint.vaultagent import injector_token_problem, service_account_keys

        workload = component.workload

        def lookup(kind: str, name: str) -> dict[str, str | None] | None:
            doc = objects.get(kind, name, workload.namespace)
            return None if doc is None else service_account_keys(doc)

        spec = workload.pod_spec
        problem = injector_token_problem(spec if isinstance(spec, dict) else {}, lookup)
        return None if problem is None else (
            f"{problem}. Set automountServiceAccountToken: true in the pod spec (chart values), or use "
            "--method vault, whose init container can mount a projected token"
        )

    def reference(self) -> str:
        """Where the key comes from: every annotation but the container's name, the template included."""
        annotations = self.annotations("")
        del annotations[PREFIX + "agent-inject-containers"]
        return "\n".join(f"{name}={value}" for name, value in sorted(annotations.items()))

    def checksums(self) -> dict[str, str]:
        """None: the reference is the pod template's own annotations, whose change rolls the pods by itself."""
        return {}

    def reload_secret(self) -> None:
        """No Secret to watch: the key never enters Kubernetes."""
        return None
