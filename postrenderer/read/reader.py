"""Read YAML or JSON text within budgets, the way Kubernetes resolves scalars: the one reader olrender has.

Every text olrender parses goes through this module: the stream's documents,
values files, config files in ConfigMaps, JSON in environment values and what
the transport model reads (tests/test_reader.py scans the package to prove that
no other module calls a YAML or JSON parser). Each text gets the same budgets,
checked before the costly step and never by running into ``RecursionError``:

    size      MAX_DOCUMENT_BYTES characters
    depth     MAX_DEPTH levels of nesting (measured from libyaml's events, which need no recursion)
    aliases   MAX_EXPANDED_NODES nodes and MAX_DOCUMENT_BYTES characters once every alias is expanded
    merges    MAX_EXPANDED_NODES entries copied by ``<<`` merge keys (counted before the copy)

Over a budget is ``TooLarge``, whose message names the limit (and the line);
malformed text is ``yaml.YAMLError`` or, for JSON, ``ValueError``. The caller
names the document or the variable.

    load("a: &x [1]\\nb: *x\\n")     -> ({"a": [1], "b": [1]}, [])   (the two lists are one object)
    load("a: 12:30\\n")              -> ({"a": "12:30"}, [])          (Kubernetes: a string)
    load(text, client=True)         -> read as the OpenLineage client's yaml.safe_load reads it
    load_json('{"type": "http"}')   -> {"type": "http"}
"""

from __future__ import annotations

import json
import re

import yaml

from postrenderer.read.scalars import BOOL_TAG, FLOAT_TAG, INT_TAG, MERGE_TAG, STR_TAG, plain_value, resolve_plain

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

try:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader

try:  # pragma: no cover - depends on how PyYAML was built
    from yaml._yaml import CParser  # libyaml's parser alone: events, no nodes

    _RawParser: Any = CParser
except ImportError:  # pragma: no cover
    _RawParser = yaml.SafeLoader

MAX_EXPANDED_NODES = 1_000_000
MAX_DEPTH = 200  # nesting levels; libyaml's composer recurses in C, and building objects recurses in Python
MAX_DOCUMENT_BYTES = 16 * 2**20  # characters of one document (all ASCII in practice)

# tags, anchors, aliases, complex keys, merge keys, collection keys, each where a YAML token starts
_TOKEN = r"[^\s\[\]{},]"
_NEEDS_OBJECTS_RE = re.compile(
    rf"!(?<!{_TOKEN}!)|&(?<!{_TOKEN}&)|\*(?<!{_TOKEN}\*)|\?(?=\s|$)(?<!{_TOKEN}\?)|<<(?<!{_TOKEN}<<)"
    r"|\][ \t]*:(?=\s|$)|\}[ \t]*:(?=\s|$)",  # (literal first characters keep the scan fast)
    re.MULTILINE,
)
_JSON_STRING_RE = r'(?s)"(?:[^"\\]|\\.)*"'
_JSON_BRACKET_RE = r"[\[\]{}]"


class TooLarge(Exception):
    """A text exceeds one of olrender's processing limits."""

    def __init__(self, message: str, node: Any = None) -> None:
        super().__init__(message.replace("{at}", ""))
        self.message = message
        self.line: int | None = node.start_mark.line if node is not None else None

    def describe(self, first_line: int = 1) -> str:
        """The message, with the line where the limit was hit (first_line: where the text starts)."""
        at = f" at line {first_line + self.line}" if self.line is not None else ""
        return self.message.replace("{at}", at)


