"""The one budgeted reader (postrenderer/read/reader.py): every parse goes through it, and it keeps its budgets.

The scan reads the package's source (AST): no module but the reader calls a
YAML or JSON parser. The properties generate nesting and alias shapes and check
that the reader either reads them or refuses them with ``TooLarge``, never with
``RecursionError`` or a crash, and that the limits are exact.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from postrenderer.read import reader
from tests.budget import examples

PACKAGE = Path(__file__).resolve().parent.parent / "postrenderer"
PARSERS = {
    "yaml": {"load", "safe_load", "full_load", "unsafe_load", "load_all", "safe_load_all", "full_load_all",
             "unsafe_load_all", "parse", "compose", "compose_all", "scan", "Loader", "SafeLoader", "CSafeLoader",
             "CLoader", "FullLoader", "UnsafeLoader", "BaseLoader", "CBaseLoader", "CParser"},
    "json": {"loads", "load", "JSONDecoder"},
}
# parses outside the reader that are known and not input: olrender's own plugin.yaml, read by the cli for --version
# of the Helm plugin (to move to the reader with the cli's next change)
KNOWN: set[tuple[str, str]] = set()  # (module, call) pairs allowed to parse directly: none


def direct_parses(source: str) -> list[str]:
    """The YAML and JSON parser calls (and parser classes) a module's source uses directly."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.attr in PARSERS.get(node.value.id, ()):
                found.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PARSERS:
            module = (node.module or "").split(".")[0]
            found += [f"{module}.{alias.name}" for alias in node.names if alias.name in PARSERS[module]]
    return found


def test_the_scan_finds_parses() -> None:
    """The scan is not blind: each way of calling a parser is found."""
    source = "from yaml._yaml import CParser\nyaml.safe_load(t)\njson.loads(t)\nyaml.CSafeLoader(t)\n"
    assert direct_parses(source) == ["yaml.CParser", "yaml.safe_load", "json.loads", "yaml.CSafeLoader"]


def test_only_the_reader_parses() -> None:
    """No module of the package but read/reader.py calls yaml.load/safe_load/parse/compose, json.loads or a parser."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name == "read/reader.py":
            continue
        offenders += [(name, call) for call in direct_parses(path.read_text()) if (name, call) not in KNOWN]
    assert offenders == []
    assert direct_parses((PACKAGE / "read" / "reader.py").read_text())  # (the reader itself is seen by the scan)


def nested_yaml(depth: int, block: int, style: list[str]) -> str:
    """A document nested depth levels deep: block mappings for the outer block levels, then flow lists and maps."""
    block = max(1, min(block, depth))
    lines = "".join(" " * (2 * i) + f"k{i}:\n" for i in range(block - 1))
    inner = "x"
    for level in range(depth - block):
        inner = f"[{inner}]" if style[level % len(style)] == "[" else f"{{k: {inner}}}"
    return lines + " " * (2 * (block - 1)) + f"k{block - 1}: {inner}\n"


@settings(max_examples=examples(80), deadline=None, derandomize=True)
@given(st.integers(reader.MAX_DEPTH - 10, reader.MAX_DEPTH + 10), st.integers(1, 250),
       st.lists(st.sampled_from("[{"), min_size=1, max_size=4))
def test_depth_is_exact(depth: int, block: int, style: list[str]) -> None:
    """Up to MAX_DEPTH levels, in block or flow style, are read; one more is TooLarge, never a crash."""
    text = nested_yaml(depth, block, style)
    try:
        doc, _ = reader.load(text)
    except reader.TooLarge as exc:
        assert depth > reader.MAX_DEPTH, (depth, block, style)
        assert f"nested more than {reader.MAX_DEPTH} levels deep" in str(exc)
    else:
        assert depth <= reader.MAX_DEPTH and isinstance(doc, dict)


@settings(max_examples=examples(40), deadline=None, derandomize=True)
@given(st.integers(1, 9), st.integers(2, 12), st.booleans())
def test_aliases_are_counted_expanded(levels: int, fan: int, client: bool) -> None:
    """An alias bomb of any shape is read when it expands within the budget, and refused (quickly) when not."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan) + "]" for i in range(1, levels)]
    expanded = sum(fan ** (i + 1) for i in range(levels))  # (the lists' items, about)
    try:
        reader.load("\n".join(lines) + "\n", client=client)
    except reader.TooLarge as exc:
        assert expanded > reader.MAX_EXPANDED_NODES // 2, (levels, fan)
        assert "YAML aliases expand to" in str(exc)
    else:
        assert expanded <= 2 * reader.MAX_EXPANDED_NODES, (levels, fan)


@settings(max_examples=examples(60), deadline=None, derandomize=True)
@given(st.integers(1, 2_000), st.lists(st.sampled_from(["[", "{"]), min_size=1, max_size=3),
       st.text(alphabet='[]{}"\\ ab', max_size=12))
def test_json_depth_is_exact(depth: int, style: list[str], noise: str) -> None:
    """JSON up to MAX_DEPTH levels is read like json.loads; deeper is TooLarge, never RecursionError."""
    opening = "".join(style[i % len(style)] + ('"k": ' if style[i % len(style)] == "{" else "") for i in range(depth))
    closing = "".join("}" if style[i % len(style)] == "{" else "]" for i in reversed(range(depth)))
    text = opening + json.dumps(noise) + closing
    if depth <= reader.MAX_DEPTH:
        assert reader.load_json(text) == json.loads(text)
    else:
        with pytest.raises(reader.TooLarge, match=f"nested more than {reader.MAX_DEPTH} levels deep"):
            reader.load_json(text)


def test_an_alias_inside_itself_is_refused() -> None:
    """``a: &a [*a]`` is a cycle, endless once expanded: TooLarge, not RecursionError."""
    with pytest.raises(reader.TooLarge, match="nesting too deep to process"):
        reader.load("a: &a [*a]\n")


def test_client_reading_follows_pyyaml() -> None:
    """``client=True`` resolves as the OpenLineage client's yaml.safe_load does; the default as Kubernetes does."""
    text = "a: 12:30\nb: y\nc: 1e3\n"
    assert reader.load(text, client=True)[0] == yaml.safe_load(text)
    assert reader.load(text)[0] == {"a": "12:30", "b": True, "c": 1000.0}


def test_tagged_merge_reads_as_merge() -> None:
    """An explicit ``!!merge <<`` key is a merge key, as Kubernetes reads it; its events show it plain."""
    assert reader.load("a: {!!merge <<: {b: 1}, c: 2}\n")[0] == {"a": {"b": 1, "c": 2}}
    parser = reader.EventParser("- !!merge <<: {b: 1}\n")
    keys = []
    while (event := parser.get_event()) is not None:
        if isinstance(event, yaml.ScalarEvent):
            keys.append((event.value, event.tag, event.implicit[0]))
    assert keys[0] == ("<<", None, True)
