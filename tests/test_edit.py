"""Tests for postrenderer.write.edit: operations land in the text in place, and new nodes read back as written.

Kubernetes' own reading of the results is checked through the real kubectl in
tests/realclients/test_decoding.py; these tests pin the text olrender writes.
"""

from __future__ import annotations

import copy
import re
import sys
from typing import Any

import jsonpatch
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from postrenderer.read import stream
from postrenderer.write import edit, yamlout
from tests.budget import examples

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment   # note
metadata:
  name: x
  labels: {app: a}
spec:
  template:
    spec:
      containers:
        - name: agent   # main
          image: "img:1"   # pinned
          env:
            - {name: A, value: "y"}
            - name: T
              value: 12:30
        - name: side
          args: [a, b]
"""


def load(text: str) -> Any:
    """A document as olrender reads it."""
    return stream.load(text)[0]


def inserted_lines(before: str, after: str) -> list[str]:
    """The lines after holds beyond before, asserting that nothing else changed."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added: list[str] = []
    i = 0
    for line in new:
        if i < len(old) and line == old[i]:
            i += 1
        else:
            added.append(line)
    assert i == len(old), f"lines changed or lost: {old[i:]}"
    return added


def test_append_to_block_sequence_in_its_own_style() -> None:
    """A new env entry follows the last one, at its indentation, with safe quoting; nothing else moves."""
    op = {"op": "add", "path": "/spec/template/spec/containers/0/env/-",
          "value": {"name": "OPENLINEAGE_URL", "value": "https://o11y.example"}}
    out = edit.apply(DEPLOYMENT, [op])
    assert inserted_lines(DEPLOYMENT, out) == [
        "            - name: OPENLINEAGE_URL\n",
        '              value: "https://o11y.example"\n',
    ]
    assert load(out) == jsonpatch.apply_patch(load(DEPLOYMENT), [op])


def test_append_to_flow_collections_before_the_bracket() -> None:
    """Flow sequences and mappings take the new item inside their brackets."""
    ops = [{"op": "add", "path": "/metadata/labels/extra", "value": "y"},
           {"op": "add", "path": "/spec/template/spec/containers/1/args/-", "value": "c d"}]
    out = edit.apply(DEPLOYMENT, ops)
    assert '  labels: {app: a, extra: "y"}\n' in out
    assert '          args: [a, b, "c d"]\n' in out
    assert load(out) == jsonpatch.apply_patch(load(DEPLOYMENT), ops)


def test_new_keys_and_lists_in_the_document_style() -> None:
    """A missing env list and a missing metadata mapping are added as blocks at the right columns."""
    ops = [{"op": "add", "path": "/spec/template/spec/containers/1/env", "value": [{"name": "Q", "value": "1e3"}]},
           {"op": "add", "path": "/spec/template/metadata", "value": {"annotations": {"checksum/x": "0123"}}}]
    out = edit.apply(DEPLOYMENT, ops)
    assert inserted_lines(DEPLOYMENT, out) == [
        "          env:\n", "            - name: Q\n", '              value: "1e3"\n',
        "    metadata:\n", "      annotations:\n", '        checksum/x: "0123"\n',
    ]
    assert load(out) == jsonpatch.apply_patch(load(DEPLOYMENT), ops)


def test_compact_sequences_stay_compact() -> None:
    """A document whose sequences sit level with their key gets new sequences written the same way."""
    text = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: i\n"
    out = edit.apply(text, [{"op": "add", "path": "/spec/containers/0/env", "value": [{"name": "A", "value": "b"}]}])
    assert out == text + "    env:\n    - name: A\n      value: b\n"


@pytest.mark.parametrize(
    ("value_text", "expected"),
    [
        ("env:\n", 'env:\n  - name: A\n    value: "1"\n'),
        ("env: ~\n", 'env:\n  - name: A\n    value: "1"\n'),
        ("env:   # none yet\n", 'env:   # none yet\n  - name: A\n    value: "1"\n'),
        ("env: []\n", 'env: [{name: A, value: "1"}]\n'),
    ],
)
def test_a_null_or_empty_list_takes_the_new_items(value_text: str, expected: str) -> None:
    """``env:`` with nothing, ``~``, a comment or ``[]`` becomes a list holding the entry."""
    text = "kind: Pod\nspec:\n  containers:\n    - name: a\n      " + value_text.replace("\n", "\n      ", 0)
    doc = load(text)
    current = doc["spec"]["containers"][0]["env"]
    op = ({"op": "add", "path": "/spec/containers/0/env", "value": [{"name": "A", "value": "1"}]} if current is None
          else {"op": "add", "path": "/spec/containers/0/env/-", "value": {"name": "A", "value": "1"}})
    out = edit.apply(text, [op])
    head = "kind: Pod\nspec:\n  containers:\n    - name: a\n      "
    assert out == head + expected.replace("\n  ", "\n        ")
    assert load(out) == jsonpatch.apply_patch(doc, [op])