class _Budgeted:
    """What every loader here adds to PyYAML's: alias and merge counting, duplicate keys, plain dicts."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self.duplicate_keys: list[str] = []
        self.aliases = 0
        self.merged = 0
        self.flattened: set[int] = set()
        self.merge_weights: dict[int, int] = {}

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """Construct a node, counting how often a node is reused through an alias."""
        if node in self.constructed_objects:  # type: ignore[attr-defined]
            self.aliases += 1
        return super().construct_object(node, deep=deep)  # type: ignore[misc]

    def flatten_mapping(self, node: Any) -> None:
        """Note duplicate keys and resolve ``<<`` merges (at most MAX_EXPANDED_NODES merged entries)."""
        if id(node) in self.flattened:
            return
        self.flattened.add(id(node))
        self._merge_weight(node)  # remember its weight before flattening rewrites node.value
        seen: set[tuple[str, str]] = set()
        sources: list[Any] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                subnodes = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                sources += [sub for sub in subnodes if isinstance(sub, yaml.MappingNode)]
            elif isinstance(key_node, yaml.ScalarNode):  # a collection key: SafeConstructor refuses it
                key = (key_node.tag, key_node.value)
                if key in seen:
                    self.duplicate_keys.append(f"{key_node.value} (line {key_node.start_mark.line + 1})")
                seen.add(key)
        self.merged += sum(self._merge_weight(sub) for sub in sources)
        for sub in sources:
            self.flatten_mapping(sub)
        if self.merged > MAX_EXPANDED_NODES:
            raise TooLarge(
                f"YAML merge keys (<<){{at}} copy more than {MAX_EXPANDED_NODES:,} entries (a merge bomb?)", node
            )
        super().flatten_mapping(node)  # type: ignore[misc]

    def _merge_weight(self, node: Any) -> int:
        """Entries a mapping holds once its ``<<`` merges are copied in without de-duplication.

        Older PyYAML copies exactly that many (exponential in a merge bomb); newer releases
        de-duplicate. Counting the undeduplicated figure refuses the same inputs on both.
        """
        known = self.merge_weights.get(id(node))
        if known is not None:
            return known
        weight = 0
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                subs = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                weight += sum(self._merge_weight(sub) for sub in subs if isinstance(sub, yaml.MappingNode))
            else:
                weight += 1
        self.merge_weights[id(node)] = min(weight, MAX_EXPANDED_NODES + 1)
        return self.merge_weights[id(node)]

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping as a plain dict (duplicate keys are noted while flattening)."""
        return dict(super().construct_mapping(node, deep=deep))  # type: ignore[misc]


class Loader(_Budgeted, _BaseLoader):  # type: ignore[misc]
    """Safe loader that reads scalars as Kubernetes does and notes duplicate keys.

    Its resolver follows Kubernetes' YAML decoder, not PyYAML's YAML 1.1: no
    sexagesimal numbers, timestamps or ``=`` values, and ``y``/``n``, ``0o17``,
    ``1e3`` and ``08`` are what Kubernetes makes of them (``resolve_plain``).
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """The tag of a node: plain scalars by Kubernetes' rules, the rest as usual."""
        if kind is yaml.ScalarNode and implicit[0]:
            return resolve_plain(value)
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


for _tag in (INT_TAG, FLOAT_TAG, BOOL_TAG, MERGE_TAG):  # ("<<" as a value: a string, as in Kubernetes)
    Loader.add_constructor(_tag, lambda loader, node: plain_value(node.value))


class ClientLoader(_Budgeted, _BaseLoader):  # type: ignore[misc]
    """The same budgets with PyYAML's own resolution: a file the OpenLineage client reads with ``yaml.safe_load``."""


def load(text: str, client: bool = False) -> tuple[Any, list[str]]:
    """Load one YAML document within olrender's budgets; return it and its duplicate keys.

    ``client``: resolve scalars as PyYAML does (for files the OpenLineage client
    reads), not as Kubernetes does. Raises ``yaml.YAMLError`` for malformed YAML
    and ``TooLarge`` for a text over a budget (see the module's docstring).
    """
    if len(text) > MAX_DOCUMENT_BYTES:
        raise TooLarge(f"the text is {len(text) / 2**20:.1f} MiB, over the {MAX_DOCUMENT_BYTES // 2**20} MiB "
                       "olrender reads")
    check_depth(text)
    loader = (ClientLoader if client else Loader)(text)
    try:
        doc = loader.get_single_data() if not plain_yaml(text) else _build(loader, loader.get_single_node())
        if loader.aliases:
            _check_expanded(doc)
        return doc, loader.duplicate_keys
    except RecursionError:  # an alias inside its own anchor (a: &a [*a]) is a cycle, endless once expanded
        raise TooLarge("nesting too deep to process (an alias inside itself?)") from None
    finally:
        loader.dispose()


