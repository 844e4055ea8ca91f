"""The ways of handing the key to a component, each as data: an ``Injection`` (see ``injection``).

A method says *what* a component should end up with (env entries, pod
annotations, init containers, volumes, mounts) and which documents the stream
needs (a Secret, a ConfigMap). ``plan`` turns that into RFC 6902 operations.
``method_for`` picks the method for a configuration.

    secret           OPENLINEAGE_API_KEY from Secret openlineage-api-key-secret
                     (generated from the plaintext key), checksum annotation
    existing-secret  OPENLINEAGE_API_KEY from a Secret the user created
    vault            a Vault Agent init container renders the key (see vault.py)
    disabled         (openLineage.enabled: false) OPENLINEAGE_DISABLED="true"
"""

from __future__ import annotations

import base64

from postrenderer.inject.contract import GENERATED_BY, Injection, Method, NewDocument, sha256_hex

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.config.settings import OpenLineageConfig
    from postrenderer.inject.contract import Repairable as Repairable  # (re-exported, like the names in __all__)
    from postrenderer.read.discovery import Component

__all__ = ["CHECKSUM_ANNOTATION", "GENERATED_BY", "Injection", "Method", "NewDocument", "method_for", "sha256_hex"]

CHECKSUM_ANNOTATION = "checksum/openlineage-api-key"


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


class SecretMethod(Method):
    """Generate ``openlineage-api-key-secret`` from a plaintext key and reference it."""

    name = "secret"

    def _encoded(self) -> str:
        """The key, base64-encoded for the Secret's data."""
        assert self.config.api_key is not None
        return base64.b64encode(self.config.api_key.reveal().encode()).decode()

    def checksum(self) -> str:
        """A digest of the Secret's content, so that a new key rolls the pods."""
        parts = (self.config.secret_name, self.config.secret_key, self._encoded())
        return sha256_hex(b"".join(part.encode() + b"\0" for part in parts))

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


class ExistingSecretMethod(Method):
    """Reference a Secret the user created; add nothing else to the stream."""

    name = "existing-secret"

    def injection(self, component: Component) -> Injection:
        """Key from the user's Secret plus the plain variables."""
        return Injection(env=[*self.config.plain_env(), key_ref_env(self.config)])


class DisabledMethod(Method):
    """``openLineage.enabled: false``: switch lineage off explicitly."""

    name = "disabled"

    def injection(self, component: Component) -> Injection:
        """Only ``OPENLINEAGE_DISABLED``."""
        return Injection(env=[{"name": "OPENLINEAGE_DISABLED", "value": "true"}])


def method_for(config: OpenLineageConfig) -> Method:
    """The method object for a configuration."""
    if not config.enabled:
        return DisabledMethod(config)
    if config.method == "existing-secret":
        return ExistingSecretMethod(config)
    if config.method == "vault":
        from postrenderer.inject.vault import VaultMethod  # only the vault method loads its module

        return VaultMethod(config)
    return SecretMethod(config)
