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

Documents are read with a resolver that follows Kubernetes' YAML decoder
(``resolve_plain``), so olrender sees the values the cluster will see.
Splitting follows YAML's own rule: ``---`` and ``...`` are markers only at the
start of a line and followed by white space, so an indented ``---`` inside a
block scalar never splits a document.
"""

from __future__ import annotations

import bisect
import re

import yaml

from postrenderer.errors import InputError, where

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"

_MARKER_RE = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|\Z)|^%", re.MULTILINE)
_CONTENT_RE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)
_LINE_CONTENT_RE = re.compile(r"(?:^|\r)[ \t]*[^\s#]", re.MULTILINE)  # (also after a CR that ends a line alone)
_SOURCE_RE = re.compile(r"^# Source: ", re.MULTILINE)
# (patterns that start with a line break find line starts much faster than "^" in MULTILINE mode)
_KIND_KEY_RE = re.compile(r"\nkind[ \t]*:")
_PLAIN_KIND_RE = re.compile(r"\nkind:[ \t]+([A-Za-z][A-Za-z0-9]*)(?:[ \t]+#[^\n]*)?[ \t]*\r?(?=\n|\Z)")
_INDENTED_ROOT_RE = re.compile(r"(?:(?:[ \t]*|---[ \t]*)(?:#[^\n]*)?\r?\n)*[ \t]+[^\s#]")
_LATER_MARKER_RE = re.compile(r"\n(?:(?:---|\.\.\.)(?=[ \t\r\n]|\Z)|%)")
# after a line break: a column-0 line that is not a comment, a marker alone or a plain key/sequence entry
_ODD_START_RE = re.compile(r"\n(?:[^\sA-Za-z0-9_./#-]|---[ \t]+[^\s#])")
# tags, anchors, aliases, complex keys, merge keys, collection keys, each where a YAML token starts
_TOKEN = r"[^\s\[\]{},]"
_NEEDS_OBJECTS_RE = re.compile(
    rf"!(?<!{_TOKEN}!)|&(?<!{_TOKEN}&)|\*(?<!{_TOKEN}\*)|\?(?=\s|$)(?<!{_TOKEN}\?)|<<(?<!{_TOKEN}<<)"
    r"|\][ \t]*:(?=\s|$)|\}[ \t]*:(?=\s|$)",  # (literal first characters keep the scan fast)
    re.MULTILINE,
)

try:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader

try:  # pragma: no cover - depends on how PyYAML was built
    from yaml._yaml import CParser  # libyaml's parser alone: events, no nodes

    _EventParser: Any = CParser
except ImportError:  # pragma: no cover
    _EventParser = yaml.SafeLoader

_STR_TAG = "tag:yaml.org,2002:str"
MAX_EXPANDED_NODES = 1_000_000
MAX_DEPTH = 200  # nesting levels; libyaml's composer recurses in C, and rewriting recurses in Python
MAX_DOCUMENT_BYTES = 16 * 2**20  # characters of one document (all ASCII in practice)
MAX_STREAM_BYTES = 64 * 2**20  # the whole input; the CLI stops reading one byte past it
MAX_DOCUMENTS = 200_000  # documents of a stream, empty ones included

_BOM_AFTER_MARKER_RE = re.compile(r"---[ \t]*\r?\n\ufeff")
_KIND_HINT_RE = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z][A-Za-z0-9]*)", re.MULTILINE)
_METADATA_HINT_RE = re.compile(r"^metadata:[ \t]*(?:#[^\n]*)?\r?\n", re.MULTILINE)
_NAME_HINT_RE = re.compile(r"name:[ \t]*[\"']?([^\"'\s#]+)")


_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"
# plain scalars Kubernetes' decoder (sigs.k8s.io/yaml, go-yaml v2 rules) reads as something other than a string,
# by their exact spelling
_TRUE_WORDS = frozenset(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"])
_FALSE_WORDS = frozenset(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
_WORDS = {
    **dict.fromkeys(_TRUE_WORDS | _FALSE_WORDS, _BOOL_TAG),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], _NULL_TAG),
    **dict.fromkeys(
        [f"{sign}.{word}" for sign in ("", "+", "-") for word in ("inf", "Inf", "INF")] + [".nan", ".NaN", ".NAN"],
        _FLOAT_TAG,
    ),
    "<<": MERGE_TAG,  # a merge key; as a value it stays the string "<<" (see Loader)
}
# numbers once every "_" is dropped: Go's strconv.ParseInt(s, 0, 64) (any size) and go-yaml's float syntax
_INT_RE = re.compile(r"[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT_RE = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")  # starting with ".": no "_" allowed
_NUMBER_START = frozenset("0123456789+-")


def resolve_plain(value: str) -> str:
    """The tag Kubernetes gives a plain (unquoted) scalar; everything else is a string.

    The rules of go-yaml v2 as sigs.k8s.io/yaml uses them, which Helm, kubectl and the API server share:

        y, on, True -> bool      0o17, 017, 0x1F, 1_000, +12 -> int     1e3, 08, .5, 1. -> float
        12:30, 1:20:30, 2001-12-14, =, yEs, 0x -> string (PyYAML's YAML 1.1 reads the first two as numbers)
    """
    tag = _WORDS.get(value)
    if tag is not None:
        return tag
    first = value[0]
    if first == ".":
        return _FLOAT_TAG if _DOT_FLOAT_RE.fullmatch(value) else _STR_TAG
    if first in _NUMBER_START:
        digits = value.replace("_", "")
        whole = _INT_RE.fullmatch(digits) is not None
        if whole and -(2**63) <= _int(digits) < 2**64:  # what Go's int64 or uint64 holds
            return _INT_TAG
        if _FLOAT_RE.fullmatch(digits):  # (a decimal integer beyond 64 bits included)
            return _FLOAT_TAG
        if whole:  # a larger binary, octal or hexadecimal integer
            return _INT_TAG
    return _STR_TAG


def _int(digits: str) -> int:
    """An integer as Go's strconv.ParseInt(digits, 0, ...) reads it (a leading ``0`` means octal)."""
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1] not in "bBoOxX":
        return sign * int(digits, 8)
    return sign * int(digits, 0)


