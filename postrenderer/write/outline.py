"""Where each node of a document sits in its text, read from libyaml's events; and the text positions around them.

``outline`` turns one document's text into nodes with their character spans
(an alias is its own occurrence, pointing at its anchor's name), which the
editor (``edit``) changes and splices. The helpers find line starts and ends
(LF, CRLF and CR), a block sequence item's dash (also when a comment follows
it), and the line of a JSON pointer for messages:

    kind: Pod            outline(text) -> map[ (kind, Pod), (spec, map[ (containers, seq[ map[...] ]) ]) ]
    spec:
      containers:
        - # the agent    dash(text, item) -> the position of this "-"
          name: a
"""

from __future__ import annotations

import collections

import yaml

from postrenderer.read.stream import plain_value, resolve_plain
from postrenderer.write.yamlout import Style

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

_STR_TAG = "tag:yaml.org,2002:str"


class EditError(Exception):
    """The document cannot be edited in place as planned (the message says why and what to do)."""



class Node:
    """One node as it occurs in the text (an alias is its own occurrence, pointing at its anchor's name)."""

    __slots__ = (
        "alias", "anchor", "depth", "end", "flow", "items", "kind", "merges", "plain", "start", "style", "value",
    )

    def __init__(self, kind: str, start: int, end: int, anchor: str | None) -> None:
        self.kind, self.start, self.end, self.anchor = kind, start, end, anchor
        self.depth = 0  # the collections around it
        self.flow = self.plain = self.merges = False  # merges: a mapping with a << key
        self.style: str | None = None
        self.value = ""
        self.alias: str | None = None
        self.items: list[Any] = []  # sequence: nodes; mapping: (key node, value node) pairs

    @property
    def collection(self) -> bool:
        """Whether the node is a mapping or a sequence."""
        return self.kind in ("map", "seq")

    def key(self) -> str | None:
        """The string this node spells as a mapping key (None: not a string key)."""
        if self.kind != "scalar":
            return None
        return self.value if not self.plain or resolve_plain(self.value) == _STR_TAG else None


def outline(text: str) -> tuple[Node, set[str]]:
    """The document's nodes with their positions, read from libyaml's events; and the anchors aliases use."""
    from postrenderer.read.stream import _EventParser

    parser = _EventParser(text)
    stack: list[Node] = []
    root: Node | None = None
    aliased: set[str] = set()
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    mapping, sequence = yaml.MappingStartEvent, yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    get = parser.get_event
    try:
        while (event := get()) is not None:
            kind = type(event)
            if kind is scalar:
                node = Node("scalar", event.start_mark.index, event.end_mark.index, event.anchor)
                style = node.style = event.style or None  # (libyaml: "" for plain)
                node.value = event.value
                node.plain = style is None and event.implicit[0]
            elif kind in ends:
                done = stack.pop()
                done.end = event.end_mark.index
                if done.kind == "map":
                    items = done.items
                    done.items = list(zip(items[::2], items[1::2], strict=True))
                    done.merges = any(k.plain and k.value == "<<" for k in items[::2] if k.kind == "scalar")
                continue
            elif kind is alias:
                node = Node("alias", event.start_mark.index, event.end_mark.index, None)
                node.alias = event.anchor
                aliased.add(event.anchor)
            elif kind is mapping or kind is sequence:
                node = Node("map" if kind is mapping else "seq", event.start_mark.index, 0, event.anchor)
                node.flow = bool(event.flow_style)
            else:
                continue
            if stack:
                stack[-1].items.append(node)
                node.depth = len(stack)
            elif root is None:
                root = node
            if node.kind == "map" or node.kind == "seq":
                stack.append(node)
    finally:
        if hasattr(parser, "dispose"):
            parser.dispose()
    if root is None or root.kind != "map":
        raise EditError("the document is not a mapping")
    return root, aliased


def content_end(node: Node) -> int:
    """Where the node's last content character ends (a block collection's own end lies past trailing comments)."""
    while node.collection and not node.flow and node.items:
        last = node.items[-1]
        node = last[1] if node.kind == "map" else last
    return node.end


def same(node: Node, value: Any) -> bool:
    """Whether an original node already holds exactly value (types included: 1 is not true, nor 1.0)."""
    if node.kind == "scalar":
        have = plain_value(node.value) if node.plain else node.value
        return type(have) is type(value) and have == value
    if node.kind == "map":
        keys = [key.key() for key, _ in node.items]
        return (isinstance(value, dict) and len(value) == len(node.items) and None not in keys
                and all(k in value and same(v, value[k]) for k, (_, v) in zip(keys, node.items, strict=True)))
    if node.kind == "seq":
        return (isinstance(value, list) and len(value) == len(node.items)
                and all(same(n, v) for n, v in zip(node.items, value, strict=True)))
    return False  # an alias: never taken for equal


