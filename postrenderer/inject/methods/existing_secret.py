"""``--method existing-secret``: reference a Secret the user created; add nothing else to the stream.

    env:  OPENLINEAGE_API_KEY from secretKeyRef <--api-key-secret>/<--api-key-secret-key> (plus the plain variables)
    workload: secret.reloader.stakater.com/reload: <--api-key-secret> (--restart-on-change reloader)

No checksum annotation: the reference (the Secret's name and key) is the secretKeyRef in the pod
template itself, so a changed reference already rolls the pods, and a changed value is what only
Reloader sees (docs/rotation.md).

Selected when ``--api-key-secret`` or ``openLineage.apiKeySecret`` names the Secret.
"""

from __future__ import annotations

from postrenderer.errors import ConfigError
from postrenderer.inject.contract import Injection, Method, secret_key_ref

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from postrenderer.inject.contract import Given, OpenLineageConfig
    from postrenderer.read.discovery import Component


def existing_secret(given: Given) -> str | None:
    """The Secret the user named: ``--api-key-secret``, else ``openLineage.apiKeySecret``."""
    option = given.options.get("api_key_secret")
    return str(option) if option is not None else given.block.get("apiKeySecret")


class ExistingSecretMethod(Method):
    """Reference a Secret the user created; add nothing else to the stream."""

    name = "existing-secret"

    @classmethod
    def configure(cls, given: Given, config: OpenLineageConfig) -> None:
        """The components read the key from the named Secret (``--check`` needs no name)."""
        existing = existing_secret(given)
        if existing:
            config.secret_name = existing
        elif not given.check:
            raise ConfigError("the existing-secret method needs --api-key-secret NAME or openLineage.apiKeySecret")

    @classmethod
    def warnings(cls, given: Given) -> list[str]:
        """A plaintext key in the values goes unused."""
        if given.block.get("apiKey") and not given.block.get("apiKeySecret"):
            return ["openLineage.apiKey is ignored: the existing-secret method references a Secret"]
        return []

    def reference(self) -> str:
        """The referenced Secret's name and key."""
        return f"{self.config.secret_name}/{self.config.secret_key}"

    def checksums(self) -> dict[str, str]:
        """None: the reference is the pod template's secretKeyRef, whose change rolls the pods by itself."""
        return {}

    def reload_secret(self) -> str:
        """The user's Secret."""
        return self.config.secret_name

    def injection(self, component: Component) -> Injection:
        """Key from the user's Secret plus the plain variables."""
        return Injection(env=[*self.config.plain_env(), secret_key_ref(self.config)])
