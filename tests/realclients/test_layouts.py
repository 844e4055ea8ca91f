"""Generated layouts of agent components, every method, through the real kubectl.

``tests.strategies.components`` writes a component in a drawn YAML layout
(block and flow, nulls and empty lists where the plan edits, key orders,
explicit keys, comments, indentation, BOM, LF/CRLF/CR). For every method,
olrender either writes a stream that kubectl reads as the input plus exactly
the emitted patch, or refuses with exit 3 and a message naming a line. Each
hypothesis example is a batch of runs checked in two kubectl calls; the budget
(``OLRENDER_LAYOUT_EXAMPLES`` examples, derandomized) keeps the file within a
minute on two cores.

``fixtures/generated/`` keeps the shapes found so far (each a stream), replayed
here as a regular test with every method; ``fixtures/generated/vault-fileref/``
holds the vendor's ``valueFrom.fileRef`` entry under an explicit ``? env`` key,
which only the Vault methods repair (the others refuse ``fileRef``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from postrenderer.errors import InputError
from tests import programs
from tests.realclients.decoder import KUBECTL_TOOL, DecodeError, decode
from tests.realclients.test_decoding import METHODS, Run, check_runs, settings_for
from tests.strategies import components
from tests.tools.pytest_realtools import RealTool

GENERATED = Path(__file__).resolve().parents[2] / "fixtures" / "generated"
LINE = re.compile(r"\bline \d+")


def runs_of(kubectl: Any, cases: list[tuple[str, str]]) -> int:
    """Run each (text, method); check the outputs through kubectl, the refusals by their message; the refusals."""
    runs, refused = [], 0
    for text, method in cases:
        try:
            runs.append(Run(text, settings_for(method)))
        except InputError as exc:
            assert LINE.search(str(exc)), f"a refusal that names no line: {exc}"
            refused += 1
    check_runs(kubectl, runs)
    return refused


@pytest.fixture(scope="module")
def kubectl(real_tool: RealTool) -> Any:
    """The real kubectl 1.37.1."""
    return real_tool(KUBECTL_TOOL)


def corpus() -> list[Path]:
    """The kept shapes."""
    return sorted(GENERATED.glob("*.yaml"))


def test_the_kept_shapes_read_as_input_plus_patch(kubectl: Any) -> None:
    """Every kept shape, every method: kubectl reads the output as the input plus the patch (or a named refusal)."""
    shapes = corpus()
    assert len(shapes) >= 10, "the corpus of generated shapes is in fixtures/generated"
    cases = [(path.read_bytes().decode(), method) for path in shapes for method in sorted(METHODS)]
    refused = runs_of(kubectl, cases)
    assert refused == 0, "every kept shape is edited, none refused"


def test_the_vendor_file_ref_under_an_explicit_env_key_is_repaired(kubectl: Any) -> None:
    """``? env`` with the vendor's fileRef entry first, last or alone: every Vault delivery repairs it in place."""
    shapes = sorted((GENERATED / "vault-fileref").glob("*.yaml"))
    assert len(shapes) == 3
    deliveries = [method for method in sorted(METHODS) if method.startswith("vault") and method != "vault-injector"]
    cases = [(path.read_text(), method) for path in shapes for method in deliveries]
    assert runs_of(kubectl, cases) == 0, "edited, none refused"


@pytest.mark.parametrize("lead", ["# Source: agent.yaml\n", "# the agent\n", "\n", "  # note\n",
                                  "? kind\n: Deployment\n", ""])
def test_a_bom_after_the_first_marker_is_refused_when_edited(kubectl: Any, lead: str) -> None:
    """``---`` then a BOM starting the stream: kubectl reads the mark as text (an error, or a key holding it)."""
    component = (GENERATED / "issue-volumes-last-empty.yaml").read_text()
    stream = "---\n\ufeff" + lead + component.replace("kind: Deployment\n", "" if "?" in lead else "kind: Deployment\n")
    try:
        (read,) = decode(kubectl, [stream])
        assert any(key.startswith("\ufeff") for key in read), read
    except DecodeError:
        pass
    with pytest.raises(InputError, match=r"document 1 \(\S+/agent-worker-default\) at line 1: the byte "
                       r"order mark \(U\+FEFF\) at line 2 follows the --- line that starts the stream.*remove the "
                       r"byte order mark"):
        programs.render(stream.encode(), settings_for("secret"))


def test_a_bom_after_a_later_marker_is_edited(kubectl: Any) -> None:
    """A BOM after any other ``---`` line is a mark to kubectl too: olrender edits that document as usual."""
    component = (GENERATED / "issue-volumes-last-empty.yaml").read_text()
    stream = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\n---\n\ufeff# the agent\n" + component
    assert runs_of(kubectl, [(stream, "secret"), (stream, "vault")]) == 0


@settings(max_examples=int(os.environ.get("OLRENDER_LAYOUT_EXAMPLES", "30")), deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],  # (shrinking a batch costs minutes of kubectl calls)
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(components(), st.sampled_from(sorted(METHODS))), min_size=6, max_size=10))
def test_generated_layouts_read_as_input_plus_patch(real_tool: RealTool, batch: list[tuple[str, str]]) -> None:
    """Property: a component in any layout, any method: kubectl reads input plus patch, or a refusal names a line."""
    runs_of(real_tool(KUBECTL_TOOL), batch)