def plain_value(text: str) -> Any:
    """What Kubernetes reads a plain scalar as (``resolve_plain``, then the value): ``0o17`` -> 15, ``y`` -> True."""
    tag = resolve_plain(text)
    if tag == _INT_TAG:
        return _int(text.replace("_", ""))
    if tag == _FLOAT_TAG:
        digits = text.replace("_", "")
        word = digits.lower().lstrip("+")
        return float(word.replace(".", "")) if word in (".inf", "-.inf", ".nan") else float(digits)
    if tag == _BOOL_TAG:
        return text in _TRUE_WORDS
    return None if tag == _NULL_TAG else text  # (a "<<" value is the string "<<")


class Loader(_BaseLoader):  # type: ignore[misc]
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

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[str] = []
        self.aliases = 0
        self.merged = 0
        self.flattened: set[int] = set()
        self.merge_weights: dict[int, int] = {}

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """Construct a node, counting how often a node is reused through an alias."""
        if node in self.constructed_objects:
            self.aliases += 1
        return super().construct_object(node, deep=deep)

    def flatten_mapping(self, node: Any) -> None:
        """Note duplicate keys and resolve ``<<`` merges (at most MAX_EXPANDED_NODES merged entries)."""
        if id(node) in self.flattened:
            return
        self.flattened.add(id(node))
        self._merge_weight(node)  # remember its weight before flattening rewrites node.value
        seen: set[tuple[str, str]] = set()
        sources: list[Any] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
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
        super().flatten_mapping(node)

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
            if key_node.tag == "tag:yaml.org,2002:merge":
                subs = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                weight += sum(self._merge_weight(sub) for sub in subs if isinstance(sub, yaml.MappingNode))
            else:
                weight += 1
        self.merge_weights[id(node)] = min(weight, MAX_EXPANDED_NODES + 1)
        return self.merge_weights[id(node)]

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping as a plain dict (duplicate keys are noted while flattening)."""
        return dict(super().construct_mapping(node, deep=deep))


for _tag in (_INT_TAG, _FLOAT_TAG, _BOOL_TAG, MERGE_TAG):  # ("<<" as a value: a string, as in Kubernetes)
    Loader.add_constructor(_tag, lambda loader, node: plain_value(node.value))


class TooLarge(Exception):
    """A document exceeds one of olrender's processing limits."""

    def __init__(self, message: str, node: Any = None) -> None:
        super().__init__(message.replace("{at}", ""))
        self.message = message
        self.line: int | None = node.start_mark.line if node is not None else None

    def describe(self, first_line: int = 1) -> str:
        """The message, with the line where the limit was hit (first_line: where the text starts)."""
        at = f" at line {first_line + self.line}" if self.line is not None else ""
        return self.message.replace("{at}", at)


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
        match = _BOM_AFTER_MARKER_RE.match(self.text)
        return match.end() - 1 if match else -1

    @property
    def source(self) -> str:
        """The text YAML is read from: the document, without a byte order mark right after its ``---`` line."""
        at = self.bom
        return self.text if at < 0 else self.text[:at] + self.text[at + 1 :]


