"""The objects components refer to, found by kind, name and namespace in constant time.

``Objects`` holds the ConfigMaps, Secrets and ServiceAccounts the analysis kept (and the
Secrets that producers, such as an ExternalSecret, make); ``references`` lists what a
workload's pods refer to, so that only those objects are read:

    references(deployment)                     -> {("Secret", "ol"), ("ServiceAccount", "default")}
    Objects().content("Secret", "ol", "team")  -> the keys components see (values of ConfigMaps only)
"""

from __future__ import annotations

from postrenderer.errors import where
from postrenderer.read.workloads import containers, env_entries, iter_workloads

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeAlias

    # kind -> the Secret (a Secret document of its keys) an object of that kind makes in the cluster, or None
    Producers: TypeAlias = Mapping[str, Callable[[Mapping[str, Any]], "dict[str, Any] | None"]]

OBJECT_KINDS = frozenset({"ConfigMap", "Secret", "ServiceAccount"})


class Content(dict):  # type: ignore[type-arg]
    """An object's keys as components see them (values of ConfigMaps' ``data``; None for Secrets and binary data).

    Built once per run for each object a component refers to; ``files`` keeps what
    was read from its keys (config files), so that no content is parsed once per component.
    """

    __slots__ = ("files", "made_by", "place")

    def __init__(self, keys: dict[str, str | None], place: str, made_by: str = "") -> None:
        super().__init__(keys)
        self.place = place  # the document, for messages: document 3 (ConfigMap/x)
        self.made_by = made_by  # the document that makes this Secret (an ExternalSecret), for messages
        self.files: dict[Any, Any] = {}


class Objects:
    """Kept objects by (kind, name, namespace), found in constant time; one without a namespace matches any.

    Of several matching objects the first in the stream wins.
    """

    def __init__(self, producers: Producers | None = None) -> None:
        self.producers: Producers = producers or {}
        self._first: dict[tuple[str, str], tuple[int, Any]] = {}  # the first of a kind and name, anywhere
        self._exact: dict[tuple[str, str, str], tuple[int, Any]] = {}  # ... in a namespace
        self._anywhere: dict[tuple[str, str], tuple[int, Any]] = {}  # ... without a namespace
        self._places: dict[int, str] = {}
        self._made: set[int] = set()  # the Secrets producers make (ids)
        self._contents: dict[int, Content] = {}

    def add_all(self, doc: Any, index: int = 0) -> None:
        """Remember a document (and the items of a List) if it is a ConfigMap, Secret or ServiceAccount."""
        items = doc.get("items") if isinstance(doc, dict) else None
        for item in items if isinstance(items, list) else [doc]:
            self.add(item, index)

    def add(self, doc: Any, index: int = 0) -> None:
        """Remember one object of a kind components refer to, or the Secret a producer makes (index: its document)."""
        if not isinstance(doc, dict):
            return
        place = where(index, doc.get("kind"), (doc.get("metadata") or {}).get("name")) if index else ""
        producer = self.producers.get(str(doc.get("kind")))
        if producer is not None and (produced := producer(doc)) is not None:
            doc = produced
            self._made.add(id(doc))
        if doc.get("kind") not in OBJECT_KINDS:
            return
        metadata = doc.get("metadata")
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            return
        kind, name, namespace = doc["kind"], metadata["name"], metadata.get("namespace")
        entry = (len(self._places), doc)
        self._places[id(doc)] = place
        self._first.setdefault((kind, name), entry)
        if isinstance(namespace, str):
            self._exact.setdefault((kind, name, namespace), entry)
        else:
            self._anywhere.setdefault((kind, name), entry)

    def get(self, kind: str, name: str, namespace: str | None) -> Mapping[str, Any] | None:
        """The object of that kind and name visible from a namespace (None: not in the stream)."""
        if namespace is None:
            found = self._first.get((kind, name))
        else:
            candidates = [self._exact.get((kind, name, namespace)), self._anywhere.get((kind, name))]
            found = min((c for c in candidates if c is not None), default=None, key=lambda entry: entry[0])
        return None if found is None else found[1]

    def content(self, kind: str, name: str, namespace: str | None) -> Content | None:
        """A ConfigMap's or Secret's keys (``Content``) visible from a namespace, built once per run."""
        doc = self.get(kind, name, namespace)
        if doc is None:
            return None
        known = self._contents.get(id(doc))
        if known is None:
            secret = kind == "Secret"
            keys: dict[str, str | None] = {}
            for part in ("data", "stringData") if secret else ("data", "binaryData"):
                content = doc.get(part)
                if isinstance(content, dict):
                    for key, value in content.items():
                        keys[str(key)] = None if secret or part == "binaryData" else str(value)
            place = self._places.get(id(doc), "")
            known = self._contents[id(doc)] = Content(keys, place, place if id(doc) in self._made else "")
        return known


def references(doc: Any) -> set[tuple[str, str]]:
    """(kind, name) of every ConfigMap, Secret and ServiceAccount the pods of a document refer to (env, volumes)."""
    found: set[tuple[str, str]] = set()
    for workload in iter_workloads(0, doc):
        spec = workload.pod_spec
        if not isinstance(spec, dict):
            continue
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if isinstance(account, str):  # (the pod's ServiceAccount: whether it mounts a token, for the Vault methods)
            found.add(("ServiceAccount", account))
        volumes = spec.get("volumes")
        for volume in volumes if isinstance(volumes, list) else []:  # (a config file the lint reads)
            source = volume.get("configMap") if isinstance(volume, dict) else None
            if isinstance(source, dict) and isinstance(source.get("name"), str):
                found.add(("ConfigMap", source["name"]))
        for container in containers(spec):
            found |= _container_references(container)
    return found


def _container_references(container: Any) -> set[tuple[str, str]]:
    """What one container's envFrom and env valueFrom refer to."""
    found: set[tuple[str, str]] = set()
    if not isinstance(container, dict):
        return found
    sources = container.get("envFrom")
    for source in sources if isinstance(sources, list) else []:
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(key) if isinstance(source, dict) else None
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                found.add((kind, ref["name"]))
    for entry in env_entries(container):
        value_from = entry.get("valueFrom")
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = value_from.get(key) if isinstance(value_from, dict) else None
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                found.add((kind, ref["name"]))
    return found
