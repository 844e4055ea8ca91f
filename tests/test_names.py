"""Tests for postrenderer.read.names: the default rule in linear time, patterns with ``re`` behind the cap.

The default rule must give what DEFAULT_NAME_PATTERN gives under Python's ``re``
(with ``$`` read as the very end, as the README says: "ends in"), in linear time;
a ``--component-name`` pattern is ``re.search`` on names of at most 253 characters.
"""

from __future__ import annotations

import itertools
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postrenderer.errors import ConfigError
from postrenderer.read.names import DEFAULT_NAME_PATTERN, DEFAULT_RULE, MAX_NAME_LENGTH, NameRegex
from tests.budget import examples

STRICT_DEFAULT = re.compile(DEFAULT_NAME_PATTERN.replace("$", r"\Z"))
PIECES = ["-", "worker", "w", "a", "x-", "triggerer", "dag-processor", "!", "Z", "-worker-", "0", "\n"]


def default_by_re(name: str) -> str | None:
    """What the documented pattern says about name."""
    match = STRICT_DEFAULT.search(name)
    return None if match is None else match["role"] or match["role2"]


def test_default_rule_equals_the_documented_pattern_on_every_short_combination() -> None:
    """Every name made of up to four pieces (about 22,000) gets the role the pattern gives, or none."""
    for count in range(1, 5):
        for parts in itertools.product(PIECES, repeat=count):
            name = "".join(parts)
            assert DEFAULT_RULE.role(name) == default_by_re(name), name


@settings(max_examples=examples(300), derandomize=True, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, "b", "1", "-worker-b", "-triggerer"]), max_size=12).map("".join))
def test_default_rule_equals_the_documented_pattern(name: str) -> None:
    """Longer generated names too."""
    assert DEFAULT_RULE.role(name) == default_by_re(name)


@pytest.mark.parametrize("pattern", [DEFAULT_NAME_PATTERN, "-(worker|triggerer)$"])
def test_hostile_names_cost_linear_time(pattern: str) -> None:
    """The issue's name (x + -worker-a x 20,000 + !, 180 KB; 66 s with re) and a 253-character one for a pattern."""
    hostile = "x" + "-worker-a" * 20_000 + "!"
    start = time.monotonic()
    assert DEFAULT_RULE.role(hostile) is None
    assert DEFAULT_RULE.role(hostile[:-1]) == "worker"
    regex = NameRegex.compile(pattern)
    assert regex.role(hostile[:MAX_NAME_LENGTH - 1] + "!") is None
    assert time.monotonic() - start < 5  # generous: each takes milliseconds


def test_names_over_the_kubernetes_limit_never_match_a_pattern() -> None:
    """A name longer than 253 characters is no Kubernetes name: a pattern does not match it (the default rule does)."""
    name = "a" * (MAX_NAME_LENGTH - len("-triggerer")) + "-triggerer"
    assert NameRegex.compile("-triggerer$").role(name) == "component"
    assert NameRegex.compile("-triggerer$").role("a" + name) is None
    assert DEFAULT_RULE.role("a" + name) == "triggerer"


def test_patterns_are_re_s_own_syntax() -> None:
    """Whatever re accepts is a pattern (lookaround, backreferences, inline flags), matched as re.search matches."""
    assert NameRegex.compile("(?i)-(?P<role>WORKER)-(?=x)").role("a-worker-x1") == "worker"
    assert NameRegex.compile(r"^(?P<role>a)-\1$").search("a-a") == {"role": "a"}


def test_python_syntax_errors_keep_python_s_message() -> None:
    """A pattern re refuses is reported in re's words."""
    with pytest.raises(ConfigError, match="not a regular expression: missing \\), unterminated subpattern"):
        NameRegex.compile("(worker")


def test_role_comes_from_the_role_group() -> None:
    """A role group names the role; without one a matching workload is a plain "component"."""
    assert NameRegex.compile("-(?P<role>worker|triggerer)-").role("a-worker-b") == "worker"
    assert NameRegex.compile("^agent-").role("agent-x") == "component"
    assert NameRegex.compile("^agent-").role("x-agent") is None