def test_replace_keeps_the_rest_of_the_line() -> None:
    """Replacing a scalar changes only its span: the comment after it stays."""
    text = "kind: Pod\nmetadata:\n  annotations:\n    a: old   # why\n"
    out = edit.apply(text, [{"op": "replace", "path": "/metadata/annotations/a", "value": "new"}])
    assert out == "kind: Pod\nmetadata:\n  annotations:\n    a: new   # why\n"


def test_replace_and_remove_sequence_items() -> None:
    """Under --overwrite an item is rewritten where it was; removing all items leaves an empty list."""
    text = "kind: Pod\nspec:\n  env:\n    - name: A\n      value: a\n    - name: A\n      value: b\n"
    ops = [{"op": "replace", "path": "/spec/env/1", "value": {"name": "A", "value": "c"}},
           {"op": "remove", "path": "/spec/env/0"}]
    out = edit.apply(text, ops)
    assert out == "kind: Pod\nspec:\n  env:\n    - name: A\n      value: c\n"
    emptied = edit.apply(out, [{"op": "remove", "path": "/spec/env/0"}])
    assert emptied == "kind: Pod\nspec:\n  env: []\n"
    assert load(emptied) == {"kind": "Pod", "spec": {"env": []}}


def test_crlf_and_block_scalars_survive() -> None:
    """New lines use the document's line break; a block scalar before the insertion point is left whole."""
    text = "kind: ConfigMap\r\ndata:\r\n  script: |\r\n    one\r\n\r\n    two\r\n"
    out = edit.apply(text, [{"op": "add", "path": "/data/x", "value": "y"}], "\r\n")
    assert out == text + '  x: "y"\r\n'
    assert load(out)["data"] == {"script": "one\n\ntwo\n", "x": "y"}


def test_operations_inside_a_new_value() -> None:
    """An operation into a node olrender added edits that value (as JSON patch would)."""
    text = "kind: Secret\nmetadata:\n  name: s\n"
    ops = [{"op": "add", "path": "/data", "value": {}}, {"op": "add", "path": "/data/k", "value": "dg=="}]
    out = edit.apply(text, ops)
    assert out == text + 'data:\n  k: "dg=="\n'


@pytest.mark.parametrize(
    ("text", "path", "anchor"),
    [
        ("kind: Pod\nspec:\n  containers:\n    - &main {name: agent, env: []}\n    - {<<: *main, name: side}\n",
         "/spec/containers/0/env/-", "&main"),
        ("kind: Pod\nspec:\n  containers:\n    - {<<: {name: x, env: []}, name: agent}\n",
         "/spec/containers/0/env/-", "<< merge"),
        ("kind: List\nitems:\n  - &d {kind: Pod, spec: {containers: [{name: a, env: []}]}}\n  - *d\n",
         "/items/1/spec/containers/0/env/-", "*d"),
    ],
)
def test_anchors_aliases_and_merges_on_the_path_are_refused(text: str, path: str, anchor: str) -> None:
    """An edit Kubernetes would spread to another place (or that has no place in the text) is refused."""
    with pytest.raises(edit.EditError, match=rf"olrender would edit {re.escape(path)}.*{re.escape(anchor)}.*Write"):
        edit.apply(text, [{"op": "add", "path": path, "value": {"name": "A", "value": "b"}}])


def test_anchors_elsewhere_do_not_matter() -> None:
    """An anchor off the edited path (a sidecar's own settings) stays and keeps working."""
    text = ("kind: Pod\nspec:\n  containers:\n    - name: agent\n      env: []\n"
            "    - name: side\n      resources: &r {limits: {cpu: 1}}\n    - name: side2\n      resources: *r\n")
    op = {"op": "add", "path": "/spec/containers/0/env/-", "value": {"name": "A", "value": "b"}}
    out = edit.apply(text, [op])
    assert load(out) == jsonpatch.apply_patch(load(text), [op])


