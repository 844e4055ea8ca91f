"""Tests for postrenderer.stream: splitting is lossless, rewriting keeps provenance."""

from __future__ import annotations

import pytest

from postrenderer import stream
from postrenderer.errors import InputError

HELM3 = (
    "---\n# Source: agent/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    "data:\n  x: |\n    one\n    ---\n    two\n"
    "---\n# Source: agent/templates/b.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n"
)


def texts(text: str) -> list[str]:
    """The segment texts of a stream."""
    return [s.text for s in stream.split(text)]


@pytest.mark.parametrize(
    "text",
    [
        HELM3,
        "a: 1\n---\nb: 2\n",
        "a: 1\n---\nb: 2",
        "# lead comment\n---\na: 1\n",
        "---\n---\na: 1\n---\n",
        "a: 1\n...\n---\nb: 2\n...\n",
        "%YAML 1.1\n---\na: 1\n...\n%YAML 1.1\n---\nb: 2\n",
        "a: 1\r\n---\r\nb: 2\r\n",
        "",
        "\n\n",
        "--- |\n  block at top\n---\nb: 2\n",
    ],
)
def test_split_is_lossless(text: str) -> None:
    """Joining the segments gives back the input exactly."""
    assert "".join(texts(text)) == text


def test_split_ignores_indented_markers() -> None:
    """An indented ``---`` inside a block scalar does not start a document."""
    segments = stream.split(HELM3)
    assert len(segments) == 2
    doc, _ = stream.parse(segments[0])
    assert doc["data"]["x"] == "one\n---\ntwo\n"


def test_split_keeps_leading_comments_with_first_document() -> None:
    """Comments before the first ``---`` belong to the first document."""
    assert texts("# lead\n---\na: 1\n---\nb: 2\n") == ["# lead\n---\na: 1\n", "---\nb: 2\n"]


def test_split_keeps_empty_documents_apart() -> None:
    """Each ``---`` of an empty document is its own segment."""
    assert texts("---\n---\na: 1\n") == ["---\n", "---\na: 1\n"]


def test_split_directive_belongs_to_next_document() -> None:
    """A ``%YAML`` directive travels with the document it introduces."""
    assert texts("a: 1\n...\n%YAML 1.1\n---\nb: 2\n") == ["a: 1\n...\n", "%YAML 1.1\n---\nb: 2\n"]


def test_segment_lines_count_from_stream_start() -> None:
    """Segments know the stream line they start on, for error messages."""
    assert [s.line for s in stream.split("a: 1\n---\nb: 2\n---\nc: 3\n")] == [1, 2, 4]


def test_parse_reports_document_and_line() -> None:
    """Malformed YAML names the document and the stream line."""
    segments = stream.split("a: 1\n---\nb: [1, 2\nc: 3\n")
    with pytest.raises(InputError, match=r"document 2: malformed YAML at line \d+"):
        stream.parse(segments[1])


def test_parse_keeps_timestamps_as_text() -> None:
    """Dates stay strings, so a rewrite cannot change their spelling."""
    doc, _ = stream.parse(stream.Segment(1, "d: 2024-01-01\n", 1))
    assert doc == {"d": "2024-01-01"}


def test_parse_notes_duplicate_keys() -> None:
    """Duplicate mapping keys are reported, not silently dropped."""
    _, duplicates = stream.parse(stream.Segment(1, "a: 1\na: 2\n", 1))
    assert duplicates == ["a (line 2)"]


def test_parse_refuses_alias_bombs() -> None:
    """A document that expands aliases many times is refused."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in "bcdefghi":
        prev = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(InputError, match="aliases"):
        stream.parse(stream.Segment(1, "\n".join(lines) + "\n", 1))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfea\x00", "UTF-16"),
        (b"a: 1\nb: \x00\n", "NUL byte at line 2"),
        (b"a: 1\nb: \xc3\x28\n", "not valid UTF-8"),
    ],
)
def test_decode_refuses_non_utf8(data: bytes, message: str) -> None:
    """Only UTF-8 text is accepted, and the message says why."""
    with pytest.raises(InputError, match=message):
        stream.decode(data)


def test_rewrite_keeps_source_line_and_key_order() -> None:
    """A changed document keeps its ``---``/``# Source:`` header and key order."""
    segment = stream.split(HELM3)[1]
    doc, _ = stream.parse(segment)
    doc["metadata"]["labels"] = {"x": "y"}
    out = stream.rewrite(segment, doc)
    assert out.startswith("---\n# Source: agent/templates/b.yaml\napiVersion: v1\nkind: Service\n")
    assert out.endswith("metadata:\n  name: b\n  labels:\n    x: y\n")


def test_rewrite_uses_block_scalars_for_multiline_text() -> None:
    """Multi-line strings stay readable block scalars."""
    segment = stream.split(HELM3)[0]
    doc, _ = stream.parse(segment)
    assert "  x: |\n    one\n    ---\n    two\n" in stream.rewrite(segment, doc)


def test_rewrite_adds_marker_when_first_line_was_content() -> None:
    """A later document without a bare ``---`` line still gets one."""
    segments = stream.split("a: 1\n--- {b: 2}\n")
    assert stream.rewrite(segments[1], {"b": 3}) == "---\nb: 3\n"


def test_rewrite_keeps_crlf() -> None:
    """A CRLF document stays CRLF."""
    segment = stream.split("a: 1\r\n---\r\nb: 2\r\n")[1]
    assert stream.rewrite(segment, {"b": 3}) == "---\r\nb: 3\r\n"


def test_rewrite_keeps_document_end_marker() -> None:
    """An explicit ``...`` survives a rewrite."""
    segment = stream.split("---\na: 1\n...\n")[0]
    assert stream.rewrite(segment, {"a": 2}) == "---\na: 2\n...\n"


def test_detect_format() -> None:
    """Helm 3 by Source lines, Helm 4 by the filename annotation, else plain."""
    assert stream.detect_format(stream.split(HELM3), []) == "helm3"
    helm4 = {"metadata": {"annotations": {stream.HELM4_FILENAME: "agent/templates/a.yaml"}}}
    assert stream.detect_format(stream.split("a: 1\n"), [helm4]) == "helm4"
    assert stream.detect_format(stream.split("a: 1\n"), [{"a": 1}]) == "plain"


def test_new_document_provenance() -> None:
    """Added documents carry provenance in the stream's own format."""
    doc = {"kind": "Secret", "metadata": {"name": "s"}}
    assert stream.new_document(dict(doc), "olrender/s.yaml", "helm3").startswith(
        "---\n# Source: olrender/s.yaml\nkind: Secret\n"
    )
    helm4 = stream.new_document({"kind": "Secret", "metadata": {"name": "s"}}, "olrender/s.yaml", "helm4")
    assert f"    {stream.HELM4_FILENAME}: olrender/s.yaml\n" in helm4
    assert "# Source" not in helm4
    assert stream.new_document({"kind": "Secret"}, "olrender/s.yaml", "plain") == "---\nkind: Secret\n"