def load_json(text: str) -> Any:
    """Load a JSON text within the same budgets (size and depth); ``ValueError`` when it is not JSON."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise TooLarge(f"the JSON text is {len(text) / 2**20:.1f} MiB, over the {MAX_DOCUMENT_BYTES // 2**20} MiB "
                       "olrender reads")
    if text.count("[") + text.count("{") > MAX_DEPTH and _json_depth(text) > MAX_DEPTH:
        raise TooLarge(f"the JSON value is nested more than {MAX_DEPTH} levels deep (olrender's limit)")
    return json.loads(text)


def _json_depth(text: str) -> int:
    """How deep a JSON text nests, counting brackets outside strings (no recursion, linear time)."""
    depth = deepest = 0
    for bracket in re.finditer(_JSON_BRACKET_RE, re.sub(_JSON_STRING_RE, "", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def plain_yaml(text: str) -> bool:
    """Whether a document's text uses only plain YAML: nothing that only building objects refuses or expands.

    That leaves out tags, anchors and aliases, ``<<`` merges and collection
    keys (each where a YAML token can start, so ``#!/bin/sh`` does not count). Plain YAML can be checked
    by libyaml's parser alone and built without PyYAML's general constructor.
    """
    return _NEEDS_OBJECTS_RE.search(text) is None


def _build(loader: Any, node: Any) -> Any:
    """Build plain YAML's objects from its nodes: what ``construct_document`` gives, several times faster."""
    if node is None:
        return None
    try:
        return _build_node(node, loader)
    except _DuplicateKeys:  # rare: let construction note them, in its own words and order
        return loader.construct_document(node)


def _build_node(node: Any, loader: Any) -> Any:
    """One node of ``_build`` (a function, not a closure: no reference cycle per document)."""
    kind = type(node)
    if kind is yaml.ScalarNode:
        return node.value if node.tag == STR_TAG else loader.yaml_constructors[node.tag](loader, node)
    if kind is yaml.MappingNode:
        mapping = {_build_node(key, loader): _build_node(value, loader) for key, value in node.value}
        if len(mapping) < len(node.value):
            raise _DuplicateKeys
        return mapping
    return [_build_node(item, loader) for item in node.value]


class _DuplicateKeys(Exception):
    """A mapping of a plain document repeats a key."""


def check_depth(text: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH before libyaml's recursive composer sees them.

    Each nesting level needs a ``[``/``{`` or more indentation (or a ``- ``/``? ``
    indicator) than its parent, so a document with few brackets and shallow
    indentation is cleared without parsing; anything else is measured from
    libyaml's events, which it produces without recursion.
    """
    budget = MAX_DEPTH - text.count("[") - text.count("{")
    if budget > 4:
        prefix = f"[ \t?:-]{{{budget // 2 - 1}}}"  # a line starting this far in (over-estimated)
        if re.match(prefix, text) is None and re.search("\n" + prefix, text) is None:
            return
    parser = _RawParser(text)
    depth = 0
    try:
        while (event := parser.get_event()) is not None:
            kind = type(event)
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    raise TooLarge(f"nested more than {MAX_DEPTH} levels deep{{at}} (olrender's limit)", event)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        # libyaml >= 0.2.5 (PyYAML >= 6.0.4) stops deep flow nesting in its scanner, ahead of
        # the events counted above: report it as the same limit, wherever it was hit first.
        if "maximum nesting depth" not in str(exc.problem):
            raise
        where = yaml.Node("", "", exc.problem_mark, exc.problem_mark)  # TooLarge reads start_mark
        raise TooLarge(f"nested more than {MAX_DEPTH} levels deep{{at}} (olrender's limit)", where) from None
    finally:
        if hasattr(parser, "dispose"):
            parser.dispose()


def nesting_ok(text: str) -> bool:
    """Whether the text is well-formed enough to measure and nests at most MAX_DEPTH levels."""
    try:
        check_depth(text)
    except (TooLarge, yaml.YAMLError):
        return False
    return True


def _check_expanded(doc: Any) -> None:
    """Refuse a document whose aliases, expanded as Kubernetes expands them, exceed the node or text budget."""
    nodes, chars = _expanded_size(doc)
    if nodes > MAX_EXPANDED_NODES:
        raise TooLarge(f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)")
    if chars > MAX_DOCUMENT_BYTES:
        raise TooLarge(
            f"YAML aliases expand to {chars / 2**20:.0f} MiB of text, more than the "
            f"{MAX_DOCUMENT_BYTES // 2**20} MiB a document may hold (Kubernetes writes every alias out in full)"
        )


def _expanded_size(doc: Any) -> tuple[int, int]:
    """The nodes and the characters of text a document has once every alias is expanded, as Kubernetes expands them."""
    sizes: dict[int, tuple[int, int]] = {}

    def size(obj: Any) -> tuple[int, int]:
        if not isinstance(obj, (dict, list)):
            return 1, len(obj) if isinstance(obj, str) else 1
        known = sizes.get(id(obj))
        if known is None:
            nodes, chars = 1, 0
            for child in [*obj.keys(), *obj.values()] if isinstance(obj, dict) else obj:
                more, text = size(child)
                nodes, chars = nodes + more, chars + text
            known = sizes[id(obj)] = (nodes, chars)
        return known

    return size(doc)


def well_formed(text: str) -> bool:
    """Whether libyaml's parser alone proves a plain text one well-formed document within the depth budget.

    False means "not proven": a full ``load`` decides (and names the problem).
    """
    if not plain_yaml(text) or not nesting_ok(text):
        return False
    parser = _RawParser(text)
    try:
        if hasattr(parser, "raw_parse") and not _LATER_MARKER_RE.search(text):
            parser.raw_parse()  # no marker after the start: one document at most
            return True
        starts = 0
        while (event := parser.get_event()) is not None:
            starts += type(event) is yaml.DocumentStartEvent
        return starts <= 1
    except yaml.YAMLError:
        return False
    finally:
        if hasattr(parser, "dispose"):
            parser.dispose()


_LATER_MARKER_RE = re.compile(r"\n(?:(?:---|\.\.\.)(?=[ \t\r\n]|\Z)|%)")


class EventParser(_RawParser):  # type: ignore[misc]
    """libyaml's events of a document read within the budgets, with ``!!merge <<`` spelled as ``<<``.

    Kubernetes treats an explicitly tagged ``!!merge <<`` key like a plain
    ``<<``, so readers of positions (``edit``) see one spelling of a merge key.
    The text must have passed ``load`` (its depth is checked again here).
    """

    def __init__(self, text: str) -> None:
        check_depth(text)
        super().__init__(text)

    def get_event(self) -> Any:
        """The next event, a tagged merge key shown as a plain one."""
        event = super().get_event()
        if type(event) is yaml.ScalarEvent and event.tag == MERGE_TAG and event.value == "<<":
            event.tag, event.implicit, event.style = None, (True, False), None
        return event


def plain_loader(text: str) -> Loader | None:
    """A loader to read a plain text's events one by one, within the budgets; None: ``load`` the text instead."""
    if len(text) > MAX_DOCUMENT_BYTES or not plain_yaml(text) or not nesting_ok(text):
        return None
    return Loader(text)


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Where the quoted scalars that span lines lie in text (offsets); none when the text does not scan."""
    spans: list[tuple[int, int]] = []
    try:
        for token in yaml.scan(text, Loader=_BaseLoader):
            if type(token) is yaml.ScalarToken and token.style in ("'", '"') \
                    and token.start_mark.line != token.end_mark.line:
                spans.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError:
        pass  # malformed: the caller cuts as before, and parsing reports it
    return spans