@pytest.mark.parametrize(
    "value",
    ["y", "N", "on", "Off", "yes", "true", "null", "~", "", "1e3", "0o17", "08", "+.5", "12:30", "1:20:30", ".inf",
     "-.inf", ".NaN", "=", "<<", "2001-12-14", "0x1F", "1_000", "-", "- a", "a: b", "#x", "x #y", "'q'", '"q"', "@a",
     "`a", "%a", "!a", "&a", "*a", "|", ">", "[a]", "{a}", "a,b", " lead", "trail ", "tab\there", "é", "\x85", "\u2028",
     "\ufeff", "\x7f", "\x00", "\U0001f600", "multi\nline", "multi\nline\n", "multi\n\n", "\nlead", "  \nx",
     "x\n  y\n", "crlf\r\n", "a\\b"],
)
def test_every_new_scalar_reads_back_as_the_string(value: str) -> None:
    """Whatever the string, the written scalar is read back as exactly that string (flow and block)."""
    block = "kind: ConfigMap\ndata:\n  a: b\n"
    out = edit.apply(block, [{"op": "add", "path": "/data/v", "value": value}])
    assert load(out)["data"]["v"] == value
    flow = "kind: ConfigMap\ndata: {a: b}\nlist: [x]\n"
    out = edit.apply(flow, [{"op": "add", "path": "/data/v", "value": value},
                            {"op": "add", "path": "/list/-", "value": value}])
    assert load(out)["data"]["v"] == value and load(out)["list"][1] == value


def test_plain_scalars_only_where_no_resolver_disagrees() -> None:
    """Words, paths and dotted names stay plain; anything a resolver could read otherwise is quoted."""
    assert [edit.scalar(v) for v in ("api-key", "/vault/secrets", "a.b_c", "Memory")] == [
        "api-key", "/vault/secrets", "a.b_c", "Memory"]
    assert [edit.scalar(v) for v in ("y", "True", "1e3", "0123", "12:30", "a b")] == [
        '"y"', '"True"', '"1e3"', '"0123"', '"12:30"', '"a b"']
    assert [edit.scalar(v) for v in (True, None, 100)] == ["true", "null", "100"]


