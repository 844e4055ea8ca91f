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

from postrenderer.config import OpenLineageConfig

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if not TYPE_CHECKING:  # the interpreter's own SHA-256: hashlib first loads OpenSSL, a few ms of every start-up
    try:
        from _sha2 import sha256  # Python 3.12 and later
    except ImportError:
        try:
            from _sha256 import sha256  # Python 3.10 and 3.11
        except ImportError:  # pragma: no cover - a build without it
            from hashlib import sha256
if TYPE_CHECKING:
    from collections.abc import Callable
    from hashlib import sha256
    from typing import Any, TypeAlias

    from postrenderer.discovery import Component

    # (what, existing item) -> why olrender may replace or remove that item without --overwrite, or None
    Repairable: TypeAlias = Callable[[str, dict[str, Any]], str | None]

CHECKSUM_ANNOTATION = "checksum/openlineage-api-key"
GENERATED_BY = "olrender"


class Injection:
    """What one component's pod template and target container should hold."""

    __slots__ = ("annotations", "env", "init_containers", "repairable", "volume_mounts", "volumes")

    def __init__(
        self, env: list[dict[str, Any]], annotations: dict[str, str] | None = None,
        init_containers: list[dict[str, Any]] | None = None, volumes: list[dict[str, Any]] | None = None,
        volume_mounts: list[dict[str, Any]] | None = None, repairable: Repairable | None = None,
    ) -> None:
        self.env, self.annotations, self.repairable = env, annotations or {}, repairable
        self.init_containers, self.volumes = init_containers or [], volumes or []
        self.volume_mounts = volume_mounts or []


class NewDocument:
    """A document the method needs in the stream, with the file name Helm shows for it."""

    __slots__ = ("doc", "filename", "secret")

    def __init__(self, filename: str, doc: dict[str, Any], secret: bool = False) -> None:
        self.filename, self.doc, self.secret = filename, doc, secret


class Method:
    """A way of handing over the key, bound to its configuration; the base adds no documents."""

    name = ""

    def __init__(self, config: OpenLineageConfig) -> None:
        self.config = config

    def injection(self, component: Component) -> Injection:
        """What this component should get."""
        raise NotImplementedError

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """Documents the stream needs for components in this namespace."""
        return []


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of data, in hex (checksum annotations)."""
    return sha256(data).hexdigest()


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
        from postrenderer.vault import VaultMethod  # vault builds on this module

        return VaultMethod(config)
    return SecretMethod(config)
