"""Tests for postrenderer.read.stream: splitting is lossless, rewriting keeps provenance."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from postrenderer.errors import InputError
from postrenderer.read import stream

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
    with pytest.raises(InputError, match=r"document 2 at line 2: malformed YAML at line 4, column \d+"):
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


def test_the_one_read_tells_the_format() -> None:
    """Helm 3 by Source lines, Helm 4 by the filename annotation, else plain."""
    from postrenderer.read.analysis import read
    from postrenderer.read.discovery import ComponentRules

    assert read(HELM3.encode(), ComponentRules()).format == "helm3"
    helm4 = f"kind: ConfigMap\nmetadata:\n  annotations:\n    {stream.HELM4_FILENAME}: agent/templates/a.yaml\n"
    assert read(helm4.encode(), ComponentRules()).format == "helm4"
    assert read(b"a: 1\n", ComponentRules()).format == "plain"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("---\n# Source: a/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n", "ConfigMap"),
        ("kind: Service # a comment\n", "Service"),
        ("---\r\nkind: Service\r\n", "Service"),
        ("kind: Service#x\n", None),  # the plain scalar is "Service#x"
        ('"kind": Deployment\nkind: Service\n', None),  # a second spelling of the key
        ("kind: Service\nkind : Deployment\n", None),
        ("kind: Service\n? kind\n: Deployment\n", None),
        ("kind: Service\n<<: {kind: Deployment}\n", None),
        ("--- {kind: Deployment}\n", None),
        ("  kind: Service\n", None),  # the document does not start at column 0
        ("kind: 'Service'\n", None),
        ("kind: !!str Service\n", None),
        ("kind: &k Service\n", None),
        ("metadata:\n  kind: Service\n", None),
        ("# only a comment\n", None),
    ],
)
def test_plain_kind(text: str, kind: str | None) -> None:
    """The kind is read from the text only when nothing else could be the document's kind."""
    assert stream.plain_kind(text) == kind


def outcome(action: Callable[[stream.Segment], object], segment: stream.Segment) -> tuple[str, ...]:
    """What an action did with a segment: ok, or the exception's type and message (any difference counts)."""
    try:
        action(segment)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return ("ok",)


@pytest.mark.parametrize(
    "body",
    [
        "data:\n  a: 1\n",
        "data:\n  a: [1\n",
        'data:\n  a: "x\n',
        "data:\n\ta: 1\n",
        "data:\n  a: !foo x\n",
        "data:\n  a: !!binary not-base64!\n",
        "data:\n  a: =\n",
        "data:\n  a: *nope\n",
        "data: &a\n  b: 1\nother: *a\n",
        "? [a]\n: b\n",
        "[a]: b\n",
        "{a: 1}: b\n",
        "<<: {a: 1}\n",
        "data:\n  n: 0x_\n",
        "data:\n  a: '\x07'\n",
        "data:\n  a: " + "[" * 300 + "]" * 300 + "\n",
        "a: 1\na: 2\n",
        "data:\n  script: |\n    #!/bin/sh\n    a && b || c != d\n    ls *.log ? x\n",
        "data:\n  a: 1\n...\n# trailing comment\n",
        "data:\n  a: 1\n---\nkind: Service\n",
    ],
)
def test_check_agrees_with_parse(body: str) -> None:
    """``check`` accepts exactly what ``parse`` accepts, and refuses in the same words."""
    segment = stream.Segment(3, "---\n# Source: a/cm.yaml\nkind: ConfigMap\n" + body, 10)
    assert outcome(stream.check, segment) == outcome(stream.parse, segment)


def test_plain_documents_build_like_the_constructor() -> None:
    """The direct builder gives the constructor's objects, and duplicate keys in its order."""
    text = "a: 1\nb:\n  c: [true, null, 1.5, 0o7, '1', ~]\n  c: x\n  d: {e: 2}\na: 3\nf: 2001-02-03\n"
    assert stream.plain_yaml(text)
    fast = stream.parse(stream.Segment(1, text, 1))
    loader = stream.Loader(text)
    assert fast == (loader.get_single_data(), loader.duplicate_keys)
    assert fast[1] == ["a (line 6)", "c (line 4)"]


@pytest.mark.parametrize("text", ["a: !x 1\n", "a: &x 1\n", "a: *x\n", "? a\n: b\n", "<<: {}\n", "[a]: b\n"])
def test_plain_yaml_leaves_out_features_only_construction_checks(text: str) -> None:
    """Tags, anchors, aliases, complex and merge keys are not plain YAML."""
    assert not stream.plain_yaml(text)


@pytest.mark.parametrize("text", ["a: '#!/bin/sh'\n", "a: b=c\n", "url: a?b\n", "a: /**/x\n", "a: x._\n"])
def test_plain_yaml_ignores_lookalikes(text: str) -> None:
    """The same characters inside a token do not count."""
    assert stream.plain_yaml(text)


