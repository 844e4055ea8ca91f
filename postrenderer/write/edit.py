"""Apply a document's RFC 6902 operations to its text in place, and write the YAML of new nodes.

olrender never re-serialises a document it changes. It reads where each node
of the document sits (libyaml's event marks), applies the plan's operations to
that outline, and then inserts, replaces or deletes only those spans of the
original text. Every other byte of the document stays as it was: comments,
quoting, flow collections, key order, block scalars, line endings. New nodes
are written in the document's own indentation and sequence style, and every
new scalar that any YAML 1.1 or 1.2 resolver (PyYAML, go-yaml v2 or v3) could
read as something other than a string is double-quoted:

    containers:                                containers:
      - name: agent   # main                     - name: agent   # main
        env:                       add ...         env:
          - {name: A, value: "y"}  ------->          - {name: A, value: "y"}
        image: "img:1"                               - name: OPENLINEAGE_URL
                                                       value: "https://o11y.example"
                                                   image: "img:1"

Anchors, aliases and ``<<`` merge keys are expanded by Kubernetes, so an edit
inside an anchored node would also reach every alias of it, and a merged key
does not exist in the text at all. When one lies on the path of an edit (or in
a node the edit removes or replaces), ``apply`` refuses with ``EditError``
naming the anchor, instead of writing something Kubernetes reads differently.
"""

from __future__ import annotations

import collections
import json
import re

import yaml

from postrenderer.read.stream import plain_value, resolve_plain

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

_STR_TAG = "tag:yaml.org,2002:str"
# a plain scalar every resolver reads as this very string: a word, a path or a dotted name, and no reserved word
_PLAIN_RE = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_RESERVED = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null"])
# characters YAML may not hold raw in a double-quoted scalar, or reads as a line break (YAML 1.1: NEL, LS, PS)
_PRINTABLE = "\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"
_BREAKS = "[\x85\u2028\u2029\ufeff]"
_ESCAPE_RE = re.compile(f"[^{_PRINTABLE}]|{_BREAKS}")
_LITERAL_UNSAFE_RE = re.compile(f"[^\n{_PRINTABLE}]|{_BREAKS}")  # (a literal block holds line breaks raw)


class EditError(Exception):
    """The document cannot be edited in place as planned (the message says why and what to do)."""


class Style:
    """How a document indents: the step of nested mappings and where a mapping value's sequence puts its dash."""

    __slots__ = ("seq", "step")

    def __init__(self, step: int = 2, seq: int = 0) -> None:
        self.step, self.seq = step, seq  # seq: 0 for "key:\n- a", step for "key:\n  - a"


# ---------------------------------------------------------------------------------------------- writing new nodes


def _escape(match: re.Match[str]) -> str:
    """A YAML escape for one character."""
    code = ord(match[0])
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quoted(value: str) -> str:
    """A double-quoted YAML scalar holding exactly value."""
    return _ESCAPE_RE.sub(_escape, json.dumps(value, ensure_ascii=False))


def scalar(value: Any) -> str:
    """A one-line YAML scalar that every resolver reads back as value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN_RE.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return quoted(text)


def inline(value: Any) -> str:
    """value in flow style (JSON-like, with plain words where they are safe)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    return scalar(value)


def _literal(value: Any) -> bool:
    """Whether value is multi-line text that a literal block scalar (``|``) holds exactly."""
    if not isinstance(value, str) or "\n" not in value or _LITERAL_UNSAFE_RE.search(value):
        return False
    lines = value.split("\n")  # (conservative: the first line has content, no line starts with a tab)
    return bool(lines[0]) and not lines[0][0].isspace() and not any(line.startswith("\t") for line in lines)


def _literal_lines(value: str, indent: int) -> tuple[str, list[str]]:
    """The indicator and the content lines of a literal block scalar at indent."""
    chomp = "+" if value.endswith("\n\n") else "" if value.endswith("\n") else "-"
    lines = value.split("\n")
    if value.endswith("\n"):
        lines.pop()
    pad = " " * indent
    return "|" + chomp, [pad + line if line else "" for line in lines]


def _block(value: Any) -> bool:
    """Whether value is written as a block (a non-empty collection or literal text) rather than inline."""
    return (bool(value) and isinstance(value, (dict, list))) or _literal(value)


