"""Read an edited document back before it is written: it must be the input's reading plus the planned operations.

The editor (``edit``) splices text; this module is the proof that the splice
means what the plan says. It reads the edited text with olrender's own
Kubernetes-faithful reader (``stream.load``) and compares the result, type for
type (``1`` is not ``true`` nor ``1.0``), with the input's reading after the
RFC 6902 operations. A difference is an ``EditError`` that names the line of
the input where the edit went wrong and what to do, so olrender refuses
instead of writing a stream Kubernetes reads differently:

    reading(edited text) == jsonpatch(reading(input text), operations)   else EditError
"""

from __future__ import annotations

import yaml
from jsonpointer import JsonPointer

from postrenderer.read import stream
from postrenderer.write.edit import EditError
from postrenderer.write.outline import line_of

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

FIX = (
    "olrender cannot edit this layout in place. Write that part of the document in plain block style (one "
    "`key: value` or `- item` per line, each key on its own line without `?`) and run olrender again"
)


def difference(have: Any, want: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str] | None:
    """The first place where two readings differ, type for type, and how (None: they are the same)."""
    if type(have) is not type(want):
        return path, f"is read as {_kind(have)} instead of {_kind(want)}"
    if isinstance(want, dict):
        missing = [str(k) for k in want if k not in have]
        extra = [str(k) for k in have if k not in want]
        if missing or extra:  # (key order means nothing to Kubernetes)
            return path, f"lacks the key {missing[0]!r}" if missing else f"has an extra key {extra[0]!r}"
        for key, value in want.items():
            found = difference(have[key], value, (*path, str(key)))
            if found:
                return found
        return None
    if isinstance(want, list):
        if len(have) != len(want):
            return path, f"is read with {len(have)} items instead of {len(want)}"
        for i, (old, new) in enumerate(zip(have, want, strict=True)):
            found = difference(old, new, (*path, str(i)))
            if found:
                return found
        return None
    return None if have == want else (path, "is read with another value")


def _kind(value: Any) -> str:
    """A value's kind in words (never the value: it might be a secret)."""
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def check(source: str, edited: str, expected: Any, first_line: int = 1) -> None:
    """Raise EditError unless the edited text reads as expected (source: the text before, for the line)."""
    try:
        have = stream.load(edited)[0]
    except (yaml.YAMLError, stream.TooLarge, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = "" if mark is None else f" at line {first_line + min(mark.line, source.count(chr(10)))}"
        raise EditError(f"the edited document would not be valid YAML{line}; {FIX}") from None
    found = difference(have, expected)
    if found is None:
        return
    parts, how = found
    pointer = JsonPointer.from_parts(parts).path
    raise EditError(
        f"after olrender's edit, Kubernetes would read {pointer} differently from the plan: it {how} "
        f"(the edit at line {first_line + line_of(source, list(parts))}); {FIX}"
    )



def readable_bom(text: str, at: int, first_line: int = 1) -> None:
    """Refuse a byte order mark (at) after the ``---`` line that starts the stream, which Kubernetes reads as text.

    kubectl takes a BOM as a mark at the stream's very start and after a ``---`` line further on, but after a
    first line ``---`` it reads it as part of the document: a key after it gets the mark in its name, and a
    comment, a blank line, a ``?`` key or a flow mapping after it make the document undecodable.
    """
    line = first_line + text.count("\n", 0, at)
    raise EditError(
        f"the byte order mark (U+FEFF) at line {line} follows the --- line that starts the stream, where "
        "Kubernetes reads it as text (a comment after it becomes part of a key or breaks the document), so "
        "olrender cannot edit it as Kubernetes would read it; remove the byte order mark (or move it before the "
        "first ---) and run olrender again"
    )
