"""``--method secret``: generate ``openlineage-api-key-secret`` from the plaintext key and reference it.

    env:  OPENLINEAGE_API_KEY from secretKeyRef openlineage-api-key-secret/api-key (plus the plain variables)
    pod:  checksum/openlineage-api-key, so that a new key rolls the pods (--restart-on-change checksum)
    workload: secret.reloader.stakater.com/reload: openlineage-api-key-secret (--restart-on-change reloader)
    adds: one Opaque Secret per namespace of the components

The key comes from ``--api-key-file``, ``OPENLINEAGE_API_KEY`` or ``openLineage.apiKey``
(``config.settings`` reads it: every method shares the key sources).
"""

from __future__ import annotations

import base64

from postrenderer.errors import ConfigError
from postrenderer.inject.contract import (
    GENERATED_BY,
    Injection,
    Method,
    NewDocument,
    metadata,
    secret_key_ref,
    sha256_hex,
)

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from postrenderer.inject.contract import Given, OpenLineageConfig
    from postrenderer.read.discovery import Component

CHECKSUM_ANNOTATION = "checksum/openlineage-api-key"


class SecretMethod(Method):
    """Generate ``openlineage-api-key-secret`` from a plaintext key and reference it."""

    name = "secret"
    needs_key = True

    @classmethod
    def configure(cls, given: Given, config: OpenLineageConfig) -> None:
        """Rendering needs the key (``--check`` does not)."""
        if config.api_key is None and not given.check:
            raise ConfigError(
                "the secret method needs a key: --api-key-file FILE, the environment variable "
                "OPENLINEAGE_API_KEY, or openLineage.apiKey (or use --api-key-secret / --method vault)"
            )

    def _encoded(self) -> str:
        """The key, base64-encoded for the Secret's data."""
        assert self.config.api_key is not None
        return base64.b64encode(self.config.api_key.reveal().encode()).decode()

    def checksum(self) -> str:
        """A digest of the Secret's content, so that a new key rolls the pods."""
        parts = (self.config.secret_name, self.config.secret_key, self._encoded())
        return sha256_hex(b"".join(part.encode() + b"\0" for part in parts))

    def checksums(self) -> dict[str, str]:
        """The key's own digest (the value is known at render time: a new key rolls the pods)."""
        return {CHECKSUM_ANNOTATION: self.checksum()}

    def reload_secret(self) -> str:
        """The generated Secret."""
        return self.config.secret_name

    def injection(self, component: Component) -> Injection:
        """Key from the generated Secret, plain variables (the planner adds the rotation annotations)."""
        return Injection(env=[*self.config.plain_env(), secret_key_ref(self.config)])

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """One Opaque Secret per namespace."""
        doc = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata(self.config.secret_name, namespace),
            "type": "Opaque",
            "data": {self.config.secret_key: self._encoded()},
        }
        return [NewDocument(f"{GENERATED_BY}/{self.config.secret_name}.yaml", doc, secret=True)]
