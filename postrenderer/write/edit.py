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

The outline and the text positions come from ``outline``, the text of new nodes
from ``yamlout`` (the one YAML writer), and ``verify`` reads every edited
document back before it may be written.
"""


from __future__ import annotations

import re

from jsonpointer import JsonPointer

from postrenderer.write import outline as ol
from postrenderer.write import yamlout as out
from postrenderer.write.outline import EditError, Node
from postrenderer.write.views import NEW, ORIGINAL, REPLACED, Child, View
from postrenderer.write.yamlout import Style, document, quoted, scalar

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["EditError", "Style", "apply", "document", "quoted", "scalar"]

_INDICATORS = r"(?: *[-?:](?: +|$))+"  # only block indicators before a node on its line

class _Editor:
    """The operations of one document, applied to its outline and then to its text."""

    def __init__(self, text: str, newline: str, first_line: int = 1) -> None:
        self.text, self.newline, self.first_line = text, newline, first_line
        self.root, self.used = ol.outline(text)
        self.style = ol.style_of(self.root, text)
        self.views: dict[int, View] = {}
        self.order: list[View] = []

    def view(self, node: Node, parent_key: Node | None) -> View:
        """The (single) view of an original collection."""
        found = self.views.get(id(node))
        if found is None:
            found = self.views[id(node)] = View(node, parent_key)
            self.order.append(found)
        return found

    def refuse(self, node: Node, path: str, what: str) -> EditError:
        """The error for an edit that an anchor, alias or merge key would spread."""
        line = self.first_line + self.text.count("\n", 0, node.start)
        return EditError(
            f"olrender would edit {path}, but {what} (line {line}); Kubernetes expands anchors, aliases and "
            "<< merge keys, so the edit would not reach exactly the intended place. Write that part of the "
            "document out in full (without &anchors, *aliases or << merges) and run olrender again"
        )

    def shared(self, node: Node, where: str) -> None:
        """Refuse to edit through an alias or an anchor that an alias refers to."""
        if node.kind == "alias":
            raise self.refuse(node, where, f"that path goes through the alias *{node.alias}")
        if node.anchor and node.anchor in self.used:
            raise self.refuse(node, where, f"that path goes through the anchor &{node.anchor}, used by an alias")
        if node.merges:
            raise self.refuse(node, where, "that mapping takes keys from a << merge key")

    def untouched_inside(self, node: Node, where: str) -> None:
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
        name, parts, value = op["op"], JsonPointer(op["path"]).parts, op.get("value")
        if name not in ("add", "replace", "remove"):
            raise ValueError(f"unsupported operation {name!r}")
        if not parts:
            raise ValueError("cannot replace the whole document")
        node, parent_key, where = self.root, None, op["path"]
        for depth, part in enumerate(parts[:-1]):
            self.shared(node, where)
            child = self.find(self.view(node, parent_key), part, name)
            if child.state != ORIGINAL:
                child.value = ol.apply_value(child.value, parts[depth + 1 :], name, value)
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
            index = ol.index_of(last, len(live), name == "add")
            if name == "add":
                live.insert(index, Child(None, None, None, NEW, value))
                return
            self.change(view, live[index], name, value, where)
            return
        found = view.find(last)
        if found is None:
            if name != "add":
                raise ValueError(f"{op['path']}: no member {last!r}")
            live.append(Child(last, None, None, NEW, value))
            return
        self.change(view, found, "replace" if name == "add" else name, value, where)

    def find(self, view: View, part: str, op: str) -> Child:
        """The live child a pointer part names."""
        if view.node.kind == "seq":
            return view.children[ol.index_of(part, len(view.children), False)]
        found = view.find(part)
        if found is None:
            raise ValueError(f"no member {part!r}")
        return found

    def change(self, view: View, child: Child, op: str, value: Any, where: str) -> None:
        """Replace or remove one live child (a mapping replaced by a mapping: only what differs)."""
        node = child.node
        if op != "remove" and child.state == ORIGINAL and node is not None and not self.edited_inside(node):
            if ol.same(node, value):
                return
            if node.kind == "map" and node.items and isinstance(value, dict) and value and self.mergeable(node, value):
                self.merge(child, value, where)
                return
        if child.state == ORIGINAL:
            assert child.node is not None
            self.untouched_inside(child.node, where)
            inside = child.node
            self.order = [v for v in self.order if not (inside.start <= v.node.start and v.node.end <= inside.end)]
        if op == "remove":
            view.children.remove(child)
            if child.state != NEW:
                view.removed.append(child)
            return
        if child.state == ORIGINAL:
            child.state = REPLACED
        child.value = value

    def edited_inside(self, node: Node) -> bool:
        """Whether earlier operations changed something within an original node."""
        return any(node.start <= v.node.start and v.node.end <= node.end for v in self.order)

    def mergeable(self, node: Node, value: dict[str, Any]) -> bool:
        """Whether the entries value drops can be deleted line by line (none shares a line with a ``-``)."""
        text = self.text
        return node.flow or all(
            not text[ol.line_start(text, key.start) : ol.key_start(text, key)].strip(" ")
            for key, _ in node.items if key.key() not in value
        )

    def merge(self, child: Child, value: dict[str, Any], where: str) -> None:
        """Make an original mapping hold exactly value, key by key, so that equal entries keep their text."""
        assert child.node is not None
        self.shared(child.node, where)
        view = self.view(child.node, child.key_node)
        for key, new in value.items():
            found = view.find(key)
            if found is None:
                view.children.append(Child(key, None, None, NEW, new))
            else:
                self.change(view, found, "replace", new, where)
        for old in [c for c in view.children if c.key not in value]:
            self.change(view, old, "remove", None, where)

    # ------------------------------------------------------------------------------------------ to text

    def result(self) -> str:
        """The text with every view's changes spliced in."""
        edits: list[tuple[int, int, int, int, str]] = []  # start, end, -depth, order, text
        for view in self.order:
            if view.removed or any(c.state != ORIGINAL for c in view.children):
                depth = view.node.depth
                found = self.flow_edits(view) if view.node.flow else self.block_edits(view)
                edits += [(start, end, -depth - deeper, len(edits) + i, new)
                          for i, (start, end, new, deeper) in enumerate(found)]
        parts, done = [], 0
        # edits never overlap; at one position an insertion comes before a deletion, an inner collection's
        # insertion before an outer one's, and one collection's insertions in the order of its entries
        for start, end, _, _, new in sorted(edits):
            parts += [self.text[done:start], new]
            done = end
        parts.append(self.text[done:])
        return "".join(parts)

    def lines(self, lines: list[str]) -> str:
        """Lines joined with the document's line break, each ending with it."""
        return "".join(line + self.newline for line in lines)

    def flow_edits(self, view: View) -> list[tuple[int, int, str, int]]:
        """Edits for a flow collection: appends before the closing bracket, else the node rewritten."""
        node, text = view.node, self.text
        kept = [c for c in view.children if c.state != NEW]
        appended_only = not view.removed and view.children[: len(kept)] == kept
        mapping = node.kind == "map"

        def rendered(child: Child) -> str:
            return f"{scalar(child.key)}: {out.inline(child.value)}" if mapping else out.inline(child.value)

        if appended_only:
            edits = [
                (c.node.start, c.node.end, out.inline(c.value), 0) for c in kept if c.state == REPLACED and c.node
            ]
            new = [rendered(c) for c in view.children[len(kept) :]]
            if new:
                if kept:
                    last = kept[-1].node
                    assert last is not None
                    edits.append((last.end, last.end, ", " + ", ".join(new), 0))
                else:
                    edits.append((node.start + 1, node.start + 1, ", ".join(new), 0))
            return edits
        parts = []
        for child in view.children:
            if child.state == ORIGINAL:
                assert child.node is not None
                start = child.key_node.start if child.key_node is not None else child.node.start
                parts.append(text[start : max(child.node.end, start)])
            elif child.state == REPLACED and child.key_node is not None:
                parts.append(text[child.key_node.start : child.key_node.end] + ": " + out.inline(child.value))
            else:
                parts.append(rendered(child))
        brackets = "{}" if mapping else "[]"
        return [(node.start, node.end, brackets[0] + ", ".join(parts) + brackets[1], 0)]

    def block_edits(self, view: View) -> list[tuple[int, int, str, int]]:
        """Edits for a block collection: new entries inserted, replaced ones rewritten, removed ones deleted."""
        node, text = view.node, self.text
        edits: list[tuple[int, int, str, int]] = []  # (deeper: 1 for the lines of a replaced entry's new value)
        originals = [c for c in [*view.children, *view.removed] if c.state != NEW and c.node is not None]
        first = min(originals, key=lambda c: c.node.start if c.node else 0)
        mapping = node.kind == "map"
        if mapping:
            assert first.key_node is not None
            column = ol.column(text, ol.key_start(text, first.key_node))
            gap = 1
        else:
            assert first.node is not None
            dash = self.dash(first.node)
            column = ol.column(text, dash)
            gap = max(ol.column(text, first.node.start) - column - 1, 1) if ol.line_start(text, dash) == ol.line_start(
                text, first.node.start) else 1
        for child in view.removed:
            start, end = self.entry_span(child)
            edits.append((start, end, "", 0))
        if not view.children:
            edits.append((*self.emptied(view), 0))
        before: Child | None = None  # the original entry that new entries follow
        pending: list[str] = []
        for child in view.children:
            if child.state == NEW:
                pending += self.entry_lines(child, column, gap, mapping)
                continue
            if pending:
                edits.append((*self.insert_at(before, first, pending), 0))
                pending = []
            if child.state == REPLACED:
                edits += [(*e, 1) for e in self.replace_edits(child, column, gap, mapping)]
            before = child
        if pending:
            edits.append((*self.insert_at(before, first, pending), 0))
        return edits

    def insert_at(self, before: Child | None, first: Child, lines: list[str]) -> tuple[int, int, str]:
        """An insertion after an original entry (before) or, when None, ahead of the first one."""
        text = self.text
        anchor = None if before is None or before.node is None else ol.line_end(text, ol.content_end(before.node))
        if anchor is None:
            assert first.node is not None
            start = ol.key_start(text, first.key_node) if first.key_node is not None else self.dash(first.node)
            position = ol.line_start(text, start)
            if text[position:start].strip(" "):  # "  : - name: x": the new entries go after the indicators
                head = self.lines(lines)
                return (start, start, head.lstrip(" ") + " " * ol.column(text, start))
            return (position, position, self.lines(lines))
        prefix = self.newline if anchor == len(text) and text and not text.endswith("\n") else ""
        return (anchor, anchor, prefix + self.lines(lines))

    def dash(self, item: Node) -> int:
        """The position of the ``-`` that introduces a block sequence item."""
        position = ol.indicator(self.text, item)
        if position is None:
            line = self.first_line + ol.line_count(self.text, item.start)
            raise EditError(
                f"olrender cannot find the - of the list item at line {line}; write that item as `- value` or "
                "`- key: value`, the dash on the item's first line or on a line of its own"
            )
        return position

    def entry_lines(self, child: Child, column: int, gap: int, mapping: bool) -> list[str]:
        """The lines of a new entry at column."""
        if mapping:
            return out.entry(child.key, child.value, column, self.style)
        return out.item(child.value, column, self.style, gap)

    def entry_span(self, child: Child) -> tuple[int, int]:
        """The whole lines an original entry occupies (key or dash through its content)."""
        assert child.node is not None
        text = self.text
        start = ol.key_start(text, child.key_node) if child.key_node is not None else self.dash(child.node)
        line_start = ol.line_start(text, start)
        before = text[line_start:start]
        if not before.strip(" "):
            return line_start, ol.line_end(text, ol.content_end(child.node))
        if re.fullmatch(_INDICATORS, before):  # "  : - name: x" (after "? env"): the indicators keep their line
            return start, ol.content_end(child.node)
        line = self.first_line + ol.line_count(text, start)
        raise EditError(
            f"an entry olrender removes (line {line}) shares its line with another node; write that entry on a "
            "line of its own (`- name: ...` below its key) and run olrender again"
        )

    def emptied(self, view: View) -> tuple[int, int, str]:
        """A block collection left without entries becomes ``[]`` or ``{}`` after its key."""
        key = view.parent_key
        if key is None:
            raise EditError("olrender would leave a collection empty that is not a mapping value")
        colon = self.text.index(":", key.end)
        return (colon + 1, colon + 1, " []" if view.node.kind == "seq" else " {}")

    def replace_edits(self, child: Child, column: int, gap: int, mapping: bool) -> list[tuple[int, int, str]]:
        """Edits that write a replaced entry's new value."""
        node = child.node
        assert node is not None
        text, value = self.text, child.value
        inline_before = not (node.collection and not node.flow)
        block_scalar = node.style in ("|", ">")
        if inline_before and not block_scalar and not out.is_block(value):
            pad = " " if node.start == node.end and text[node.start - 1 : node.start] in (":", "-") else ""
            return [(node.start, node.end, pad + out.inline(value))]
        if not mapping:
            start, end = self.entry_span(child)
            return [(start, end, self.lines(out.item(value, column, self.style, gap)))]
        assert child.key_node is not None
        colon = text.index(":", child.key_node.end) + 1
        nested = column + (self.style.seq if isinstance(value, list) else self.style.step)
        rest, below = out.after_indicator(value, nested, self.style)
        if inline_before and not block_scalar:  # "key: old  # note" -> "key:  # note" + the block below
            end = ol.line_end(text, node.end)
            after = text[node.end : end].strip()
            start = colon if not after else node.start
            return [(start, node.end, rest if rest.strip() else ""), (end, end, self.lines(below))]
        end = ol.line_end(text, ol.content_end(node))
        if block_scalar:  # "key: |" through its last line -> the new value
            return [(node.start, end, rest.lstrip(" ") + self.newline + self.lines(below))]
        return [(ol.line_start(text, node.start), end, self.lines(below)), (colon, colon, rest)]


def apply(text: str, ops: list[dict[str, Any]], newline: str = "\n", first_line: int = 1) -> str:
    """The document text with the operations applied in place (raises EditError or ValueError).

    first_line: the stream line the text starts on, for messages. A document whose lines end in CR alone is
    edited as LF text and given its CRs back (every CR of such a document is a line break to YAML).
    """
    if "\r" in text and "\n" not in text:
        return apply(text.replace("\r", "\n"), ops, "\n", first_line).replace("\n", "\r")
    editor = _Editor(text, newline, first_line)
    for op in ops:
        editor.operate(op)
    return editor.result()
