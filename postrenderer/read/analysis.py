"""One read of the stream, shared by every mode: render, --check, --diff, --emit-patches, --explain, --forbid-plaintext.

``read`` decodes and splits the stream once and reads each document as
Kubernetes would (``stream.parse``), keeping only what the modes need:

    workload with an agent component       -> the whole document (it may be changed)
    workload without one                   -> its outline (kind, names, labels: for reports)
    workload its text rules out            -> checked to be well-formed, classified unread: its name
      (``ComponentRules.rules_out``)          and namespace are read when a report asks for them
    ConfigMap / Secret / ServiceAccount    -> the whole document, when a component refers to it
                                              or the method generates one of that name
    an object that makes a Secret          -> the whole document, when a component refers to that
      (``producers``: an ExternalSecret)      Secret or the method generates one of its name
    anything else                          -> checked to be well-formed, passed through as text

Each workload is classified here, once (``Classified``): planning and lint read
``Analysis.classified`` instead of classifying again. With ``full``
(``--forbid-plaintext``, which looks at every object) every document is kept
whole. Objects a component may refer to are read after the workloads, so that
only the referenced ones become objects; each document is still read once.
"""

from __future__ import annotations

from postrenderer.errors import InputError
from postrenderer.read import stream
from postrenderer.read.discovery import Component, choose_container, classify, containers_of
from postrenderer.read.identity import identity as document_identity
from postrenderer.read.objects import OBJECT_KINDS, Objects, references
from postrenderer.read.workloads import (
    POD_TEMPLATE_PATHS,
    iter_workloads,
    kind_may_hold_workloads,
    might_hold_workloads,
    outline,
    outline_paths,
)

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from postrenderer.read.discovery import ComponentRules
    from postrenderer.read.objects import Producers
    from postrenderer.read.workloads import Workload


MAX_COMPONENTS = 10_000  # agent components of one stream (an agent release renders a handful)
MAX_COMPONENT_BYTES = 16 * 2**20  # their text, all together (the API server stores objects up to about 1.5 MiB)


class Classified:
    """One workload as classified: its role (None: not a component), why, and where; components keep the workload.

    A workload whose text rules it out (``Classified.unread``) is classified without being read: its name and
    namespace are read from the input the first time a report asks for them.
    """

    __slots__ = ("_name", "_namespace", "_unread", "kind", "position", "reason", "role", "workload")

    def __init__(self, workload: Workload | None, position: int, role: str | None, reason: str) -> None:
        self.kind = "" if workload is None else workload.kind  # (None: ``unread`` sets what it knows)
        self._name = None if workload is None else workload.name
        self._namespace = None if workload is None else workload.namespace
        self.position, self.role, self.reason = position, role, reason
        self.workload = workload if role is not None else None  # (an outline's workloads need not stay)
        self._unread: tuple[bytes, int, int, int, int] | None = None

    @classmethod
    def unread(cls, source: bytes, segment: stream.Segment, kind: str, reason: str) -> Classified:
        """A workload that is no component (reason), its document checked but not read (source: the input)."""
        known = cls(None, 0, None, reason)
        known.kind = kind
        known._unread = (source, segment.index, segment.line, segment.start, segment.size)
        return known

    @property
    def name(self) -> str | None:
        """The workload's name (read now if the workload was not)."""
        if self._unread is not None:
            self._read()
        return self._name

    @property
    def namespace(self) -> str | None:
        """The workload's namespace (read now if the workload was not)."""
        if self._unread is not None:
            self._read()
        return self._namespace

    def _read(self) -> None:
        """Read an unread workload's outline from the input: its document is sketched (or parsed) now."""
        assert self._unread is not None
        source, index, line, start, size = self._unread
        segment = stream.Segment(index, source[start : start + size].decode("utf-8"), line, start, size)
        doc = stream.sketch(segment, outline_paths(self.kind))
        workload = next(iter_workloads(index, outline(doc if doc is not None else stream.parse(segment)[0])))
        self._name, self._namespace, self._unread = workload.name, workload.namespace, None

    def component(self, rules: ComponentRules, workload: Workload | None = None) -> Component:
        """The component this workload is (or the same workload in a patched document), its container chosen."""
        workload = workload or self.workload
        assert workload is not None and self.role is not None
        index, container_reason = choose_container(workload, self.role, rules)
        name = containers_of(workload)[index]["name"]
        return Component(workload, self.role, self.reason, index, name, container_reason)