def test_escaped_characters_are_exactly_yaml_non_printables_and_breaks() -> None:
    """The writer's classes are YAML's non-printables plus NEL, LS, PS and BOM, checked at every code point."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    printable = "\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"  # (YAML 1.1 c-printable, without NEL)
    for written, allowed in ((yamlout._ESCAPE_RE, ""), (yamlout._LITERAL_UNSAFE_RE, "\n")):
        spec = re.compile(f"[^{allowed}{printable}]|[\x85\u2028\u2029\ufeff]")
        assert [m.start() for m in re.finditer(written, every)] == [m.start() for m in spec.finditer(every)]


TEXT = st.text(st.sampled_from(list("ab -:#'\"|>?&*!\n\t%@`{}[],é0.e\\")), max_size=12)
VALUES = st.recursive(  # (integers Go's int64 holds: larger ones Kubernetes reads as floats)
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=examples(300), deadline=None)
@given(st.dictionaries(TEXT, VALUES, min_size=1, max_size=5), st.booleans())
def test_new_documents_read_back_as_written(doc: dict[str, Any], indented: bool) -> None:
    """``edit.document`` writes any data so that it reads back equal, in both sequence styles."""
    text = edit.document(doc, style=edit.Style(2, 2 if indented else 0))
    assert load(text) == doc


@settings(max_examples=examples(300), deadline=None)
@given(VALUES, st.sampled_from(["/spec/containers/0/env/-", "/spec/containers/0/env", "/metadata/annotations/k",
                                "/spec/extra", "/spec/containers/0/args/-", "/spec/containers/-"]))
def test_any_value_lands_as_json_patch_would_put_it(value: Any, path: str) -> None:
    """Adding any value at the places the plan uses gives the document JSON patch gives (as olrender reads it)."""
    text = ("kind: Pod\nmetadata:\n  annotations: {a: b}\nspec:\n  containers:\n    - name: agent\n"
            "      env:\n        - name: A\n          value: a\n      args: [x]\n")
    op = {"op": "add", "path": path, "value": copy.deepcopy(value)}
    assert load(edit.apply(text, [op])) == jsonpatch.apply_patch(load(text), [op])


def test_unreadable_text_is_not_guessed() -> None:
    """A document that is no mapping is refused rather than edited."""
    with pytest.raises(edit.EditError):
        edit.apply("- a\n", [{"op": "add", "path": "/0", "value": 1}])
    with pytest.raises(yaml.YAMLError):
        edit.apply("a: [\n", [{"op": "add", "path": "/b", "value": 1}])


def test_replacing_a_mapping_rewrites_only_what_differs() -> None:
    """--overwrite of an env entry keeps its name line, its comments and its quoting; only the value changes."""
    text = ("kind: Pod\nspec:\n  env:\n    - name: OPENLINEAGE_URL   # from the chart\n"
            "      value: 'https://old.example'  # old\n    - {name: B, value: 'b'}\n")
    ops = [{"op": "replace", "path": "/spec/env/0", "value": {"name": "OPENLINEAGE_URL", "value": "https://new"}},
           {"op": "replace", "path": "/spec/env/1", "value": {"name": "B", "value": "b"}}]
    out = edit.apply(text, ops)
    assert out == text.replace("'https://old.example'", '"https://new"')
    assert load(out) == jsonpatch.apply_patch(load(text), ops)


def test_an_edit_then_a_replace_of_its_container_follows_json_patch() -> None:
    """A replace after an edit inside the same node wins, also when it restores the original."""
    text = "kind: Pod\nspec:\n  env:\n    - name: A\n      value: a\n"
    ops = [{"op": "add", "path": "/spec/env/0/extra", "value": "x"},
           {"op": "replace", "path": "/spec/env/0", "value": {"name": "A", "value": "a"}}]
    assert load(edit.apply(text, ops)) == jsonpatch.apply_patch(load(text), ops)


# Issue 18's shapes, edited directly: each reads back as the input plus the operations, and only lines are added
# where the layout allows it (block style); tests/realclients/test_layouts.py runs the same shapes through kubectl.
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
INIT = {"name": "vault-agent", "image": "hashicorp/vault:2"}
VOLUME = {"name": "vault-home", "emptyDir": {"medium": "Memory"}}
ENTRY = {"name": "OPENLINEAGE_URL", "value": "https://o11y.example"}
MOUNT = {"name": "vault-home", "mountPath": "/home/vault"}
SHAPES = {
    "volumes last, empty": (
        POD + "  containers:\n    - name: agent\n      image: i\n  volumes:\n",
        [{"op": "add", "path": "/spec/volumes", "value": [VOLUME]},
         {"op": "add", "path": "/spec/initContainers", "value": [INIT]}], True),
    "initContainers last, empty": (
        POD + "  containers:\n    - name: agent\n      image: i\n  initContainers:\n",
        [{"op": "add", "path": "/spec/volumes", "value": [VOLUME]},
         {"op": "add", "path": "/spec/initContainers", "value": [INIT]}], True),
    "env last, empty": (
        POD + "  containers:\n    - name: agent\n      image: i\n      env:\n",
        [{"op": "add", "path": "/spec/containers/0/env", "value": [ENTRY]},
         {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [MOUNT]}], True),
    "flow, empty value last": (
        POD.replace("spec:\n", "spec: {containers: [{name: agent, image: i}], volumes: }\n"),
        [{"op": "add", "path": "/spec/volumes", "value": [VOLUME]},
         {"op": "add", "path": "/spec/initContainers", "value": [INIT]}], False),
    "explicit key first in a container": (
        POD + "  containers:\n    - ? name\n      : agent\n      image: i\n",
        [{"op": "add", "path": "/spec/containers/0/env", "value": [ENTRY]}], True),
    "CR-only line ends": (
        (POD + "  containers:\n    - name: agent\n      env:\n        - {name: A, value: b}\n").replace("\n", "\r"),
        [{"op": "add", "path": "/spec/containers/0/env/-", "value": ENTRY}], True),
    "a comment after the first dash of env": (
        POD + "  containers:\n    - name: agent\n      env:\n        - # the first\n          name: A\n"
              "          value: b\n",
        [{"op": "add", "path": "/spec/containers/0/env/-", "value": ENTRY}], True),
    "% at column 0 in a quoted scalar": (
        POD + '  containers:\n    - name: agent\n      args: ["a\n%b"]\n',
        [{"op": "add", "path": "/spec/containers/0/env", "value": [ENTRY]}], True),
    "? env beside the vendor fileRef, repaired": (
        POD + "  containers:\n    - name: agent\n      ? env\n      : - name: OPENLINEAGE_API_KEY\n"
              "          valueFrom:\n            fileRef: {path: /vault/secrets/key}\n        - name: TZ\n"
              "          value: UTC\n",
        [{"op": "replace", "path": "/spec/containers/0/env/0", "value": {
            "name": "OPENLINEAGE_API_KEY",
            "valueFrom": {"fileKeyRef": {"volumeName": "v", "path": "ol.env", "key": "OPENLINEAGE_API_KEY"}}}}],
        False),
    "? env beside the vendor fileRef, removed": (
        POD + "  containers:\n    - name: agent\n      ? env\n      : - name: OPENLINEAGE_API_KEY\n"
              "          valueFrom:\n            fileRef: {path: /vault/secrets/key}\n",
        [{"op": "remove", "path": "/spec/containers/0/env/0"},
         {"op": "add", "path": "/spec/containers/0/env/-", "value": ENTRY}], False),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_issue_18_shapes_read_back_as_input_plus_operations(name: str) -> None:
    """Each shape of issue 18's silent damage, edited in place: reads as jsonpatch puts it, and verify agrees."""
    from postrenderer.write import verify

    text, ops, only_insertions = SHAPES[name]
    out = edit.apply(text, ops)
    expected = jsonpatch.apply_patch(load(text), ops)
    assert load(out) == expected
    verify.check(text, out, expected)
    if only_insertions:
        inserted_lines(text.replace("\r", "\n"), out.replace("\r", "\n"))
    assert ("\r" in out) == ("\r" in text) and ("\n" in out) == ("\n" in text), "line ends as they were"
    assert edit.apply(out, []) == out