def _after_indicator(value: Any, indent: int, style: Style) -> tuple[str, list[str]]:
    """What follows ``key:`` or ``-`` for value: the rest of that line and the lines below it at indent."""
    if isinstance(value, dict) and value:
        return "", block_lines(value, indent, style)
    if isinstance(value, list) and value:
        return "", block_lines(value, indent, style)
    if _literal(value):
        indicator, lines = _literal_lines(value, indent)
        return " " + indicator, lines
    return " " + inline(value), []


def _entry(key: Any, value: Any, indent: int, style: Style) -> list[str]:
    """The lines of one mapping entry at indent."""
    nested = indent + (style.seq if isinstance(value, list) else style.step)
    rest, below = _after_indicator(value, nested, style)
    return [" " * indent + scalar(key) + ":" + rest, *below]


def _item(value: Any, indent: int, style: Style, gap: int = 1) -> list[str]:
    """The lines of one sequence item whose dash is at indent (content gap spaces after the dash)."""
    column = indent + 1 + gap
    if isinstance(value, (dict, list)) and value:
        lines = block_lines(value, column, style)
        lines[0] = " " * indent + "-" + " " * gap + lines[0][column:]
        return lines
    rest, below = _after_indicator(value, column, style)
    return [" " * indent + "-" + rest, *below]


def block_lines(value: Any, indent: int, style: Style) -> list[str]:
    """A non-empty mapping or sequence as block YAML lines at column indent."""
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            lines += _entry(key, item, indent, style)
    else:
        for item in value:
            lines += _item(item, indent, style)
    return lines


def document(doc: Any, newline: str = "\n", style: Style | None = None) -> str:
    """A whole new document (a mapping or a sequence; an empty one or a scalar in flow style) as YAML."""
    if not isinstance(doc, (dict, list)) or not doc:
        return inline(doc) + newline
    return "".join(line + newline for line in block_lines(doc, 0, style or Style()))


# ---------------------------------------------------------------------------------------------- the outline


class _Node:
    """One node as it occurs in the text (an alias is its own occurrence, pointing at its anchor's name)."""

    __slots__ = ("alias", "anchor", "end", "flow", "items", "kind", "merges", "plain", "start", "style", "value")

    def __init__(self, kind: str, start: int, end: int, anchor: str | None) -> None:
        self.kind, self.start, self.end, self.anchor = kind, start, end, anchor
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


def outline(text: str) -> tuple[_Node, set[str]]:
    """The document's nodes with their positions, read from libyaml's events; and the anchors aliases use."""
    from postrenderer.read.stream import _EventParser

    parser = _EventParser(text)
    stack: list[_Node] = []
    root: _Node | None = None
    aliased: set[str] = set()
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    mapping, sequence = yaml.MappingStartEvent, yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    get = parser.get_event
    try:
        while (event := get()) is not None:
            kind = type(event)
            if kind is scalar:
                node = _Node("scalar", event.start_mark.index, event.end_mark.index, event.anchor)
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
                node = _Node("alias", event.start_mark.index, event.end_mark.index, None)
                node.alias = event.anchor
                aliased.add(event.anchor)
            elif kind is mapping or kind is sequence:
                node = _Node("map" if kind is mapping else "seq", event.start_mark.index, 0, event.anchor)
                node.flow = bool(event.flow_style)
            else:
                continue
            if stack:
                stack[-1].items.append(node)
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


def _content_end(node: _Node) -> int:
    """Where the node's last content character ends (a block collection's own end lies past trailing comments)."""
    while node.collection and not node.flow and node.items:
        last = node.items[-1]
        node = last[1] if node.kind == "map" else last
    return node.end


def _same(node: _Node, value: Any) -> bool:
    """Whether an original node already holds exactly value (types included: 1 is not true, nor 1.0)."""
    if node.kind == "scalar":
        have = plain_value(node.value) if node.plain else node.value
        return type(have) is type(value) and have == value
    if node.kind == "map":
        keys = [key.key() for key, _ in node.items]
        return (isinstance(value, dict) and len(value) == len(node.items) and None not in keys
                and all(k in value and _same(v, value[k]) for k, (_, v) in zip(keys, node.items, strict=True)))
    if node.kind == "seq":
        return (isinstance(value, list) and len(value) == len(node.items)
                and all(_same(n, v) for n, v in zip(node.items, value, strict=True)))
    return False  # an alias: never taken for equal