def classify_document(
    index: int, doc: Any, rules: ComponentRules, known: list[Classified] | None = None
) -> list[Classified]:
    """Classify every workload of a document; ``known``: the same workloads' classification from a sketch."""
    workloads = list(iter_workloads(index, doc))
    if known is not None and len(known) == len(workloads):
        return [Classified(w, i, k.role, k.reason) for i, (w, k) in enumerate(zip(workloads, known, strict=True))]
    return [Classified(w, i, *classify(w, rules)) for i, w in enumerate(workloads)]


class Analysis:
    """The stream as read: the documents kept (by index) with their segments, and what the stream is.

    Only the segments of kept documents keep their text; the output copies every
    other document from ``source``, the input bytes.
    """

    __slots__ = ("classified", "documents", "duplicates", "format", "has_documents", "newline", "producers", "segments",
                 "source")

    def __init__(self, source: bytes, producers: Producers | None = None) -> None:
        self.source = source
        self.producers: Producers = producers or {}
        self.classified: dict[int, list[Classified]] = {}  # each kept document's workloads, classified once
        self.segments: dict[int, stream.Segment] = {}  # the kept documents' segments, by index
        self.documents: dict[int, Any] = {}
        self.duplicates: dict[int, list[str]] = {}
        self.format = "plain"
        self.has_documents = False
        self.newline = "\n"  # the stream's line break (of its first segment)

    def keep(
        self, segment: stream.Segment, doc: Any, duplicates: list[str], text: bool = True,
        classified: list[Classified] | None = None,
    ) -> None:
        """Keep a document for the modes, with its segment when it may change (text) and its workloads' classes."""
        if text:
            self.segments[segment.index] = segment
        if classified:
            self.classified[segment.index] = classified
        self.documents[segment.index] = doc
        if duplicates:
            self.duplicates[segment.index] = duplicates

    def objects(self) -> Objects:
        """The ConfigMaps, Secrets and ServiceAccounts kept, for lookups by kind, name and namespace."""
        found = Objects(self.producers)
        for index, doc in self.documents.items():
            found.add_all(doc, index)
        return found


def _read(
    segment: stream.Segment, kind: str | None, rules: ComponentRules, full: bool
) -> tuple[Any, list[str], list[Classified]]:
    """A document, its duplicate keys and its workloads classified; workloads without a component become outlines.

    A workload is sketched first (its outline read from libyaml's events, the whole text checked on the way),
    whatever its size, unless its text shows it is likely a component (``ComponentRules.likely_component``):
    only components and the documents they refer to are built in full.
    """
    known = None
    if kind in POD_TEMPLATE_PATHS and not full and not rules.likely_component(segment.text):
        sketched = stream.sketch(segment, outline_paths(kind))
        if sketched is not None:
            doc = outline(sketched)
            known = classify_document(segment.index, doc, rules)
            if not _holds_component(known):
                return doc, [], known  # (duplicate keys only matter in components)
    doc, duplicates = stream.parse(segment)
    if not might_hold_workloads(doc):
        return doc, duplicates, []
    classified = classify_document(segment.index, doc, rules, known)
    if _holds_component(classified):
        return doc, duplicates, classified
    return (doc if full else outline(doc)), duplicates, classified


def _holds_component(classified: list[Classified]) -> bool:
    """Whether any of the workloads is an agent component."""
    return any(c.role is not None for c in classified)


def _mentions(text: str, names: Iterable[str]) -> bool:
    """Whether a document's text may hold one of the names (a name can only hide behind escapes)."""
    return "\\" in text or any(name in text for name in names)


