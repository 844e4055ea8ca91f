"""Read a manifest stream into segments, and each document the way Kubernetes reads it.

A *segment* is the verbatim text of one YAML document together with the
marker and comment lines in front of it (Helm 3's ``---`` + ``# Source:``).
Joining all segments gives back the input byte for byte, so documents that
olrender does not change are written exactly as they came in (and changed
ones are edited in their own text, see ``edit``):

    ---                                      segment 1
    # Source: agent/templates/worker.yaml
    kind: Deployment
    ---                                      segment 2
    kind: ConfigMap

Documents are read by the one budgeted reader (``reader``), whose resolver
follows Kubernetes' YAML decoder (``scalars``), so olrender sees the values the
cluster will see; ``parse`` turns what the reader refuses into messages that
name the document and the line.
Splitting follows YAML's own rule: ``---`` and ``...`` are markers only at the
start of a line and followed by white space, so an indented ``---`` inside a
block scalar never splits a document.
"""

from __future__ import annotations

import bisect
import re

import yaml

from postrenderer.errors import InputError, where
from postrenderer.read import sketch as sketching
from postrenderer.read.reader import MAX_DEPTH as MAX_DEPTH
from postrenderer.read.reader import MAX_DOCUMENT_BYTES as MAX_DOCUMENT_BYTES
from postrenderer.read.reader import EventParser, quoted_spans, well_formed
from postrenderer.read.reader import Loader as Loader
from postrenderer.read.reader import TooLarge as TooLarge
from postrenderer.read.reader import load as load
from postrenderer.read.reader import plain_yaml as plain_yaml
from postrenderer.read.scalars import plain_value as plain_value
from postrenderer.read.scalars import resolve_plain as resolve_plain

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

_EventParser = EventParser  # (edit reads positions through it)
HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"

_MARKER_RE = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|\Z)|^%", re.MULTILINE)
_CONTENT_RE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)
_LINE_CONTENT_RE = r"(?m)(?:^|\r)[ \t]*[^\s#]"  # (also after a CR that ends a line alone)
_SOURCE_RE = re.compile(r"^# Source: ", re.MULTILINE)
# (patterns that start with a line break find line starts much faster than "^" in MULTILINE mode)
_KIND_KEY_RE = re.compile(r"\nkind[ \t]*:")
_PLAIN_KIND_RE = re.compile(r"\nkind:[ \t]+([A-Za-z][A-Za-z0-9]*)(?:[ \t]+#[^\n]*)?[ \t]*\r?(?=\n|\Z)")
_INDENTED_ROOT_RE = re.compile(r"(?:(?:[ \t]*|---[ \t]*)(?:#[^\n]*)?\r?\n)*[ \t]+[^\s#]")
# after a line break: a column-0 line that is not a comment, a marker alone or a plain key/sequence entry
_ODD_START_RE = re.compile(r"\n(?:[^\sA-Za-z0-9_./#-]|---[ \t]+[^\s#])")
MAX_STREAM_BYTES = 64 * 2**20  # the whole input; the CLI stops reading one byte past it
MAX_DOCUMENTS = 200_000  # documents of a stream, empty ones included

# (patterns of rare paths as text: re compiles each on first use, and most runs never use them)
_BOM_AFTER_MARKER_RE = r"---[ \t]*\r?\n\ufeff"
_KIND_HINT_RE = r"(?m)^kind:[ \t]*[\"']?([A-Za-z][A-Za-z0-9]*)"
_METADATA_HINT_RE = r"(?m)^metadata:[ \t]*(?:#[^\n]*)?\r?\n"
_NAME_HINT_RE = r"name:[ \t]*[\"']?([^\"'\s#]+)"


