"""The one YAML writer of new nodes: scalars every resolver reads back as written, blocks in a document's style.

olrender never re-serialises text that came from the input (``edit`` splices
into it); what it writes is only what it adds. Every new scalar that any YAML
1.1 or 1.2 resolver (PyYAML, go-yaml v2 or v3) could read as something other
than a string is double-quoted; collections are written as blocks in the
document's own indentation step and sequence style (``Style``):

    scalar("y") -> "y" (quoted)    scalar("agent") -> agent    inline({"a": [1]}) -> {a: [1]}
    block_lines({"name": "A", "value": "1e3"}, 4, Style()) -> ['    name: A', '    value: "1e3"']
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any


_STR_TAG = "tag:yaml.org,2002:str"
# a plain scalar every resolver reads as this very string: a word, a path or a dotted name, and no reserved word
_PLAIN_RE = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_RESERVED = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null"])
# characters YAML may not hold raw in a double-quoted scalar (C0, DEL, C1, surrogates, U+FFFE/FFFF), or reads as a
# line break or a byte-order mark (NEL in C1, LS, PS, BOM); written as the classes they are, not as the negation of the
# printable set, which takes re ~5 ms each to compile (tests/test_edit.py proves both sets equal); as text, compiled
# by re on first use (~0.6 ms each), which a value of printable ASCII never needs
_ESCAPE_RE = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
_LITERAL_UNSAFE_RE = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"  # (\n raw)



class Style:
    """How a document indents: the step of nested mappings and where a mapping value's sequence puts its dash."""

    __slots__ = ("seq", "step")

    def __init__(self, step: int = 2, seq: int = 0) -> None:
        self.step, self.seq = step, seq  # seq: 0 for "key:\n- a", step for "key:\n  - a"



def _escape(match: re.Match[str]) -> str:
    """A YAML escape for one character."""
    code = ord(match[0])
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quoted(value: str) -> str:
    """A double-quoted YAML scalar holding exactly value."""
    if value.isascii() and value.isprintable():  # (no character of the class: JSON's own escapes suffice)
        return json.dumps(value)
    return re.sub(_ESCAPE_RE, _escape, json.dumps(value, ensure_ascii=False))


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
    if not isinstance(value, str) or "\n" not in value or re.search(_LITERAL_UNSAFE_RE, value):
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


def is_block(value: Any) -> bool:
    """Whether value is written as a block (a non-empty collection or literal text) rather than inline."""
    return (bool(value) and isinstance(value, (dict, list))) or _literal(value)


def after_indicator(value: Any, indent: int, style: Style) -> tuple[str, list[str]]:
    """What follows ``key:`` or ``-`` for value: the rest of that line and the lines below it at indent."""
    if isinstance(value, dict) and value:
        return "", block_lines(value, indent, style)
    if isinstance(value, list) and value:
        return "", block_lines(value, indent, style)
    if _literal(value):
        indicator, lines = _literal_lines(value, indent)
        return " " + indicator, lines
    return " " + inline(value), []


def entry(key: Any, value: Any, indent: int, style: Style) -> list[str]:
    """The lines of one mapping entry at indent."""
    nested = indent + (style.seq if isinstance(value, list) else style.step)
    rest, below = after_indicator(value, nested, style)
    return [" " * indent + scalar(key) + ":" + rest, *below]


def item(value: Any, indent: int, style: Style, gap: int = 1) -> list[str]:
    """The lines of one sequence item whose dash is at indent (content gap spaces after the dash)."""
    column = indent + 1 + gap
    if isinstance(value, (dict, list)) and value:
        lines = block_lines(value, column, style)
        lines[0] = " " * indent + "-" + " " * gap + lines[0][column:]
        return lines
    rest, below = after_indicator(value, column, style)
    return [" " * indent + "-" + rest, *below]


def block_lines(value: Any, indent: int, style: Style) -> list[str]:
    """A non-empty mapping or sequence as block YAML lines at column indent."""
    lines: list[str] = []
    if isinstance(value, dict):
        for key, member in value.items():
            lines += entry(key, member, indent, style)
    else:
        for member in value:
            lines += item(member, indent, style)
    return lines


def document(doc: Any, newline: str = "\n", style: Style | None = None) -> str:
    """A whole new document (a mapping or a sequence; an empty one or a scalar in flow style) as YAML."""
    if not isinstance(doc, (dict, list)) or not doc:
        return inline(doc) + newline
    return "".join(line + newline for line in block_lines(doc, 0, style or Style()))