def style_of(root: Node, text: str) -> Style:
    """The document's indentation step and sequence style, from its first nested block collections."""
    step = seq = None
    todo = collections.deque([root])  # breadth first: the outermost collections decide
    while todo and (step is None or seq is None):
        node = todo.popleft()
        if node.kind == "map" and not node.flow:
            for key, value in node.items:
                if value.kind == "map" and not value.flow and value.items and step is None:
                    step = column(text, value.items[0][0].start) - column(text, key.start)
                if value.kind == "seq" and not value.flow and value.items and seq is None:
                    seq = column(text, value.start) - column(text, key.start)
                if value.collection:
                    todo.append(value)
        elif node.kind == "seq":
            todo.extend(item for item in node.items if item.collection)
    step = step if step and step > 0 else 2
    return Style(step, seq if seq is not None and seq >= 0 else 0)


def column(text: str, position: int) -> int:
    """The column of a position."""
    return position - (text.rfind("\n", 0, position) + 1)


def line_start(text: str, position: int) -> int:
    """Where the line holding position starts."""
    return text.rfind("\n", 0, position) + 1


def line_end(text: str, position: int) -> int:
    """Just past the line break ending the line that holds the character before position."""
    if position > 0 and text[position - 1] == "\n":
        return position
    found = text.find("\n", position)
    return len(text) if found < 0 else found + 1


def index_of(part: str, size: int, insert: bool) -> int:
    """A sequence index from a pointer part (``-``: the end, for ``add``)."""
    if part == "-" and insert:
        return size
    if not part.isdigit() or (len(part) > 1 and part[0] == "0"):
        raise ValueError(f"not a sequence index: {part!r}")
    index = int(part)
    if index > size or (index == size and not insert):
        raise ValueError(f"sequence index {index} out of range")
    return index


def apply_value(target: Any, parts: list[str], op: str, value: Any) -> Any:
    """Apply one operation inside a value olrender adds (plain Python data); returns the new value."""
    if not parts:
        return value if op != "remove" else None
    container = target
    for part in parts[:-1]:
        container = container[index_of(part, len(container), False)] if isinstance(container, list) else container[part]
    last = parts[-1]
    if isinstance(container, list):
        index = index_of(last, len(container), op == "add")
        if op == "add":
            container.insert(index, value)
        elif op == "replace":
            container[index] = value
        else:
            del container[index]
    elif op == "remove":
        del container[last]
    else:
        if op == "replace" and last not in container:
            raise ValueError(f"no member {last!r} to replace")
        container[last] = value
    return target



def line_of(text: str, parts: list[str]) -> int:
    """The line (0-based) of the deepest node of text that a JSON pointer's parts reach, for messages."""
    try:
        node, _ = outline(text)
    except (EditError, yaml.YAMLError):
        return 0
    at = node.start
    for part in parts:
        pair = None
        if node.kind == "map":
            pair = next(((key, value) for key, value in node.items if key.key() == part), None)
        elif node.kind == "seq" and part.isdigit() and int(part) < len(node.items):
            pair = (node.items[int(part)], node.items[int(part)])
        if pair is None:
            break
        at, node = pair[0].start, pair[1]
    return line_count(text, at)


def line_count(text: str, position: int) -> int:
    """How many line breaks (LF, CRLF or CR) come before position."""
    head = text[:position]
    return head.count("\n") + head.count("\r") - head.count("\r\n")


def indicator(text: str, node: Node) -> int | None:
    """Where the ``-`` introducing a block sequence item sits (comments and blank lines may lie between), or None."""
    position = node.start
    while True:
        start = line_start(text, position)
        before = text[start:position]
        if position != node.start:  # a whole earlier line: only indicators, spaces and a comment can be there
            before = before.split("#", 1)[0]
        stripped = before.rstrip(" \t\r\n")
        if stripped:
            return start + len(stripped) - 1 if stripped.endswith("-") else None
        if start == 0:
            return None
        position = start - 1


def key_start(text: str, key: Node) -> int:
    """Where a mapping entry starts: its key, or the ``?`` of an explicit key on the key's line."""
    start = line_start(text, key.start)
    head = text[start : key.start].rstrip(" \t")
    if head.endswith("?") and (len(head) == 1 or head[-2] in " \t"):
        return start + len(head) - 1
    return key.start