def test_plain_yaml_errs_on_the_safe_side() -> None:
    """``a && b`` is not plain: an anchor could start at the second ``&`` (a full parse decides)."""
    assert not stream.plain_yaml("a: x && y\n")


DEPLOYMENT_PATHS = {("kind",), ("metadata",), ("spec", "template", "metadata")}


@pytest.mark.parametrize(
    "text",
    [
        "kind: Deployment\nmetadata:\n  name: a\n  labels: {x: 'y', n: 1, b: yes, z: ~}\n"
        "spec:\n  replicas: 2\n  template:\n    metadata:\n      labels: [1, {a: 2}]\n    spec: {c: [1, 2]}\n",
        "kind: Deployment\nspec:\n  template:\n    metadata: {a: 1}\nspec: 5\n",  # a later key wins
        "kind: Deployment\nmetadata:\n  name: [1, {a: null}]\nmetadata:\n  name: z\n",
        "kind: Deployment\nspec: {template: {metadata: {labels: {x: y}}}}\n",
        "kind: Deployment\nspec:\n  template: 3\n",
        "kind: Deployment\nmetadata:\n  annotations:\n    helm.sh/hook: test\n    a: |\n      text\n",
    ],
)
def test_sketch_reads_what_a_parse_reads(text: str) -> None:
    """Along the requested paths, a sketch holds what the parsed document holds."""
    segment = stream.Segment(1, text, 1)
    found = stream.sketch(segment, DEPLOYMENT_PATHS)
    doc, _ = stream.parse(segment)
    assert found is not None
    for path in DEPLOYMENT_PATHS:
        want: object = doc
        got: object = found
        for part in path:
            want = want.get(part) if isinstance(want, dict) else None
            got = got.get(part) if isinstance(got, dict) else None
        assert got == want, path
    assert "replicas" not in str(found) and "'c'" not in str(found)  # nothing off the paths


@pytest.mark.parametrize(
    "text",
    [
        "kind: Deployment\nspec:\n  template:\n    metadata: [\n",  # malformed: parse reports it
        "kind: Deployment\n---\nkind: Service\n",  # two documents
        "kind: Deployment\nmetadata: &m {a: 1}\nspec: *m\n",  # not plain YAML
        "- kind: Deployment\n",  # not a mapping
        "kind: Deployment\nspec: " + "[" * 201 + "]" * 201 + "\n",  # beyond the nesting limit
    ],
)
def test_sketch_leaves_the_rest_to_a_full_parse(text: str) -> None:
    """Anything but a plain, well-formed, single mapping document gives None."""
    assert stream.sketch(stream.Segment(1, text, 1), DEPLOYMENT_PATHS) is None


# What kubectl 1.37.1 printed for these plain scalars (`kubectl label --local -f FILE x- -o json`, 2026-12-01);
# tests/realclients/test_decoding.py checks the whole corpus against the real kubectl on every run.
KUBERNETES_READS = {
    "12:30": "12:30", "1:20:30": "1:20:30", "y": True, "Y": True, "n": False, "On": True, "yEs": "yEs",
    "1e3": 1000.0, "0o17": 15, "08": 8.0, "017": 15, "0x_1F": 31, "0b101": 5, "-0b101": -5, "1_000": 1000,
    "1__0": 10, "+12": 12, ".5": 0.5, "+.5": 0.5, "1.": 1.0, "-0": 0, "=": "=", "<<": "<<", "2001-12-14": "2001-12-14",
    "~": None, "": None, "99999999999999999999": 1e20, "0x": "0x",
}


@pytest.mark.parametrize(("plain", "value"), sorted(KUBERNETES_READS.items()))
def test_plain_scalars_read_as_kubernetes_reads_them(plain: str, value: object) -> None:
    """No sexagesimal numbers, timestamps or ``=`` values; ``y``, ``1e3``, ``0o17`` and ``08`` as Kubernetes."""
    doc, _ = stream.parse(stream.Segment(1, f"k: {plain}\n", 1))
    assert doc["k"] == value and type(doc["k"]) is type(value)


def test_merge_keys_merge_and_a_merge_value_is_text() -> None:
    """``<<`` as a key merges (as Kubernetes does); as a value it is the string ``<<``."""
    doc, _ = stream.parse(stream.Segment(1, "a: {<<: {x: 1}, z: 2}\nb: <<\n", 1))
    assert doc == {"a": {"x": 1, "z": 2}, "b": "<<"}


def test_byte_order_mark_after_a_marker_is_read_like_kubectl() -> None:
    """kubectl accepts a BOM right after ``---``; olrender reads past it and keeps it in the text."""
    segment = stream.split("a: 1\n---\n\ufeffb: 2\n")[1]
    assert segment.bom == 4 and segment.text == "---\n\ufeffb: 2\n"
    assert stream.parse(segment)[0] == {"b": 2}
    misplaced = stream.split("a: 1\n\ufeff---\nb: 2\n")[0]
    with pytest.raises(InputError, match=r"byte order mark \(U\+FEFF\) at line 2"):
        stream.parse(misplaced)