class Segment:
    """The verbatim text of one document and its leading marker/comment lines, and its bytes in the stream."""

    __slots__ = ("index", "line", "size", "start", "text")

    def __init__(self, index: int, text: str, line: int, start: int = 0, size: int = -1) -> None:
        self.index, self.text, self.line = index, text, line
        self.start, self.size = start, len(text) if size < 0 else size  # byte offset and length in the input

    @property
    def has_document(self) -> bool:
        """Whether the segment holds a document (a ``---`` marker or content)."""
        return _has_content(self.text) or self.text.startswith("---")

    @property
    def newline(self) -> str:
        """The line ending this segment uses."""
        return "\r\n" if "\r\n" in self.text else "\n"

    @property
    def bom(self) -> int:
        """Where a byte order mark at the stream's start or right after a ``---`` line is (kubectl takes both); -1."""
        if "\ufeff" not in self.text:
            return -1
        if self.start == 0 and self.text.startswith("\ufeff"):
            return 0
        match = re.match(_BOM_AFTER_MARKER_RE, self.text)
        return match.end() - 1 if match else -1

    @property
    def source(self) -> str:
        """The text YAML is read from: the document, without a byte order mark right after its ``---`` line."""
        at = self.bom
        return self.text if at < 0 else self.text[:at] + self.text[at + 1 :]


def _has_content(text: str) -> bool:
    """Whether text holds anything besides comments, blank lines and markers."""
    for match in re.finditer(_LINE_CONTENT_RE, text):
        line_start = match.start() + (text[match.start()] == "\r")
        rest = text[line_start : line_start + 4]
        if rest.startswith("%"):
            continue
        if rest[:3] in ("---", "...") and (len(rest) == 3 or rest[3] in " \t\r\n"):
            end = text.find("\n", line_start)
            after = text[line_start + 3 : end if end >= 0 else len(text)]
            if not _CONTENT_RE.search(after):
                continue
        return True
    return False


