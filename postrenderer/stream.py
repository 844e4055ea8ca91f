"""Read a manifest stream into segments and write it back without damage.

A *segment* is the verbatim text of one YAML document together with the
marker and comment lines in front of it (Helm 3's ``---`` + ``# Source:``).
Joining all segments gives back the input byte for byte, so documents that
olrender does not change are written exactly as they came in. A changed
document keeps its leading lines and gets a fresh YAML body:

    ---                                      ---
    # Source: agent/templates/worker.yaml    # Source: agent/templates/worker.yaml
    kind: Deployment        (changed)  ->    kind: Deployment
    ...                                      ...  (key order kept, env added)

Splitting follows YAML's own rule: ``---`` and ``...`` are markers only at the
start of a line and followed by white space, so an indented ``---`` inside a
block scalar never splits a document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from postrenderer.errors import InputError

HELM4_FILENAME = "postrenderer.helm.sh/postrender-filename"

_MARKER_RE = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|\Z)|^%", re.MULTILINE)
_CONTENT_RE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)
_SOURCE_RE = re.compile(r"^# Source: ", re.MULTILINE)

try:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader: Any = yaml.CSafeLoader
    _BaseDumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader
    _BaseDumper = yaml.SafeDumper

MAX_EXPANDED_NODES = 1_000_000


class Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader that keeps timestamps as strings and notes duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[str] = []
        self.aliases = 0

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """Construct a node, counting how often a node is reused through an alias."""
        if node in self.constructed_objects:
            self.aliases += 1
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping and remember keys that appear twice (YAML says: an error)."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                self.duplicate_keys.append(f"{key} (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return dict(super().construct_mapping(node, deep=deep))


def _represent_str(dumper: Any, value: str) -> Any:
    """Write multi-line strings as readable block scalars."""
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe dumper with block scalars for multi-line text and no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        """Write shared nodes out in full: Kubernetes manifests carry no anchors."""
        return True


class IndentedDumper(yaml.SafeDumper):
    """Like Dumper, but indents sequences under their key (the style of most Helm templates)."""

    def ignore_aliases(self, data: Any) -> bool:
        """Write shared nodes out in full."""
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Never emit indentless sequences."""
        super().increase_indent(flow, False)


Dumper.add_representer(str, _represent_str)
IndentedDumper.add_representer(str, _represent_str)
_INDENTED_SEQ_RE = re.compile(r"^( *)[^\s#-][^\n]*:[ \t]*\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*\1 +- ", re.MULTILINE)
_COMPACT_SEQ_RE = re.compile(r"^( *)[^\s#-][^\n]*:[ \t]*\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*\1- ", re.MULTILINE)


@dataclass
class Segment:
    """The verbatim text of one document and its leading marker/comment lines."""

    index: int
    text: str
    line: int

    @property
    def has_document(self) -> bool:
        """Whether the segment holds a document (a ``---`` marker or content)."""
        return _has_content(self.text) or self.text.startswith("---")

    @property
    def newline(self) -> str:
        """The line ending this segment uses."""
        return "\r\n" if "\r\n" in self.text else "\n"


