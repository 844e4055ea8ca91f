"""Builders shared by tests: pod templates where a workload kind keeps them, Vault settings."""

from __future__ import annotations

from typing import Any

from postrenderer.inject.methods.vault_settings import VaultConfig, vault_config
from postrenderer.read.analysis import Analysis, classify_document
from postrenderer.read.discovery import ComponentRules
from postrenderer.read.workloads import POD_TEMPLATE_PATHS

# the Vault method's settings, delivered by fileKeyRef (Kubernetes 1.35) and by a config file (1.33)
VAULT = VaultConfig(addr="https://vault.example.com:8200", role="astro-agent",
                    secret_path="secret/data/openlineage/api-key", secret_field="key")
VAULT_CONFIG_FILE = VaultConfig(VAULT.addr, VAULT.role, VAULT.secret_path, VAULT.secret_field,
                                delivery="config-file", kube_version="1.33")


def with_template(doc: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """Place template in doc at its kind's pod-template path (a Pod takes its labels and spec)."""
    path = POD_TEMPLATE_PATHS[doc["kind"]]
    if not path:  # a Pod is its own template
        doc["metadata"].update(template["metadata"])
        doc["spec"] = template["spec"]
        return doc
    node = doc
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = template
    return doc


# the Vault method's required settings as options, and its settings built from them
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


def analysed(numbered: dict[int, Any], rules: ComponentRules | None = None) -> Analysis:
    """An analysis holding these documents by index, their workloads classified (as ``analysis.read`` does)."""
    analysis = Analysis(b"")
    for index, doc in numbered.items():
        analysis.documents[index] = doc
        analysis.classified[index] = classify_document(index, doc, rules or ComponentRules())
    return analysis
