"""The parts of a workload document olrender needs, read without building the rest.

A workload without an agent component only matters for its outline (kind,
names, labels, for reports). ``sketch`` reads a plain document's events and
builds only the values at some key paths, skipping everything else:

    paths {("metadata",), ("spec", "template", "metadata")} of a Deployment
    -> {"metadata": {...}, "spec": {"template": {"metadata": {...}}}}

The events come from the one reader (``reader.plain_loader``), within its budgets.
"""

from __future__ import annotations

import yaml

from postrenderer.read import reader
from postrenderer.read.scalars import STR_TAG

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any


def sketch(text: str, paths: set[tuple[str, ...]]) -> dict[str, Any] | None:
    """The parts of a plain, well-formed block-mapping document at the given key paths; None: parse it in full.

    libyaml's parser reads the whole document (so it is checked as ``check``
    would), but only the values at ``paths`` and the mappings on the way to
    them become objects (values on the way that are not mappings are built
    too); a repeated key replaces the earlier one, as in a parsed document:

        paths {("metadata",), ("spec", "template", "metadata")} of a Deployment
        -> {"metadata": {...}, "spec": {"template": {"metadata": {...}}}}
    """
    loader = reader.plain_loader(text)
    if loader is None:
        return None
    events = _Sketch(loader, paths)
    get = events.get
    found: dict[str, Any] = {}
    try:
        get(), get()  # stream start, document start
        if type(get()) is not yaml.MappingStartEvent:
            return None
        events.read((), found)
        if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
            return None  # a second document: a full parse reports it
    except (yaml.YAMLError, _NotPlain):
        return None  # a full parse reports it, or reads it
    finally:
        events.loader.dispose()
    return found


class _Sketch:
    """One document's events, with only the values at some key paths built (a class, not closures: no cycles)."""

    __slots__ = ("constructors", "get", "loader", "paths", "prefixes")

    def __init__(self, loader: reader.Loader, paths: set[tuple[str, ...]]) -> None:
        self.loader, self.get, self.constructors = loader, loader.get_event, loader.yaml_constructors
        self.paths = paths
        self.prefixes = {path[:i] for path in paths for i in range(1, len(path))}

    def build(self, event: Any) -> Any:
        """The object an event starts (reading up to its end)."""
        kind = type(event)
        if kind is yaml.ScalarEvent:
            loader = self.loader
            tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == STR_TAG:
                return event.value
            return self.constructors[tag](loader, yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark))
        get, build = self.get, self.build
        if kind is yaml.MappingStartEvent:
            mapping = {}
            while type(key := get()) is not yaml.MappingEndEvent:
                mapping[build(key)] = build(get())
            return mapping
        items = []
        while type(item := get()) is not yaml.SequenceEndEvent:
            items.append(build(item))
        return items

    def skip(self, event: Any) -> None:
        """Read past the node an event starts."""
        get = self.get
        depth = _NESTING.get(type(event), 0)
        while depth:
            depth += _NESTING.get(type(get()), 0)

    def read(self, path: tuple[str, ...], into: dict[str, Any]) -> None:
        """Read a mapping's entries into ``into``: along the paths, build; elsewhere, skip."""
        get, paths, prefixes = self.get, self.paths, self.prefixes
        while type(key := get()) is not yaml.MappingEndEvent:
            if type(key) is not yaml.ScalarEvent:
                raise _NotPlain
            value = get()
            where = (*path, key.value)
            if where in prefixes and type(value) is yaml.MappingStartEvent:
                into[key.value] = {}
                self.read(where, into[key.value])
            elif where in paths or where in prefixes:
                into[key.value] = self.build(value)
            else:
                self.skip(value)


_NESTING = {yaml.MappingStartEvent: 1, yaml.SequenceStartEvent: 1, yaml.MappingEndEvent: -1, yaml.SequenceEndEvent: -1}


class _NotPlain(Exception):
    """The document uses something ``sketch`` leaves to a full parse."""
