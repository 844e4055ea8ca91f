"""Tests for postrenderer.read.names: name matching in linear time, checked against Python's own ``re``.

Python's ``re`` is the oracle: users write ``--component-name`` in its syntax
and expect its answers. Every accepted pattern must give the same match (or
none) and the same named groups as ``re.search``, on generated patterns and
names; the default rule must give what DEFAULT_NAME_PATTERN gives (with
``$`` read as the very end, as the README says: "ends in").
"""

from __future__ import annotations

import itertools
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postrenderer.errors import ConfigError
from postrenderer.read.names import DEFAULT_NAME_PATTERN, DEFAULT_RULE, MAX_NAME_LENGTH, NameRegex

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


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, "b", "1", "-worker-b", "-triggerer"]), max_size=12).map("".join))
def test_default_rule_equals_the_documented_pattern(name: str) -> None:
    """Longer generated names too."""
    assert DEFAULT_RULE.role(name) == default_by_re(name)


@pytest.mark.parametrize("pattern", [DEFAULT_NAME_PATTERN, "-(worker|triggerer)$"])
def test_hostile_names_cost_linear_time(pattern: str) -> None:
    """The issue's name (x + -worker-a x 20,000 + !, 180 KB; 66 s with re) and a 250-character one for a pattern."""
    hostile = "x" + "-worker-a" * 20_000 + "!"
    start = time.monotonic()
    assert DEFAULT_RULE.role(hostile) is None
    assert DEFAULT_RULE.role(hostile[:-1]) == "worker"
    regex = NameRegex.compile(pattern)
    assert regex.role(hostile[:MAX_NAME_LENGTH - 1] + "!") is None
    assert NameRegex.compile("(a+)+$").role("a" * 250 + "!") is None  # 2**250 steps for re
    assert time.monotonic() - start < 5  # generous: each takes milliseconds


def test_names_over_the_kubernetes_limit_never_match_a_pattern() -> None:
    """A name longer than 253 characters is no Kubernetes name: a pattern does not match it (the default rule does)."""
    name = "a" * (MAX_NAME_LENGTH - len("-triggerer")) + "-triggerer"
    assert NameRegex.compile("-triggerer$").role(name) == "component"
    assert NameRegex.compile("-triggerer$").role("a" + name) is None
    assert DEFAULT_RULE.role("a" + name) == "triggerer"


@pytest.mark.parametrize(
    ("pattern", "what"),
    [("(?=a)b", "lookahead"), ("(?<!a)b", "lookbehind"), (r"(a)\1", "a backreference"),
     ("(?P<x>a)(?P=x)", "a backreference"), ("(?i)worker", "inline flags"), ("a*+", "a possessive quantifier"),
     ("(?>a)", "an atomic group"), ("(a)?(?(1)b|c)", "a conditional"), ("(a*)*", "a repetition of something"),
     ("(x|)+y", "a repetition of something"), ("[[:alpha:]]", "a POSIX class")],
)
def test_constructs_that_need_backtracking_are_refused(pattern: str, what: str) -> None:
    """Each is a configuration error naming the construct."""
    with pytest.raises(ConfigError, match=re.escape(what)) as refused:
        NameRegex.compile(pattern)
    assert "--component-name" in str(refused.value) and "linear time" in str(refused.value)


def test_python_syntax_errors_keep_python_s_message() -> None:
    """A pattern re refuses is reported in re's words."""
    with pytest.raises(ConfigError, match="not a regular expression: missing \\), unterminated subpattern"):
        NameRegex.compile("(worker")


def test_huge_patterns_are_refused() -> None:
    """Counted repetitions are written out: a pattern that grows beyond the limit is refused, not built."""
    with pytest.raises(ConfigError, match="the pattern is too large"):
        NameRegex.compile("(?:a{1000}){1000}")


ATOMS = st.sampled_from(["a", "b", "-", ".", "[ab]", "[^a]", "[a-b]", r"\d", r"\w", r"\s", "^", "$", r"\b",
                         r"\B", r"\Z", r"\A", "0", r"\-", "[-a]", r"\x61", r"[\-b]", "{", "a{}"])
QUANTIFIERS = st.sampled_from(["*", "+", "?", "{0,2}", "{1}", "{2,}", "*?", "+?", "??", "{1,2}?", "{,2}", "{,}"])


def _compose(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Concatenation, alternation, groups and quantifiers over smaller patterns."""
    return st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map("|".join),
        inner.map(lambda p: f"({p})"),
        inner.map(lambda p: f"(?:{p})"),
        st.tuples(inner, QUANTIFIERS).map(lambda t: f"(?:{t[0]}){t[1]}"),
    )


PATTERNS = st.recursive(ATOMS, _compose, max_leaves=8)
NAMES = st.lists(st.text(alphabet="ab-0 \n", max_size=10), min_size=1, max_size=6)


@settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(PATTERNS, st.booleans(), NAMES)
def test_patterns_agree_with_re(pattern: str, named: bool, names: list[str]) -> None:
    """Whatever NameRegex accepts, it matches like re.search: the same names, the same named groups."""
    if named:
        pattern = f"(?P<role>{pattern})"
    expected = re.compile(pattern)
    try:
        regex = NameRegex.compile(pattern)
    except ConfigError as refused:
        assert "a repetition of something that can match nothing" in str(refused)
        return
    for name in names:
        match = expected.search(name)
        assert regex.search(name) == (None if match is None else match.groupdict()), (pattern, name)


def test_role_comes_from_the_role_group() -> None:
    """A role group names the role; without one a matching workload is a plain "component"."""
    assert NameRegex.compile("-(?P<role>worker|triggerer)-").role("a-worker-b") == "worker"
    assert NameRegex.compile("^agent-").role("agent-x") == "component"
    assert NameRegex.compile("^agent-").role("x-agent") is None