def test_a_bom_at_the_stream_start_stays_first_and_the_edit_lines_up() -> None:
    """A BOM before a component: the output keeps it first, and the inserted lines sit at the document's columns."""
    from tests import programs
    from tests.test_pipeline import SETTINGS

    data = b"\xef\xbb\xbf" + (POD.replace("name: p", "name: agent-worker-x") + "  containers:\n    - name: agent\n"
                              "      env:\n        - {name: A, value: b}\n").encode()
    result = programs.render(data, SETTINGS)
    text = result.output.decode()
    assert text.startswith("\ufeff")
    ((_, ops),) = result.plan.ops.items()
    assert load(text[1:].split("---")[0]) == jsonpatch.apply_patch(load(data.decode()[1:]), ops)
    assert "\n        - name: OPENLINEAGE_API_KEY\n" in text


def test_verify_names_the_pointer_the_line_and_the_fix_never_a_value() -> None:
    """verify.check's refusal: where Kubernetes would read differently, which line, what to do; no value."""
    from postrenderer.write import verify

    secret = "sk-test-never-shown-0123456789"
    text = POD + "  containers:\n    - name: agent\n      env:\n        - {name: A, value: b}\n"
    expected = jsonpatch.apply_patch(load(text), [
        {"op": "add", "path": "/spec/containers/0/env/-", "value": {"name": "OPENLINEAGE_API_KEY", "value": secret}}])
    with pytest.raises(edit.EditError) as caught:
        verify.check(text, text, expected, first_line=20)
    message = str(caught.value)
    assert message.startswith("after olrender's edit, Kubernetes would read /spec/containers/0/env differently from "
                              "the plan: it is read with 1 items instead of 2 (the edit at line 27); ")
    assert verify.FIX in message and secret not in message and "OPENLINEAGE_API_KEY" not in message
    wrong = text.replace("value: b", f"value: {secret}")
    with pytest.raises(edit.EditError, match=r"/spec/containers/0/env/0/value differently .* read with another "
                       r"value \(the edit at line \d+\)") as caught:
        verify.check(text, wrong, load(text))
    assert secret not in str(caught.value)
    with pytest.raises(edit.EditError, match=r"/spec/containers/0/env/0 differently .* is read as a string instead "
                       r"of a mapping"):
        verify.check(text, text.replace("{name: A, value: b}", "x"), load(text))
    with pytest.raises(edit.EditError, match=r"^the edited document would not be valid YAML at line 10; .*plain "
                       r"block style"):
        verify.check(text, text + "  : [\n", load(text))