def _style(root: _Node, text: str) -> Style:
    """The document's indentation step and sequence style, from its first nested block collections."""
    step = seq = None
    todo = collections.deque([root])  # breadth first: the outermost collections decide
    while todo and (step is None or seq is None):
        node = todo.popleft()
        if node.kind == "map" and not node.flow:
            for key, value in node.items:
                if value.kind == "map" and not value.flow and value.items and step is None:
                    step = _column(text, value.items[0][0].start) - _column(text, key.start)
                if value.kind == "seq" and not value.flow and value.items and seq is None:
                    seq = _column(text, value.start) - _column(text, key.start)
                if value.collection:
                    todo.append(value)
        elif node.kind == "seq":
            todo.extend(item for item in node.items if item.collection)
    step = step if step and step > 0 else 2
    return Style(step, seq if seq is not None and seq >= 0 else 0)


def _column(text: str, position: int) -> int:
    """The column of a position."""
    return position - (text.rfind("\n", 0, position) + 1)


def _line_start(text: str, position: int) -> int:
    """Where the line holding position starts."""
    return text.rfind("\n", 0, position) + 1


def _line_end(text: str, position: int) -> int:
    """Just past the line break ending the line that holds the character before position."""
    if position > 0 and text[position - 1] == "\n":
        return position
    found = text.find("\n", position)
    return len(text) if found < 0 else found + 1


# ---------------------------------------------------------------------------------------------- applying operations

_ORIGINAL, _NEW, _REPLACED = "original", "new", "replaced"


_UNKNOWN: Any = object()


class _Child:
    """One entry of a collection as the operations leave it."""

    __slots__ = ("_key", "key_node", "node", "state", "value")

    def __init__(self, key: Any, key_node: _Node | None, node: _Node | None, state: str, value: Any = None) -> None:
        self._key, self.key_node, self.node, self.state, self.value = key, key_node, node, state, value

    @property
    def key(self) -> str | None:
        """The entry's key (an original entry's is read from its node when first asked for)."""
        if self._key is _UNKNOWN:
            self._key = self.key_node.key() if self.key_node is not None else None
        return self._key  # type: ignore[no-any-return]


class _View:
    """An original collection and the entries it ends up with."""

    __slots__ = ("children", "node", "parent_key", "removed", "spelled")

    def __init__(self, node: _Node, parent_key: _Node | None) -> None:
        self.node, self.parent_key = node, parent_key
        if node.kind == "map":
            self.children = [_Child(_UNKNOWN, k, v, _ORIGINAL) for k, v in node.items]
        else:
            self.children = [_Child(None, None, v, _ORIGINAL) for v in node.items]
        self.removed: list[_Child] = []
        self.spelled: dict[str, list[_Child]] | None = None  # original entries by their key's text, when needed

    def find(self, key: str) -> _Child | None:
        """The live entry with this key (a mapping's)."""
        if self.spelled is None:
            self.spelled = {}
            for child in self.children:
                if child.key_node is not None:
                    self.spelled.setdefault(child.key_node.value, []).append(child)
        candidates = [c for c in self.spelled.get(key, []) if c.key == key]
        candidates += [c for c in self.children if c.key_node is None and c.key == key]  # (entries added since)
        return next((c for c in candidates if c in self.children), None) if candidates else None