def _read_deferred(
    analysis: Analysis, deferred: list[tuple[stream.Segment, str]], wanted: set[tuple[str, str]],
    generated_names: set[tuple[str, str]],
) -> None:
    """Keep the ConfigMaps, Secrets and ServiceAccounts the components refer to; check the others' well-formedness."""
    for segment, kind in deferred:
        made = "Secret" if kind in analysis.producers else None
        names = [name for k, name in wanted if k in (kind, made)]
        if names and _mentions(segment.text, names):
            doc, duplicates = stream.parse(segment)
            named = document_identity(doc).named
            if named in wanted or _makes(analysis, doc, wanted):
                analysis.keep(segment, doc, duplicates, text=named in generated_names)
        else:
            stream.check(segment)


def read(
    data: bytes, rules: ComponentRules, keep: set[tuple[str, str]] | None = None, full: bool = False,
    producers: Producers | None = None,
) -> Analysis:
    """Read the stream once; ``keep``: (kind, name) of objects to keep besides those components refer to.

    ``producers``: kinds of object that make a Secret, kept when that Secret is wanted.
    """
    analysis = Analysis(data, producers)
    generated_names = set(keep or ())
    wanted = set(generated_names)
    deferred_kinds = OBJECT_KINDS | {kind for kind, _ in generated_names} | set(analysis.producers)
    deferred: list[tuple[stream.Segment, str]] = []
    helm3 = helm4 = False
    components = component_bytes = 0
    for segment in stream.segments(stream.decode(data), data):
        if segment.index == 1:
            analysis.newline = segment.newline
        helm3 = helm3 or stream.has_source_line(segment)
        text = segment.source
        kind = stream.plain_kind(text)
        if kind is not None and not full and (helm4 or stream.HELM4_FILENAME not in text):
            if kind in deferred_kinds:  # read once the components say which ones they refer to
                deferred.append((segment, kind))
                analysis.has_documents = True
                continue
            if not kind_may_hold_workloads(kind):
                stream.check(segment)  # well-formed is all we need to know: its text passes through
                analysis.has_documents = True
                continue
            if kind in POD_TEMPLATE_PATHS and rules.rules_out(text):  # no component, by its text: read on demand
                stream.check(segment)
                analysis.classified[segment.index] = [Classified.unread(data, segment, kind, rules.unmatched)]
                analysis.has_documents = True
                continue
        doc, duplicates, classified = _read(segment, kind, rules, full)
        if doc is None:
            continue
        component = _holds_component(classified)
        analysis.has_documents = True
        helm4 = helm4 or stream.is_helm4(doc)
        identity = document_identity(doc).named
        if full or component or identity in wanted or might_hold_workloads(doc) or _makes(analysis, doc, wanted):
            analysis.keep(segment, doc, duplicates, component or identity in generated_names, classified)
        if component:
            wanted |= references(doc)
            components += 1
            component_bytes += len(segment.text)
            _within_limits(segment, components, component_bytes)
    _read_deferred(analysis, deferred, wanted, generated_names)
    analysis.documents = dict(sorted(analysis.documents.items()))
    analysis.classified = dict(sorted(analysis.classified.items()))
    analysis.format = "helm3" if helm3 else "helm4" if helm4 else "plain"
    return analysis


def _within_limits(segment: stream.Segment, components: int, component_bytes: int) -> None:
    """Refuse a stream whose agent components, up to this one, are more or larger than olrender reads."""
    if components > MAX_COMPONENTS:
        raise InputError(
            f"{stream.place(segment)}: the stream holds more than {MAX_COMPONENTS:,} agent components, "
            "olrender's limit (an agent release renders a handful)"
        )
    if component_bytes > MAX_COMPONENT_BYTES:
        raise InputError(
            f"{stream.place(segment)}: the stream's agent components hold more than "
            f"{MAX_COMPONENT_BYTES // 2**20} MiB of text together, olrender's limit (the Kubernetes API "
            "stores an object of up to about 1.5 MiB; an agent release's components are a few KiB each)"
        )


def _makes(analysis: Analysis, doc: Any, wanted: set[tuple[str, str]]) -> bool:
    """Whether the document makes a Secret that is wanted (an ExternalSecret whose target a component reads)."""
    producer = analysis.producers.get(str(doc.get("kind"))) if isinstance(doc, dict) else None
    return producer is not None and document_identity(producer(doc)).named in wanted
