"""The config files a container reads, as it will see them: from a ConfigMap in the stream, or a Vault Agent's.

``ConfigFiles`` is the reader the transport model (``lint.transport.resolve``)
asks for a file named by ``OPENLINEAGE_CONFIG`` or ``[openlineage] config_path``.
It follows the container's volume mounts to the file. For example:

    OPENLINEAGE_CONFIG=/etc/openlineage/openlineage.yml, volume ol (configMap ol-config) at /etc/openlineage
    -> the key openlineage.yml of ConfigMap ol-config, read once (its transport section)

    ... with the volume an emptyDir a Vault Agent init container writes
    -> an HTTP transport whose URL and key olrender cannot see (Unseen)

A file on no volume, on a volume olrender cannot read, or in a ConfigMap outside
the stream is ``Unseen``; a missing key is a file that does not exist (None).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from postrenderer.lint.model import FileContent, Refused, Sourced, Unseen, read_config
from postrenderer.lint.vaultagent import injector_file, mounts, runs_vault_agent
from postrenderer.read.reader import TooLarge
from postrenderer.read.workloads import containers

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.lint.evaluation import Lookup


def writers_of(pod_spec: Mapping[str, Any], volume: str) -> list[Mapping[str, Any]]:
    """Init containers that mount a volume writable."""
    init = containers(pod_spec, ("initContainers",))
    return [c for c in init if any(v == volume and not ro for _, v, ro in mounts(c))]


def volume_named(pod_spec: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The pod volume with this name."""
    volumes = pod_spec.get("volumes")
    for volume in volumes if isinstance(volumes, list) else []:
        if isinstance(volume, Mapping) and volume.get("name") == name:
            return volume
    return None


class ConfigFiles:
    """Reads config files as the container will see them: from a ConfigMap in the stream, or olrender's Vault file.

    Each file is read once per run through the one budgeted reader: the result is
    kept with the object the lookup returns (``Content.files``) when it has room.
    """

    def __init__(self, container: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup,
                 annotations: Mapping[str, Any] | None = None) -> None:
        """annotations: the pod template's (the Vault Agent Injector writes files its annotations name)."""
        self.container, self.pod_spec, self.lookup = container, pod_spec, lookup
        self.annotations = annotations or {}
        self.described: dict[str, str] = {}  # variable naming a file -> where that file comes from

    def agent_file(self, path: Sourced, what: str) -> dict[str, Any]:
        """A file a Vault Agent renders, in its known shape: an HTTP transport whose values olrender cannot see."""
        self.described[path.source] = what
        unseen = Unseen(path.source, what)
        return {"transport": {"type": Sourced("http", path.source), "url": unseen, "endpoint": unseen,
                              "auth": {"type": Sourced("api_key", path.source), "apiKey": unseen}}}

    def __call__(self, path: Sourced) -> FileContent | dict[str, Any] | Unseen | None:
        """The file's text (a Vault Agent file: its known shape), Unseen, or None when it does not exist."""
        where = f"the config file {path}"
        if not path.startswith("/"):
            return Unseen(path.source, f"{where} (relative to the container's working directory)")
        full = posixpath.normpath(path)
        mounts = self.container.get("volumeMounts")
        best: tuple[str, Mapping[str, Any]] | None = None
        for mount in mounts if isinstance(mounts, list) else []:
            if isinstance(mount, Mapping) and isinstance(mount.get("mountPath"), str):
                base = posixpath.normpath(mount["mountPath"])
                inside = full == base or full.startswith(base.rstrip("/") + "/")
                if inside and len(base) > len(best[0] if best else ""):
                    best = (base, mount)
        if best is None:
            annotation = injector_file(full, str(self.container.get("name")), self.annotations)
            if annotation is not None:
                return self.agent_file(path, f"{where} (rendered by the Vault Agent Injector from {annotation})")
            return Unseen(path.source, f"{where}, which is on no volume of the pod (a file of the image, if any)")
        base, mount = best
        volume_name = str(mount.get("name"))
        agents = [c for c in writers_of(self.pod_spec, volume_name) if runs_vault_agent(c)]
        if agents:
            return self.agent_file(path, f"{where} (rendered by Vault Agent init container {agents[0].get('name')!r})")
        volume = volume_named(self.pod_spec, volume_name) or {}
        source = volume.get("configMap")
        if not isinstance(source, Mapping) or not isinstance(source.get("name"), str):
            return Unseen(path.source, f"{where}, on volume {volume_name}, which olrender cannot read")
        data = self.lookup("ConfigMap", source["name"])
        if data is None:
            return Unseen(path.source, f"{where}, from ConfigMap {source['name']}, which is not in the stream")
        self.described[path.source] = f"{where} (ConfigMap {source['name']})"
        inside = posixpath.normpath(posixpath.join(str(mount.get("subPath") or ""), posixpath.relpath(full, base)))
        items = source.get("items")
        files = (
            {str(i.get("path")): str(i.get("key")) for i in items if isinstance(i, Mapping)}
            if isinstance(items, list) else {k: k for k in data}
        )
        if inside not in files or files[inside] not in data:
            return None
        text = data[files[inside]]
        if text is None:
            return Unseen(path.source, f"{where}, binary data of ConfigMap {source['name']}")
        return _read_file(data, files[inside], text, path)


def _read_file(data: Mapping[str, str | None], key: str, text: str, path: Sourced) -> FileContent:
    """A config file from a ConfigMap's key, read once (kept in the lookup's ``files`` when it has one)."""
    cache: dict[tuple[str, str], FileContent] = getattr(data, "files", {})
    known = cache.get((key, path.source))
    if known is None:
        try:
            known = cache[(key, path.source)] = read_config(text, path.source)
        except TooLarge as exc:
            document = getattr(data, "place", "") or "its ConfigMap"
            raise Refused(path.source, f"the config file {path} (key {key} of {document}): {exc.describe()}") from None
    return known