def _pointer(path: str) -> list[str]:
    """RFC 6901 pointer parts."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"not a JSON pointer: {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(part: str, size: int, insert: bool) -> int:
    """A sequence index from a pointer part (``-``: the end, for ``add``)."""
    if part == "-" and insert:
        return size
    if not part.isdigit() or (len(part) > 1 and part[0] == "0"):
        raise ValueError(f"not a sequence index: {part!r}")
    index = int(part)
    if index > size or (index == size and not insert):
        raise ValueError(f"sequence index {index} out of range")
    return index


def _apply_value(target: Any, parts: list[str], op: str, value: Any) -> Any:
    """Apply one operation inside a value olrender adds (plain Python data); returns the new value."""
    if not parts:
        return value if op != "remove" else None
    container = target
    for part in parts[:-1]:
        container = container[_index(part, len(container), False)] if isinstance(container, list) else container[part]
    last = parts[-1]
    if isinstance(container, list):
        index = _index(last, len(container), op == "add")
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


class _Editor:
    """The operations of one document, applied to its outline and then to its text."""

    def __init__(self, text: str, newline: str, first_line: int = 1) -> None:
        self.text, self.newline, self.first_line = text, newline, first_line
        self.root, self.used = outline(text)
        self.style = _style(self.root, text)
        self.views: dict[int, _View] = {}
        self.order: list[_View] = []

    def view(self, node: _Node, parent_key: _Node | None) -> _View:
        """The (single) view of an original collection."""
        found = self.views.get(id(node))
        if found is None:
            found = self.views[id(node)] = _View(node, parent_key)
            self.order.append(found)
        return found

    def refuse(self, node: _Node, path: str, what: str) -> EditError:
        """The error for an edit that an anchor, alias or merge key would spread."""
        line = self.first_line + self.text.count("\n", 0, node.start)
        return EditError(
            f"olrender would edit {path}, but {what} (line {line}); Kubernetes expands anchors, aliases and "
            "<< merge keys, so the edit would not reach exactly the intended place. Write that part of the "
            "document out in full (without &anchors, *aliases or << merges) and run olrender again"
        )

    def shared(self, node: _Node, where: str) -> None:
        """Refuse to edit through an alias or an anchor that an alias refers to."""
        if node.kind == "alias":
            raise self.refuse(node, where, f"that path goes through the alias *{node.alias}")
        if node.anchor and node.anchor in self.used:
            raise self.refuse(node, where, f"that path goes through the anchor &{node.anchor}, used by an alias")
        if node.merges:
            raise self.refuse(node, where, "that mapping takes keys from a << merge key")

    def untouched_inside(self, node: _Node, where: str) -> None:
        """Refuse to drop or replace a node holding an anchor that an alias elsewhere still uses."""
        todo = [node]
        while todo:
            current = todo.pop()
            if current.anchor and current.anchor in self.used:
                raise self.refuse(current, where, f"the node it replaces holds the anchor &{current.anchor}")
            if current.kind == "map":
                todo.extend(n for pair in current.items for n in pair)
            elif current.kind == "seq":
                todo.extend(current.items)

    def operate(self, op: dict[str, Any]) -> None:
        """Apply one RFC 6902 operation (add, replace, remove) to the outline."""
        name, parts, value = op["op"], _pointer(op["path"]), op.get("value")
        if name not in ("add", "replace", "remove"):
            raise ValueError(f"unsupported operation {name!r}")
        if not parts:
            raise ValueError("cannot replace the whole document")
        node, parent_key, where = self.root, None, op["path"]
        for depth, part in enumerate(parts[:-1]):
            self.shared(node, where)
            child = self.find(self.view(node, parent_key), part, name)
            if child.state != _ORIGINAL:
                child.value = _apply_value(child.value, parts[depth + 1 :], name, value)
                return
            assert child.node is not None
            if not child.node.collection:
                self.shared(child.node, where)
                raise ValueError(f"{op['path']}: {part} is not a mapping or a sequence")
            node, parent_key = child.node, child.key_node
        self.shared(node, where)
        view = self.view(node, parent_key)
        last = parts[-1]
        live = view.children
        if node.kind == "seq":
            index = _index(last, len(live), name == "add")
            if name == "add":
                live.insert(index, _Child(None, None, None, _NEW, value))
                return
            self.change(view, live[index], name, value, where)
            return
        found = view.find(last)
        if found is None:
            if name != "add":
                raise ValueError(f"{op['path']}: no member {last!r}")
            live.append(_Child(last, None, None, _NEW, value))
            return
        self.change(view, found, "replace" if name == "add" else name, value, where)

    def find(self, view: _View, part: str, op: str) -> _Child:
        """The live child a pointer part names."""
        if view.node.kind == "seq":
            return view.children[_index(part, len(view.children), False)]
        found = view.find(part)
        if found is None:
            raise ValueError(f"no member {part!r}")
        return found

    def change(self, view: _View, child: _Child, op: str, value: Any, where: str) -> None:
        """Replace or remove one live child (a mapping replaced by a mapping: only what differs)."""
        node = child.node
        if op != "remove" and child.state == _ORIGINAL and node is not None and not self.edited_inside(node):
            if _same(node, value):
                return
            if node.kind == "map" and node.items and isinstance(value, dict) and value and self.mergeable(node, value):
                self.merge(child, value, where)
                return
        if child.state == _ORIGINAL:
            assert child.node is not None
            self.untouched_inside(child.node, where)
            inside = child.node
            self.order = [v for v in self.order if not (inside.start <= v.node.start and v.node.end <= inside.end)]
        if op == "remove":
            view.children.remove(child)
            if child.state != _NEW:
                view.removed.append(child)
            return
        if child.state == _ORIGINAL:
            child.state = _REPLACED
        child.value = value

    def edited_inside(self, node: _Node) -> bool:
        """Whether earlier operations changed something within an original node."""
        return any(node.start <= v.node.start and v.node.end <= node.end for v in self.order)

    def mergeable(self, node: _Node, value: dict[str, Any]) -> bool:
        """Whether the entries value drops can be deleted line by line (none shares a line with a ``-``)."""
        text = self.text
        return node.flow or all(
            not text[_line_start(text, key.start) : key.start].strip(" ")
            for key, _ in node.items if key.key() not in value
        )

    def merge(self, child: _Child, value: dict[str, Any], where: str) -> None:
        """Make an original mapping hold exactly value, key by key, so that equal entries keep their text."""
        assert child.node is not None
        self.shared(child.node, where)
        view = self.view(child.node, child.key_node)
        for key, new in value.items():
            found = view.find(key)
            if found is None:
                view.children.append(_Child(key, None, None, _NEW, new))
            else:
                self.change(view, found, "replace", new, where)
        for old in [c for c in view.children if c.key not in value]:
            self.change(view, old, "remove", None, where)

    # ------------------------------------------------------------------------------------------ to text

    def result(self) -> str:
        """The text with every view's changes spliced in."""
        edits: list[tuple[int, int, str]] = []
        for view in self.order:
            if view.removed or any(c.state != _ORIGINAL for c in view.children):
                edits += self.flow_edits(view) if view.node.flow else self.block_edits(view)
        parts, done = [], 0
        # edits never overlap; at one position an insertion comes before a deletion, and an inner collection's
        # insertion before an outer one's (views are listed outer first, so ties are taken in reverse)
        for start, end, new in sorted(reversed(edits), key=lambda e: (e[0], e[1])):
            parts += [self.text[done:start], new]
            done = end
        parts.append(self.text[done:])
        return "".join(parts)

    def lines(self, lines: list[str]) -> str:
        """Lines joined with the document's line break, each ending with it."""
        return "".join(line + self.newline for line in lines)

    def flow_edits(self, view: _View) -> list[tuple[int, int, str]]:
        """Edits for a flow collection: appends before the closing bracket, else the node rewritten."""
        node, text = view.node, self.text
        kept = [c for c in view.children if c.state != _NEW]
        appended_only = not view.removed and view.children[: len(kept)] == kept
        mapping = node.kind == "map"

        def rendered(child: _Child) -> str:
            return f"{scalar(child.key)}: {inline(child.value)}" if mapping else inline(child.value)

        if appended_only:
            edits = [
                (c.node.start, c.node.end, inline(c.value)) for c in kept if c.state == _REPLACED and c.node
            ]
            new = [rendered(c) for c in view.children[len(kept) :]]
            if new:
                if kept:
                    last = kept[-1].node
                    assert last is not None
                    edits.append((last.end, last.end, ", " + ", ".join(new)))
                else:
                    edits.append((node.start + 1, node.start + 1, ", ".join(new)))
            return edits
        parts = []
        for child in view.children:
            if child.state == _ORIGINAL:
                assert child.node is not None
                start = child.key_node.start if child.key_node is not None else child.node.start
                parts.append(text[start : max(child.node.end, start)])
            elif child.state == _REPLACED and child.key_node is not None:
                parts.append(text[child.key_node.start : child.key_node.end] + ": " + inline(child.value))
            else:
                parts.append(rendered(child))
        brackets = "{}" if mapping else "[]"
        return [(node.start, node.end, brackets[0] + ", ".join(parts) + brackets[1])]

    def block_edits(self, view: _View) -> list[tuple[int, int, str]]:
        """Edits for a block collection: new entries inserted, replaced ones rewritten, removed ones deleted."""
        node, text = view.node, self.text
        edits: list[tuple[int, int, str]] = []
        originals = [c for c in [*view.children, *view.removed] if c.state != _NEW and c.node is not None]
        first = min(originals, key=lambda c: c.node.start if c.node else 0)
        mapping = node.kind == "map"
        if mapping:
            assert first.key_node is not None
            column = _column(text, first.key_node.start)
            gap = 1
        else:
            assert first.node is not None
            dash = self.dash(first.node)
            column = _column(text, dash)
            gap = max(_column(text, first.node.start) - column - 1, 1) if _line_start(text, dash) == _line_start(
                text, first.node.start) else 1
        for child in view.removed:
            start, end = self.entry_span(child)
            edits.append((start, end, ""))
        if not view.children:
            edits.append(self.emptied(view))
        before: _Child | None = None  # the original entry that new entries follow
        pending: list[str] = []
        for child in view.children:
            if child.state == _NEW:
                pending += self.entry_lines(child, column, gap, mapping)
                continue
            if pending:
                edits.append(self.insert_at(before, first, pending))
                pending = []
            if child.state == _REPLACED:
                edits += self.replace_edits(child, column, gap, mapping)
            before = child
        if pending:
            edits.append(self.insert_at(before, first, pending))
        return edits

    def insert_at(self, before: _Child | None, first: _Child, lines: list[str]) -> tuple[int, int, str]:
        """An insertion after an original entry (before) or, when None, ahead of the first one."""
        text = self.text
        anchor = None if before is None or before.node is None else _line_end(text, _content_end(before.node))
        if anchor is None:
            assert first.node is not None
            start = first.key_node.start if first.key_node is not None else self.dash(first.node)
            position = _line_start(text, start)
            return (position, position, self.lines(lines))
        prefix = self.newline if anchor == len(text) and text and not text.endswith("\n") else ""
        return (anchor, anchor, prefix + self.lines(lines))

    def dash(self, item: _Node) -> int:
        """The position of the ``-`` that introduces a block sequence item."""
        position = item.start - 1
        text = self.text
        while position >= 0 and text[position] in " \t\r\n":
            position -= 1
        if position < 0 or text[position] != "-":
            raise EditError("a block sequence item olrender edits has an unusual layout")
        return position

    def entry_lines(self, child: _Child, column: int, gap: int, mapping: bool) -> list[str]:
        """The lines of a new entry at column."""
        if mapping:
            return _entry(child.key, child.value, column, self.style)
        return _item(child.value, column, self.style, gap)

    def entry_span(self, child: _Child) -> tuple[int, int]:
        """The whole lines an original entry occupies (key or dash through its content)."""
        assert child.node is not None
        text = self.text
        start = child.key_node.start if child.key_node is not None else self.dash(child.node)
        line_start = _line_start(text, start)
        if text[line_start:start].strip(" "):
            raise EditError("an entry olrender removes shares its line with another node")
        return line_start, _line_end(text, _content_end(child.node))

    def emptied(self, view: _View) -> tuple[int, int, str]:
        """A block collection left without entries becomes ``[]`` or ``{}`` after its key."""
        key = view.parent_key
        if key is None:
            raise EditError("olrender would leave a collection empty that is not a mapping value")
        colon = self.text.index(":", key.end)
        return (colon + 1, colon + 1, " []" if view.node.kind == "seq" else " {}")

    def replace_edits(self, child: _Child, column: int, gap: int, mapping: bool) -> list[tuple[int, int, str]]:
        """Edits that write a replaced entry's new value."""
        node = child.node
        assert node is not None
        text, value = self.text, child.value
        inline_before = not (node.collection and not node.flow)
        block_scalar = node.style in ("|", ">")
        if inline_before and not block_scalar and not _block(value):
            pad = " " if node.start == node.end and text[node.start - 1 : node.start] in (":", "-") else ""
            return [(node.start, node.end, pad + inline(value))]
        if not mapping:
            start, end = self.entry_span(child)
            return [(start, end, self.lines(_item(value, column, self.style, gap)))]
        assert child.key_node is not None
        colon = text.index(":", child.key_node.end) + 1
        nested = column + (self.style.seq if isinstance(value, list) else self.style.step)
        rest, below = _after_indicator(value, nested, self.style)
        if inline_before and not block_scalar:  # "key: old  # note" -> "key:  # note" + the block below
            end = _line_end(text, node.end)
            after = text[node.end : end].strip()
            start = colon if not after else node.start
            return [(start, node.end, rest if rest.strip() else ""), (end, end, self.lines(below))]
        end = _line_end(text, _content_end(node))
        if block_scalar:  # "key: |" through its last line -> the new value
            return [(node.start, end, rest.lstrip(" ") + self.newline + self.lines(below))]
        return [(_line_start(text, node.start), end, self.lines(below)), (colon, colon, rest)]


def apply(text: str, ops: list[dict[str, Any]], newline: str = "\n", first_line: int = 1) -> str:
    """The document text with the operations applied in place (raises EditError or ValueError).

    first_line: the stream line the text starts on, for messages.
    """
    editor = _Editor(text, newline, first_line)
    for op in ops:
        editor.operate(op)
    return editor.result()