def decode(data: bytes) -> str:
    """Decode the raw stream as UTF-8, refusing encodings Helm never sends and streams over MAX_STREAM_BYTES."""
    if len(data) > MAX_STREAM_BYTES:
        raise InputError(
            f"the stream is over {MAX_STREAM_BYTES // 2**20} MiB, olrender's limit (rendered releases are "
            "far smaller: Helm's default storage keeps a whole release, compressed, in one Secret of at most 1 MiB)"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("input is UTF-16 (byte order mark found); Helm sends UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(
            f"{_document_at(data, nul)}: NUL byte at line {line}; a YAML stream is text "
            "(is this UTF-16/UTF-32 without a byte order mark, or a binary file?)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{_document_at(data, exc.start)}: not valid UTF-8 at line {line} (byte {exc.start}: "
            f"0x{data[exc.start]:02x}); Helm sends UTF-8 (was a template saved as Latin-1?)"
        ) from None


def _document_at(data: bytes, offset: int) -> str:
    """Name the document holding a byte of an undecodable stream (for encoding errors)."""
    text = data.decode("utf-8", errors="replace")
    position = len(data[:offset].decode("utf-8", errors="replace"))
    start = 0
    try:
        segments = split(text)
    except InputError:  # a document over the size limit: that error comes once the text decodes
        return "the stream"
    for segment in segments:
        start += len(segment.text)
        if position < start:
            return place(segment)
    return "the stream"


def split(text: str) -> list[Segment]:
    """Cut the stream into segments whose concatenation is the input."""
    return list(segments(text))


def segments(text: str, source: bytes | None = None) -> Iterator[Segment]:
    """The stream's segments one by one (the caller may keep only those it needs); their byte spans in source."""
    cuts: list[int] = []
    open_doc = False
    marks: list[int] = []
    for match in _MARKER_RE.finditer(text):
        marks.append(match.start())
        if len(marks) > 2 * MAX_DOCUMENTS + 1:  # (a document has at most a "---" and a "..." of its own)
            raise InputError(_too_many())
    bounds = [*marks, len(text)]
    if not marks or marks[0] != 0:
        open_doc = _has_content(text[: bounds[0]])
    quoted: _Quoted | None = None
    for pos, nxt in zip(marks, bounds[1:], strict=False):
        piece_kind = text[pos]
        if piece_kind == "-":
            if open_doc:
                cuts.append(pos)
            open_doc = True
        elif piece_kind == "%":
            if open_doc:
                doc_start = cuts[-1] if cuts else 0
                if quoted is None or quoted.start != doc_start:
                    later = bisect.bisect_right(marks, pos)
                    while later < len(marks) and text[marks[later]] == "%":
                        later += 1
                    quoted = _Quoted(text, doc_start, marks[later] if later < len(marks) else len(text))
                if quoted.holds(pos):  # a line of a quoted scalar that starts with "%", not a directive
                    continue
                cuts.append(pos)
            open_doc = _has_content(text[pos:nxt].partition("\n")[2])
        else:  # "..." closes the current document
            end = text.find("\n", pos)
            end = nxt if end < 0 or end >= nxt else end + 1
            cuts.append(end)
            open_doc = _has_content(text[end:nxt])
    if len(cuts) >= MAX_DOCUMENTS:
        raise InputError(_too_many())
    ascii_only = source is None or len(source) == len(text)
    start = byte = 0
    line = index = 1
    for cut in [*cuts, len(text)]:
        if cut > start:
            chunk = text[start:cut]
            size = len(chunk) if ascii_only else len(chunk.encode("utf-8", "surrogatepass"))
            segment = Segment(index, chunk, line, byte, size)
            if len(chunk) > MAX_DOCUMENT_BYTES:
                raise InputError(
                    f"{place(segment)}: the document is {len(chunk) / 2**20:.1f} MiB; olrender accepts "
                    f"documents up to {MAX_DOCUMENT_BYTES // 2**20} MiB (the Kubernetes API stores objects "
                    "up to about 1.5 MiB)"
                )
            yield segment
            index += 1
            byte += size
            line += chunk.count("\n")
            start = cut


class _Quoted:
    """The quoted scalars of one document's text that span lines: a ``%`` line inside one is no directive."""

    __slots__ = ("spans", "start")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.start = start
        # (a "---" or "..." line ends every quoted scalar: the document's text up to the next one will do)
        self.spans = [(start + a, start + b) for a, b in quoted_spans(text[start:end])]

    def holds(self, position: int) -> bool:
        """Whether position lies inside one of the quoted scalars."""
        return any(first < position < last for first, last in self.spans)


def _too_many() -> str:
    """The message for a stream with more documents than MAX_DOCUMENTS."""
    return (
        f"the stream holds more than {MAX_DOCUMENTS:,} documents (empty ones included), olrender's limit "
        "(a Helm release holds a few thousand at most)"
    )


def parse(segment: Segment) -> tuple[Any, list[str]]:
    """Parse one segment; return the document (None if empty) and its duplicate keys."""
    try:
        doc, duplicates = load(segment.source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {segment.line + mark.line}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        if problem.startswith("could not determine a constructor for the tag"):
            tag = problem.rpartition(" ")[2]
            raise InputError(
                f"{place(segment)}: unsupported YAML tag {tag}{at}; Kubernetes manifests use only "
                "plain YAML types (quote the value if the tag is meant as text)"
            ) from None
        if exc.context and exc.context != problem and exc.problem:
            started = exc.context_mark
            since = ""
            if started is not None and mark is not None and started.line != mark.line:
                since = f" from line {segment.line + started.line}"
            problem += f" ({exc.context}{since})"
        index = getattr(mark, "index", -1)
        if 0 <= index < len(segment.source) and segment.source[index] == "\t":
            problem += "; it is a tab, and YAML does not allow tabs for indentation"
        elif "\ufeff" in segment.source:
            bom_line = segment.line + segment.source.count("\n", 0, segment.source.index("\ufeff"))
            problem += (
                f"; the document holds a byte order mark (U+FEFF) at line {bom_line}, which YAML allows only "
                "at the start of a document (right after its --- line)"
            )
        elif "mapping values are not allowed" in problem:
            problem += "; check the indentation of this line"
        raise InputError(f"{place(segment)}: malformed YAML{at}: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = segment.line + segment.source.count("\n", 0, exc.position)
        raise InputError(
            f"{place(segment)}: unacceptable character #x{exc.character:04x} at line {line}: "
            "YAML allows no control characters"
        ) from None
    except yaml.YAMLError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{place(segment)}: malformed YAML: {detail}") from None
    except TooLarge as exc:
        raise InputError(f"{place(segment)}: {exc.describe(segment.line)}") from None
    if doc is not None and not isinstance(doc, dict):
        what = "a list (YAML sequence)" if isinstance(doc, list) else "a single value (YAML scalar)"
        raise InputError(
            f"{place(segment)}: the document is {what}, not a Kubernetes object; every document in the "
            "stream must be a mapping with apiVersion and kind (Helm and kubectl reject it too)"
        )
    return doc, duplicates


def sketch(segment: Segment, paths: set[tuple[str, ...]]) -> dict[str, Any] | None:
    """The parts of a plain document at the given key paths (``sketch.sketch``); None: parse it in full."""
    return sketching.sketch(segment.source, paths)


def place(segment: Segment) -> str:
    """``document 3 (ConfigMap/x) at line 40``: the document, with its kind and name when the text shows them."""
    kind, name = identity_hint(segment.text)
    return f"{where(segment.index, kind, name)} at line {segment.line}"


def identity_hint(text: str) -> tuple[str | None, str | None]:
    """Read ``kind`` and ``metadata.name`` from a document's text without parsing it (for messages)."""
    kind = re.search(_KIND_HINT_RE, text)
    name = None
    meta = re.search(_METADATA_HINT_RE, text)
    if meta is not None:
        child_indent = None
        for line in text[meta.end() : meta.end() + 20_000].splitlines()[:200]:
            stripped = line.lstrip(" ")
            if not stripped.strip() or stripped.startswith("#"):
                continue
            indent = len(line) - len(stripped)
            if indent == 0 or (child_indent is not None and indent < child_indent):
                break
            child_indent = child_indent or indent
            found = re.match(_NAME_HINT_RE, stripped)
            if indent == child_indent and found:
                name = found.group(1)
                break
    return (kind.group(1) if kind else None), name


def plain_kind(text: str) -> str | None:
    """The top-level ``kind`` of a segment when its text alone settles it, else None.

    It does when the document is a block mapping starting at column 0 whose
    only ``kind`` key is written ``kind: Word`` at column 0, and no column-0
    line spells a key any other way (quotes, ``?``, tags, anchors, ``<<``, flow):

        kind: ConfigMap                 -> "ConfigMap"
        "kind": ConfigMap               -> None
        kind: ConfigMap  + kind : Pod   -> None
    """
    lined = "\n" + text
    if len(_KIND_KEY_RE.findall(lined)) != 1 or _ODD_START_RE.search(lined) or _INDENTED_ROOT_RE.match(text):
        return None
    match = _PLAIN_KIND_RE.search(lined)
    return None if match is None else match.group(1)


def check(segment: Segment) -> None:
    """Prove a segment is what ``parse`` accepts, without keeping (or mostly building) the document.

    Unless the text uses a feature that only building the Python objects can
    refuse or expand (tags, anchors and aliases, ``<<`` merges, collection
    keys), libyaml's parser alone checks
    it: several times cheaper than ``parse``. Problems are reported by
    ``parse``, in the same words as always.
    """
    if not well_formed(segment.source):
        parse(segment)


def _leading(text: str) -> tuple[str, bool]:
    """Return the marker/comment lines before a segment's content, and whether a ``---`` is among them."""
    pos = 0
    marker = False
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end + 1
        line = text[pos:end]
        stripped = line.strip()
        if line.startswith("---") and (len(line) == 3 or line[3] in " \t\r\n"):
            if _CONTENT_RE.search(line[3:]):
                break
            marker = True
        elif stripped and not stripped.startswith("#") and not line.startswith("%"):
            break
        pos = end
    return text[:pos], marker


def has_source_line(segment: Segment) -> bool:
    """Whether a segment starts with Helm 3's ``# Source:`` line among its leading comments."""
    return _SOURCE_RE.search(_leading(segment.text)[0]) is not None


def is_helm4(doc: Any) -> bool:
    """Whether a document carries Helm 4's filename annotation."""
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return isinstance(annotations, dict) and HELM4_FILENAME in annotations