def _has_content(text: str) -> bool:
    """Whether text holds anything besides comments, blank lines and markers."""
    for match in _LINE_CONTENT_RE.finditer(text):
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
        self.spans: list[tuple[int, int]] = []
        try:  # (a "---" or "..." line ends every quoted scalar: the document's text up to the next one will do)
            for token in yaml.scan(text[start:end], Loader=_BaseLoader):
                lines = token.start_mark.line != token.end_mark.line
                if type(token) is yaml.ScalarToken and token.style in ("'", '"') and lines:
                    self.spans.append((start + token.start_mark.index, start + token.end_mark.index))
        except yaml.YAMLError:
            pass  # malformed: cut as before, and let parsing report it

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
    except RecursionError:
        raise InputError(f"{place(segment)}: nesting too deep to process") from None
    if doc is not None and not isinstance(doc, dict):
        what = "a list (YAML sequence)" if isinstance(doc, list) else "a single value (YAML scalar)"
        raise InputError(
            f"{place(segment)}: the document is {what}, not a Kubernetes object; every document in the "
            "stream must be a mapping with apiVersion and kind (Helm and kubectl reject it too)"
        )
    return doc, duplicates


def load(text: str) -> tuple[Any, list[str]]:
    """Load one YAML document within olrender's limits; return it and its duplicate keys.

    Raises ``yaml.YAMLError`` for malformed YAML and ``TooLarge`` for a document
    nested deeper than MAX_DEPTH, whose merge keys copy more than MAX_EXPANDED_NODES
    entries (checked before they are copied), or whose aliases expand to more than
    MAX_EXPANDED_NODES nodes or MAX_DOCUMENT_BYTES of text (counted on the shared objects).
    """
    _check_depth(text)
    loader = Loader(text)
    try:
        doc = loader.get_single_data() if not plain_yaml(text) else _build(loader, loader.get_single_node())
        if loader.aliases:
            nodes, chars = _expanded_size(doc)
            if nodes > MAX_EXPANDED_NODES:
                raise TooLarge(f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)")
            if chars > MAX_DOCUMENT_BYTES:
                raise TooLarge(
                    f"YAML aliases expand to {chars / 2**20:.0f} MiB of text, more than the "
                    f"{MAX_DOCUMENT_BYTES // 2**20} MiB a document may hold (Kubernetes writes every alias out in full)"
                )
        return doc, loader.duplicate_keys
    finally:
        loader.dispose()


def plain_yaml(text: str) -> bool:
    """Whether a document's text uses only plain YAML: nothing that only building objects refuses or expands.

    That leaves out tags, anchors and aliases, ``<<`` merges and collection
    keys (each where a YAML token can start, so ``#!/bin/sh`` does not count). Plain YAML can be checked
    by libyaml's parser alone and built without PyYAML's general constructor.
    """
    return _NEEDS_OBJECTS_RE.search(text) is None


