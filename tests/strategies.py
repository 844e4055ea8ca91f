"""Hypothesis strategies for agent components written in the YAML layouts Kubernetes accepts.

``components()`` draws a worker Deployment or StatefulSet (the chart's labels,
so olrender edits it) and writes it with a layout drawn node by node: block or
flow collections; null written as nothing, ``~`` or ``null``, empty lists as
``[]``, at every position the plan edits (``env``, ``volumeMounts``,
``volumes``, ``initContainers``); keys in any order (the edited key first,
in the middle or last); explicit keys (``? name`` / ``: agent``); comments
after keys, after dashes (``- # note``) and on lines of their own;
indentation steps of 2 to 4 with indented or indentless sequences; and, for
the whole text, a UTF-8 byte order mark (before a plain key: kubectl refuses
one before a comment or a ``?``) and LF, CRLF or CR line ends:

    kind: Deployment                    {containers: [{name: agent, env: }], volumes: }
    spec:                               - ? name
      template:                           : agent
        spec:                           - # the agent
          containers:                     name: agent
          - name: agent
            env:

Only valid shapes are drawn: every text is one kubectl decodes.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

LABELS = {"app": "astro-agent", "component": "worker"}
NULL_SPELLINGS = ["", " ~", " null"]


class Layout:
    """The document-wide choices: indentation step and whether sequences are indentless."""

    def __init__(self, step: int, indentless: bool) -> None:
        self.step, self.indentless = step, indentless


def _value(draw: st.DrawFn, value: Any, indent: int, layout: Layout) -> tuple[str, list[str]]:
    """What follows ``key:`` for value: the rest of the line and the lines below (block values at indent)."""
    if value is None:
        return draw(st.sampled_from(NULL_SPELLINGS)), []
    if isinstance(value, str):
        return " " + value, []
    if not value or (indent > 2 * layout.step and draw(st.integers(0, 5)) == 0):
        return " " + _flow(draw, value), []
    note = draw(st.sampled_from(["", "", "  # note"]))
    if isinstance(value, dict):
        return note, _block_map(draw, value, indent, layout)
    return note, _block_seq(draw, value, indent, layout)


def _flow(draw: st.DrawFn, value: Any) -> str:
    """value in flow style (null as ``~``, ``null`` or, for a mapping's last entry, nothing)."""
    if value is None:
        return draw(st.sampled_from(["~", "null"]))
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_flow(draw, v) for v in value) + "]"
    parts = []
    for i, (key, item) in enumerate(value.items()):
        if item is None and i == len(value) - 1 and draw(st.booleans()):
            parts.append(f"{key}: ")
        else:
            parts.append(f"{key}: {_flow(draw, item)}")
    return "{" + ", ".join(parts) + "}"


def _block_map(draw: st.DrawFn, value: dict[str, Any], indent: int, layout: Layout) -> list[str]:
    """A mapping as block lines at indent, each entry maybe with a comment line, explicit keys now and then."""
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        if draw(st.integers(0, 6)) == 0:
            lines.append(pad + "# about " + key)
        if draw(st.integers(0, 5)) == 0:  # an explicit key; its value below the ":" line, indented
            rest, below = _value(draw, item, indent + layout.step, layout)
            lines += [pad + "? " + key, pad + ":" + rest, *below]
            continue
        nested = indent + (0 if layout.indentless and isinstance(item, list) else layout.step)
        rest, below = _value(draw, item, nested, layout)
        lines += [pad + key + ":" + rest, *below]
    return lines


def _block_seq(draw: st.DrawFn, value: list[Any], indent: int, layout: Layout) -> list[str]:
    """A sequence as block lines with dashes at indent; mappings compact (``- a: b``) or below a bare dash."""
    pad = " " * indent
    lines: list[str] = []
    for item in value:
        if isinstance(item, dict) and item:
            inner = _block_map(draw, item, indent + 2, layout)
            shape = draw(st.sampled_from(["compact", "compact", "bare", "comment"]))
            if shape == "compact":
                lines += [pad + "- " + inner[0][indent + 2 :], *inner[1:]]
            else:
                lines += [pad + ("-" if shape == "bare" else "- # the entry"), *inner]
        else:
            rest, below = _value(draw, item, indent + 2, layout)
            lines += [pad + "-" + rest, *below]
    return lines


def _optional_list(draw: st.DrawFn, entries: st.SearchStrategy[list[Any]]) -> Any:
    """A list the plan extends: absent (the marker ``...``), null, empty or with entries."""
    return draw(st.one_of(st.just(...), st.none(), st.just([]), entries))


def _ordered(draw: st.DrawFn, entries: dict[str, Any]) -> dict[str, Any]:
    """The entries without absent ones, in a drawn order."""
    present = [(k, v) for k, v in entries.items() if v is not ...]
    return dict(draw(st.permutations(present)))


ENV = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["A", "TZ", "LOG"]), "value": st.just("x")}),
               min_size=1, max_size=2, unique_by=lambda e: e["name"])
MOUNTS = st.lists(st.just({"name": "data", "mountPath": "/data"}), min_size=1, max_size=1)
VOLUMES = st.lists(st.just({"name": "data", "emptyDir": {}}), min_size=1, max_size=1)
INITS = st.lists(st.just({"name": "setup", "image": "busybox"}), min_size=1, max_size=1)


@st.composite
def component_data(draw: st.DrawFn) -> dict[str, Any]:
    """A component's data, as an ordered dict of what the text will hold (``None``: a null value)."""
    container = _ordered(draw, {"name": "agent", "image": "img", "env": _optional_list(draw, ENV),
                                "volumeMounts": _optional_list(draw, MOUNTS)})
    pod = _ordered(draw, {"containers": [container], "volumes": _optional_list(draw, VOLUMES),
                          "initContainers": _optional_list(draw, INITS), "serviceAccountName": "agent",
                          "securityContext": {"fsGroup": "50000"}})
    template = _ordered(draw, {"metadata": {"labels": dict(LABELS)}, "spec": pod})
    kind = draw(st.sampled_from(["Deployment", "StatefulSet"]))
    spec = _ordered(draw, {"selector": {"matchLabels": dict(LABELS)}, "template": template})
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": "agent-worker-default", "labels": dict(LABELS)}, "spec": spec}


@st.composite
def components(draw: st.DrawFn) -> str:
    """One component document's text (a whole stream) in a drawn layout, BOM and line ends included."""
    layout = Layout(draw(st.integers(2, 4)), draw(st.booleans()))
    lines = _block_map(draw, draw(component_data()), 0, layout)
    text = "".join(line.rstrip(" ") + "\n" for line in lines)
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    # (kubectl refuses a byte order mark before a comment or an explicit key: it goes only before a plain key)
    bom = "\ufeff" if text[0] not in "#?" and draw(st.integers(0, 5)) == 0 else ""
    return bom + text.replace("\n", newline)