def _has_content(text: str) -> bool:
    """Whether text holds anything besides comments, blank lines and markers."""
    for match in _CONTENT_RE.finditer(text):
        line_start = match.start()
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
    """Decode the raw stream as UTF-8, refusing encodings Helm never sends."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("input is UTF-16 (byte order mark found); Helm sends UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(f"input contains a NUL byte at line {line}; not a YAML text stream")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"input is not valid UTF-8 (byte {exc.start}, line {line})") from None


def split(text: str) -> list[Segment]:
    """Cut the stream into segments whose concatenation is the input."""
    cuts: list[int] = []
    open_doc = False
    marks = [m.start() for m in _MARKER_RE.finditer(text)]
    bounds = [*marks, len(text)]
    if not marks or marks[0] != 0:
        open_doc = _has_content(text[: bounds[0]])
    for pos, nxt in zip(marks, bounds[1:], strict=False):
        piece_kind = text[pos]
        if piece_kind == "-":
            if open_doc:
                cuts.append(pos)
            open_doc = True
        elif piece_kind == "%":
            if open_doc:
                cuts.append(pos)
            open_doc = _has_content(text[pos:nxt].partition("\n")[2])
        else:  # "..." closes the current document
            end = text.find("\n", pos)
            end = nxt if end < 0 or end >= nxt else end + 1
            cuts.append(end)
            open_doc = _has_content(text[end:nxt])
    segments: list[Segment] = []
    start = 0
    line = 1
    for cut in [*cuts, len(text)]:
        if cut > start:
            chunk = text[start:cut]
            segments.append(Segment(len(segments) + 1, chunk, line))
            line += chunk.count("\n")
            start = cut
    return segments


def parse(segment: Segment) -> tuple[Any, list[str]]:
    """Parse one segment; return the document (None if empty) and its duplicate keys."""
    loader = Loader(segment.text)
    try:
        doc = loader.get_single_data()
        if loader.aliases and _expanded_size(doc) > MAX_EXPANDED_NODES:
            raise InputError(
                f"document {segment.index} (line {segment.line}): YAML aliases expand to more than "
                f"{MAX_EXPANDED_NODES:,} nodes (an alias bomb?)"
            )
        return doc, loader.duplicate_keys
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {segment.line + mark.line}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"document {segment.index}: malformed YAML{at}: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"document {segment.index} (line {segment.line}): {exc}") from None
    except RecursionError:
        raise InputError(
            f"document {segment.index} (line {segment.line}): nesting too deep to process"
        ) from None
    finally:
        loader.dispose()


def _expanded_size(doc: Any) -> int:
    """Count the nodes a document has once every alias is expanded (shared nodes counted each time)."""
    sizes: dict[int, int] = {}

    def size(obj: Any) -> int:
        if isinstance(obj, dict):
            children: Any = [*obj.keys(), *obj.values()]
        elif isinstance(obj, list):
            children = obj
        else:
            return 1
        known = sizes.get(id(obj))
        if known is None:
            known = sizes[id(obj)] = 1 + sum(size(child) for child in children)
        return known

    return size(doc)


def indents_sequences(text: str) -> bool:
    """Whether a document writes block sequences indented under their key (``key:\n  - a``)."""
    indented = _INDENTED_SEQ_RE.search(text)
    compact = _COMPACT_SEQ_RE.search(text)
    if indented is None:
        return False
    return compact is None or indented.start() < compact.start()


def dump(doc: Any, indent_sequences: bool = False) -> str:
    """Serialise one document: key order kept, block scalars for multi-line text."""
    text: str = yaml.dump(
        doc,
        Dumper=IndentedDumper if indent_sequences else Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )
    return text


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


def rewrite(segment: Segment, doc: Any) -> str:
    """Return the segment's text with its document replaced by ``doc``."""
    prefix, marker = _leading(segment.text)
    if not marker and segment.index > 1:
        prefix += "---\n"
    if prefix and not prefix.endswith("\n"):
        prefix += "\n"
    body = dump(doc, indents_sequences(segment.text))
    if re.search(r"^\.\.\.(?=[ \t\r\n]|\Z)", segment.text[len(prefix) :], re.MULTILINE):
        body += "...\n"
    text = prefix + body
    if segment.newline == "\r\n":
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text


def detect_format(segments: list[Segment], docs: Iterator[Any] | list[Any]) -> str:
    """Tell a Helm 3 stream (``# Source:`` lines), a Helm 4 stream (filename annotation) or plain YAML."""
    for segment in segments:
        if _SOURCE_RE.search(_leading(segment.text)[0]):
            return "helm3"
    for doc in docs:
        annotations = ((doc or {}).get("metadata") or {}).get("annotations") if isinstance(doc, dict) else None
        if isinstance(annotations, dict) and HELM4_FILENAME in annotations:
            return "helm4"
    return "plain"


def new_document(doc: dict[str, Any], filename: str, fmt: str, newline: str = "\n") -> str:
    """Serialise a document olrender adds, with provenance that fits the stream's format."""
    if fmt == "helm4":
        metadata = doc.setdefault("metadata", {})
        metadata.setdefault("annotations", {})[HELM4_FILENAME] = filename
        text = "---\n" + dump(doc)
    elif fmt == "helm3":
        text = f"---\n# Source: {filename}\n" + dump(doc)
    else:
        text = "---\n" + dump(doc)
    return text.replace("\n", newline) if newline != "\n" else text
