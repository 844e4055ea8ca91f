"""Match workload names: the default name rule in linear time, ``--component-name`` patterns with ``re``.

Names come from the stream. Python's ``re`` backtracks:
``-worker-[a-z0-9]([-a-z0-9]*[a-z0-9])?$`` took 66 s on one name of 180 KB.
The default rule is therefore plain string work (``str.endswith``,
``str.rstrip``, ``str.find``), linear in the name whatever it is. A
``--component-name`` pattern is Python's ``re`` behind Kubernetes' limit on a
name (MAX_NAME_LENGTH, 253 characters): a longer name never matches, and that
cap bounds what the stream can make a pattern cost. The pattern itself is
trusted input, like any other option: a pattern with nested ambiguous
repetitions (``(a|aa)*``, ``(a+)+``) is exponential in ``re`` even within the
cap, so write patterns without them (docs/development.md has the figures).

    >>> NameRegex.compile("-(?P<role>worker|triggerer)$").role("agent-triggerer")
    'triggerer'
    >>> DEFAULT_RULE.role("x" + "-worker-a" * 20_000 + "!") is None
    True
"""

from __future__ import annotations

import re
import warnings

from postrenderer.errors import ConfigError

MAX_NAME_LENGTH = 253  # metadata.name is a DNS subdomain: the API server refuses longer names
DEFAULT_NAME_PATTERN = r"-(?P<role>worker)-[a-z0-9]([-a-z0-9]*[a-z0-9])?$|-(?P<role2>dag-processor|triggerer)$"
_LABEL_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_LABEL_CHARS = _LABEL_ALNUM + "-"
_ALNUM_SET = frozenset(_LABEL_ALNUM)


class DefaultNameRule:
    """The chart's names: ``…-worker-<name>``, ``…-dag-processor``, ``…-triggerer`` (what DEFAULT_NAME_PATTERN says)."""

    pattern = DEFAULT_NAME_PATTERN

    def role(self, name: str) -> str | None:
        """The role of the leftmost match of DEFAULT_NAME_PATTERN (read ``$`` as the very end), or None."""
        ends = [len(name) - len(suffix) for suffix in ("-dag-processor", "-triggerer") if name.endswith(suffix)]
        if name and name[-1] in _LABEL_ALNUM:
            # "-worker-<name>": <name> runs to the end, so "-worker-" starts in the tail of label characters
            tail_start = len(name.rstrip(_LABEL_CHARS))
            found = name.find("-worker-", tail_start)
            while found != -1 and name[found + 8 : found + 9] not in _ALNUM_SET:
                found = name.find("-worker-", found + 1)
            if found != -1:
                ends.append(found)
        if not ends:
            return None
        first = min(ends)
        return "worker" if name.startswith("-worker-", first) else name[first + 1 :]


DEFAULT_RULE = DefaultNameRule()


class NameRegex:
    """A ``--component-name`` pattern: ``re.search`` on names up to Kubernetes' 253 characters."""

    __slots__ = ("pattern", "regex")

    def __init__(self, pattern: str, regex: re.Pattern[str]) -> None:
        self.pattern, self.regex = pattern, regex

    @classmethod
    def compile(cls, pattern: str) -> NameRegex:
        """The pattern compiled by ``re`` (its syntax, its messages); ConfigError if it refuses it."""
        try:
            with warnings.catch_warnings():  # (re's FutureWarnings are about its own future syntax)
                warnings.simplefilter("ignore")
                return cls(pattern, re.compile(pattern))
        except re.error as exc:
            raise ConfigError(f"--component-name: not a regular expression: {exc}") from None

    def search(self, name: str) -> dict[str, str | None] | None:
        """The named groups of the leftmost match in name, or None (always for a name over the limit)."""
        if len(name) > MAX_NAME_LENGTH:
            return None
        match = self.regex.search(name)
        return None if match is None else match.groupdict()

    def role(self, name: str) -> str | None:
        """The component role the name gives: its ``role`` (or ``role2``) group, "component", or None."""
        groups = self.search(name)
        if groups is None:
            return None
        return groups.get("role") or groups.get("role2") or "component"
