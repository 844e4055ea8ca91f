"""The ways of handing the key to a component, each as data: an ``Injection``.

A method says *what* a component should end up with (env entries, pod
annotations, init containers, volumes, mounts) and which documents the stream
needs (a Secret, a ConfigMap). ``plan`` turns that into RFC 6902 operations.

    secret           OPENLINEAGE_API_KEY from Secret openlineage-api-key-secret
                     (generated from the plaintext key), checksum annotation
    existing-secret  OPENLINEAGE_API_KEY from a Secret the user created
    vault            a Vault Agent init container renders the key (see vault.py)
    disabled         (openLineage.enabled: false) OPENLINEAGE_DISABLED="true"
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from postrenderer.config import OpenLineageConfig
from postrenderer.discovery import Component

CHECKSUM_ANNOTATION = "checksum/openlineage-api-key"
GENERATED_BY = "olrender"

# (what, existing item) -> why olrender may replace or remove that item without --overwrite, or None
Repairable = Callable[[str, dict[str, Any]], "str | None"]


@dataclass
class Injection:
    """What one component's pod template and target container should hold."""

    env: list[dict[str, Any]]
    annotations: dict[str, str] = field(default_factory=dict)
    init_containers: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    volume_mounts: list[dict[str, Any]] = field(default_factory=list)
    repairable: Repairable | None = None


@dataclass
class NewDocument:
    """A document the method needs in the stream, with the file name Helm shows for it."""

    filename: str
    doc: dict[str, Any]
    secret: bool = False


class Method(Protocol):
    """The contract every method follows."""

    name: str

    def injection(self, component: Component) -> Injection:
        """What this component should get."""

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """Documents the stream needs for components in this namespace."""


def key_ref_env(config: OpenLineageConfig) -> dict[str, Any]:
    """The ``OPENLINEAGE_API_KEY`` entry that reads the key from a Secret."""
    return {
        "name": "OPENLINEAGE_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": config.secret_name, "key": config.secret_key}},
    }


def _metadata(name: str, namespace: str | None) -> dict[str, Any]:
    """Metadata for a generated object."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["labels"] = {"app.kubernetes.io/created-by": GENERATED_BY}
    return metadata


@dataclass
class SecretMethod:
    """Generate ``openlineage-api-key-secret`` from a plaintext key and reference it."""

    config: OpenLineageConfig
    name: str = "secret"

    def _encoded(self) -> str:
        """The key, base64-encoded for the Secret's data."""
        assert self.config.api_key is not None
        return base64.b64encode(self.config.api_key.reveal().encode()).decode()

    def checksum(self) -> str:
        """A digest of the Secret's content, so that a new key rolls the pods."""
        digest = hashlib.sha256()
        for part in (self.config.secret_name, self.config.secret_key, self._encoded()):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()

    def injection(self, component: Component) -> Injection:
        """Key from the generated Secret, plain variables, checksum annotation."""
        return Injection(
            env=[*self.config.plain_env(), key_ref_env(self.config)],
            annotations={CHECKSUM_ANNOTATION: self.checksum()},
        )

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """One Opaque Secret per namespace."""
        doc = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _metadata(self.config.secret_name, namespace),
            "type": "Opaque",
            "data": {self.config.secret_key: self._encoded()},
        }
        return [NewDocument(f"{GENERATED_BY}/{self.config.secret_name}.yaml", doc, secret=True)]


@dataclass
class ExistingSecretMethod:
    """Reference a Secret the user created; add nothing else to the stream."""

    config: OpenLineageConfig
    name: str = "existing-secret"

    def injection(self, component: Component) -> Injection:
        """Key from the user's Secret plus the plain variables."""
        return Injection(env=[*self.config.plain_env(), key_ref_env(self.config)])

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """Nothing: the Secret already exists in the cluster."""
        return []


@dataclass
class DisabledMethod:
    """``openLineage.enabled: false``: switch lineage off explicitly."""

    config: OpenLineageConfig
    name: str = "disabled"

    def injection(self, component: Component) -> Injection:
        """Only ``OPENLINEAGE_DISABLED``."""
        return Injection(env=[{"name": "OPENLINEAGE_DISABLED", "value": "true"}])

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """Nothing."""
        return []


def method_for(config: OpenLineageConfig) -> Method:
    """The method object for a configuration."""
    if not config.enabled:
        return DisabledMethod(config)
    if config.method == "existing-secret":
        return ExistingSecretMethod(config)
    if config.method == "vault":
        from postrenderer.vault import VaultMethod  # vault builds on this module

        return VaultMethod(config)
    return SecretMethod(config)
