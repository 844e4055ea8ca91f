"""What a method hands to the planner: an ``Injection`` per component, ``NewDocument``s, the ``Method`` base.

``methods`` (the Secret methods) and ``vault`` build on these, so neither needs
the other. A method answers two questions:

    method.injection(component)  -> Injection(env=[...], init_containers=[...], volumes=[...], ...)
    method.documents(namespace)  -> [NewDocument("olrender/vault-agent-config.yaml", {...ConfigMap...})]
"""

from __future__ import annotations

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

    from postrenderer.config.settings import OpenLineageConfig
    from postrenderer.read.discovery import Component

    # (what, existing item) -> why olrender may replace or remove that item without --overwrite, or None
    Repairable: TypeAlias = Callable[[str, dict[str, Any]], str | None]

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