def sketch(segment: Segment, paths: set[tuple[str, ...]]) -> dict[str, Any] | None:
    """The parts of a plain, well-formed block-mapping document at the given key paths; None: parse it in full.

    libyaml's parser reads the whole document (so it is checked as ``check``
    would), but only the values at ``paths`` and the mappings on the way to
    them become objects (values on the way that are not mappings are built
    too); a repeated key replaces the earlier one, as in a parsed document:

        paths {("metadata",), ("spec", "template", "metadata")} of a Deployment
        -> {"metadata": {...}, "spec": {"template": {"metadata": {...}}}}
    """
    text = segment.source
    if not plain_yaml(text) or not _nesting_ok(text):
        return None
    reader = _Sketch(Loader(text), paths)
    get = reader.get
    found: dict[str, Any] = {}
    try:
        get(), get()  # stream start, document start
        if type(get()) is not yaml.MappingStartEvent:
            return None
        reader.read((), found)
        if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
            return None  # a second document: a full parse reports it
    except (yaml.YAMLError, _NotPlain):
        return None  # a full parse reports it, or reads it
    finally:
        reader.loader.dispose()
    return found


class _Sketch:
    """One document's events, with only the values at some key paths built (a class, not closures: no cycles)."""

    __slots__ = ("constructors", "get", "loader", "paths", "prefixes")

    def __init__(self, loader: Loader, paths: set[tuple[str, ...]]) -> None:
        self.loader, self.get, self.constructors = loader, loader.get_event, loader.yaml_constructors
        self.paths = paths
        self.prefixes = {path[:i] for path in paths for i in range(1, len(path))}

    def build(self, event: Any) -> Any:
        """The object an event starts (reading up to its end)."""
        kind = type(event)
        if kind is yaml.ScalarEvent:
            loader = self.loader
            tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == _STR_TAG:
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


def _build(loader: Loader, node: Any) -> Any:
    """Build plain YAML's objects from its nodes: what ``construct_document`` gives, several times faster."""
    if node is None:
        return None
    try:
        return _build_node(node, loader)
    except _DuplicateKeys:  # rare: let construction note them, in its own words and order
        return loader.construct_document(node)


def _build_node(node: Any, loader: Loader) -> Any:
    """One node of ``_build`` (a function, not a closure: no reference cycle per document)."""
    kind = type(node)
    if kind is yaml.ScalarNode:
        return node.value if node.tag == _STR_TAG else loader.yaml_constructors[node.tag](loader, node)
    if kind is yaml.MappingNode:
        mapping = {_build_node(key, loader): _build_node(value, loader) for key, value in node.value}
        if len(mapping) < len(node.value):
            raise _DuplicateKeys
        return mapping
    return [_build_node(item, loader) for item in node.value]


class _DuplicateKeys(Exception):
    """A mapping of a plain document repeats a key."""


def place(segment: Segment) -> str:
    """``document 3 (ConfigMap/x) at line 40``: the document, with its kind and name when the text shows them."""
    kind, name = identity_hint(segment.text)
    return f"{where(segment.index, kind, name)} at line {segment.line}"


def identity_hint(text: str) -> tuple[str | None, str | None]:
    """Read ``kind`` and ``metadata.name`` from a document's text without parsing it (for messages)."""
    kind = _KIND_HINT_RE.search(text)
    name = None
    meta = _METADATA_HINT_RE.search(text)
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
            found = _NAME_HINT_RE.match(stripped)
            if indent == child_indent and found:
                name = found.group(1)
                break
    return (kind.group(1) if kind else None), name


def _check_depth(text: str) -> None:
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
    parser = _EventParser(text)
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


def _nesting_ok(text: str) -> bool:
    """Whether the text is well-formed enough to measure and nests at most MAX_DEPTH levels."""
    try:
        _check_depth(text)
    except (TooLarge, yaml.YAMLError):
        return False
    return True


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
    text = segment.source
    if plain_yaml(text) and _nesting_ok(text):
        parser = _EventParser(text)
        try:
            if hasattr(parser, "raw_parse") and not _LATER_MARKER_RE.search(text):
                parser.raw_parse()  # no marker after the start: one document at most
                return
            starts = 0
            while (event := parser.get_event()) is not None:
                starts += type(event) is yaml.DocumentStartEvent
            if starts <= 1:
                return
        except yaml.YAMLError:
            pass
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


def detect_format(segments: list[Segment], docs: Iterator[Any] | list[Any]) -> str:
    """Tell a Helm 3 stream (``# Source:`` lines), a Helm 4 stream (filename annotation) or plain YAML."""
    if any(has_source_line(segment) for segment in segments):
        return "helm3"
    return "helm4" if any(is_helm4(doc) for doc in docs) else "plain"
