"""Match workload names in linear time: the default name rule and ``--component-name`` patterns.

Names come from the stream, so matching them must never backtrack. Python's
``re`` does: ``-worker-[a-z0-9]([-a-z0-9]*[a-z0-9])?$`` took 66 s on one name of
180 KB. Here the default rule is plain string work (``str.endswith``,
``str.rstrip``, ``str.find``), and a ``--component-name`` pattern runs on a
Pike VM, a simulation of all of the pattern's states at once, which costs at
most (name length) * (pattern size) steps whatever the name:

    >>> NameRegex.compile("-(?P<role>worker|triggerer)$").role("agent-triggerer")
    'triggerer'
    >>> DEFAULT_RULE.role("x" + "-worker-a" * 20_000 + "!") is None
    True

Patterns use Python's ``re`` syntax without the constructs that need
backtracking (backreferences, lookaround, conditionals, inline flags, atomic
groups, possessive quantifiers); such a pattern is a configuration error
naming the construct. Matching follows ``re.search``: the leftmost match, and
within it the alternatives and repetitions ``re`` would prefer, so the
``role`` group holds what ``re`` would put there. Names longer than
MAX_NAME_LENGTH (Kubernetes' limit) never match a pattern.
"""

from __future__ import annotations

import re
import warnings

from postrenderer.errors import ConfigError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable

MAX_NAME_LENGTH = 253  # metadata.name is a DNS subdomain: the API server refuses longer names
MAX_PROGRAM = 5_000  # instructions, after counted repetitions are written out
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


# --- the Pike VM ---------------------------------------------------------------------------------
# Instructions: (CHAR, test) consumes one character; (SPLIT, a, b) tries a, then b; (JUMP, a);
# (SAVE, slot) records the position; (ASSERT, kind) checks the position; (MATCH,).
CHAR, SPLIT, JUMP, SAVE, ASSERT, MATCH = range(6)
def _word(ch: str) -> bool:
    """``\\w`` as Python's ``re`` reads it in a str pattern."""
    return ch.isalnum() or ch == "_"


_CLASSES: dict[str, Callable[[str], bool]] = {
    "d": str.isdecimal, "D": lambda ch: not ch.isdecimal(),
    "w": _word, "W": lambda ch: not _word(ch),
    "s": str.isspace, "S": lambda ch: not ch.isspace(),
}
_LITERAL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_COUNTED = r"\{(\d*)(,?)(\d*)\}"  # {m}, {m,}, {,n}, {m,n}; "{}" is a literal, as in re
_GROUPS = (  # what follows "(?" in a group olrender cannot run without backtracking
    ("P=", "a backreference ((?P=name))"), ("=", "lookahead ((?=...))"), ("!", "lookahead ((?!...))"),
    ("<=", "lookbehind ((?<=...))"), ("<!", "lookbehind ((?<!...))"), ("(", "a conditional ((?(1)...))"),
    (">", "an atomic group ((?>...))"), ("#", "a comment group ((?#...))"),
)


def _too_large() -> ConfigError:
    """The pattern, written out, is over MAX_PROGRAM instructions."""
    return ConfigError(f"--component-name: the pattern is too large (olrender's limit: {MAX_PROGRAM:,} steps)")


class _Parser:
    """Recursive descent over a pattern ``re`` already accepted; builds the program."""

    def __init__(self, pattern: str) -> None:
        self.text, self.pos = pattern, 0
        self.groups = 1  # group 0 is the whole match
        self.names: dict[str, int] = {}

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def unsupported(self, what: str) -> ConfigError:
        return ConfigError(
            f"--component-name: olrender cannot use {what}: it matches names in linear time, without "
            "backtracking (README: What counts as an agent component)"
        )

    def alternation(self) -> list[tuple[object, ...]]:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        program = branches[-1]
        for branch in reversed(branches[:-1]):  # SPLIT first, else
            program = [(SPLIT, 1, len(branch) + 2), *branch, (JUMP, len(program) + 1), *program]
        return program

    def sequence(self) -> list[tuple[object, ...]]:
        program: list[tuple[object, ...]] = []
        while self.peek() not in ("", "|", ")"):
            program += self.repeat(self.atom())
            if len(program) > MAX_PROGRAM:
                raise _too_large()
        return program

    def repeat(self, atom: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.take()
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        elif ch == "{" and (counted := re.compile(_COUNTED).match(self.text, self.pos)) and (counted[1] or counted[2]):
            self.pos = counted.end()
            low = int(counted[1] or 0)
            high = None if counted[2] and not counted[3] else int(counted[3] or counted[1])
        else:
            return atom
        lazy = self.peek() == "?" and bool(self.take())
        if self.peek() == "+":
            raise self.unsupported("a possessive quantifier (*+, ++, ?+, {m,n}+)")
        if max(low, high or 0) * len(atom) > MAX_PROGRAM:
            raise _too_large()
        if (high is None or high > max(low, 1)) and _nullable(atom):
            raise self.unsupported(
                "a repetition of something that can match nothing, such as (a*)* or (x|)+ (re and a linear "
                "matcher read it differently)"
            )
        program = [instruction for _ in range(low) for instruction in atom]
        if high is None:  # a loop: SPLIT into the atom or past it, the atom, JUMP back
            first, second = (len(atom) + 2, 1) if lazy else (1, len(atom) + 2)
            return [*program, (SPLIT, first, second), *atom, (JUMP, -len(atom) - 1)]
        optional: list[tuple[object, ...]] = []
        for _ in range(high - low):  # each optional copy skips all the rest
            first, second = (len(atom) + len(optional) + 1, 1) if lazy else (1, len(atom) + len(optional) + 1)
            optional = [(SPLIT, first, second), *atom, *optional]
        return program + optional

    def atom(self) -> list[tuple[object, ...]]:
        ch = self.take()
        if ch == "(":
            return self.group()
        if ch == "[":
            return [(CHAR, self.char_class())]
        if ch == ".":
            return [(CHAR, lambda c: c != "\n")]
        if ch == "^":
            return [(ASSERT, "start")]
        if ch == "$":
            return [(ASSERT, "end-or-newline")]
        if ch == "\\":
            return self.escape()
        return [(CHAR, ch.__eq__)]

    def group(self) -> list[tuple[object, ...]]:
        name = None
        if self.text.startswith("?:", self.pos):
            self.pos += 2
            slot = None
        else:
            if self.text.startswith("?P<", self.pos):
                end = self.text.index(">", self.pos)
                name = self.text[self.pos + 3 : end]
                self.pos = end + 1
            elif self.peek() == "?":
                after = self.text[self.pos + 1 : self.pos + 3]
                what = next((what for start, what in _GROUPS if after.startswith(start)), "inline flags ((?i)...)")
                raise self.unsupported(what)
            slot = self.groups
            self.groups += 1
            if name is not None:
                self.names[name] = slot
        inner = self.alternation()
        self.take()  # ")"
        if slot is None:
            return inner
        return [(SAVE, 2 * slot), *inner, (SAVE, 2 * slot + 1)]

    def escape(self) -> list[tuple[object, ...]]:
        ch = self.take()
        if ch in _CLASSES:
            return [(CHAR, _CLASSES[ch])]
        if ch in ("A", "Z", "b", "B"):
            return [(ASSERT, {"A": "start", "Z": "end", "b": "boundary", "B": "not-boundary"}[ch])]
        return [(CHAR, self.escaped_char(ch).__eq__)]

    def escaped_char(self, ch: str) -> str:
        if ch == "0":  # an octal escape: \0 and up to two more octal digits
            octal = "0"
            while len(octal) < 3 and self.peek() in tuple("01234567"):
                octal += self.take()
            return chr(int(octal, 8))
        if ch in _LITERAL_ESCAPES:
            return _LITERAL_ESCAPES[ch]
        if ch.isdigit():
            raise self.unsupported(f"a backreference (\\{ch})")
        for letter, width in (("x", 2), ("u", 4), ("U", 8)):
            if ch == letter:
                code = self.text[self.pos : self.pos + width]
                self.pos += width
                return chr(int(code, 16))
        if ch.isalnum():
            raise self.unsupported(f"the escape \\{ch}")
        return ch

    def char_class(self) -> Callable[[str], bool]:
        negate = self.peek() == "^" and bool(self.take())
        chars: set[str] = set()
        ranges: list[tuple[str, str]] = []
        tests: list[Callable[[str], bool]] = []
        first = True
        while first or self.peek() != "]":
            first = False
            ch = self.take()
            if ch == "\\":
                escaped = self.take()
                if escaped in _CLASSES:
                    tests.append(_CLASSES[escaped])
                    continue
                ch = "\b" if escaped == "b" else self.escaped_char(escaped)
            if ch == "[" and self.peek() in (":", "=", "."):
                raise self.unsupported("a POSIX class ([[:alpha:]])")
            if self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.take()
                high = self.take()
                if high == "\\":
                    high = self.escaped_char(self.take())
                ranges.append((ch, high))
            else:
                chars.add(ch)
        self.take()  # "]"
        frozen = frozenset(chars)

        def test(c: str) -> bool:
            hit = c in frozen or any(low <= c <= high for low, high in ranges) or any(t(c) for t in tests)
            return hit != negate

        return test


class NameRegex:
    """A ``--component-name`` pattern, matched in linear time (``re.search`` semantics)."""

    __slots__ = ("names", "pattern", "program", "slots")

    def __init__(self, pattern: str, program: list[tuple[object, ...]], names: dict[str, int], groups: int) -> None:
        self.pattern, self.program, self.names, self.slots = pattern, program, names, 2 * groups

    @classmethod
    def compile(cls, pattern: str) -> NameRegex:
        """Check the pattern with ``re`` (its syntax, its messages), then build the program; ConfigError if not."""
        try:
            with warnings.catch_warnings():  # (re's FutureWarnings are about its own future syntax)
                warnings.simplefilter("ignore")
                re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"--component-name: not a regular expression: {exc}") from None
        parser = _Parser(pattern)
        body = parser.alternation()
        if parser.pos < len(pattern):  # pragma: no cover - re.compile refuses an unbalanced ")"
            raise parser.unsupported(f"the text at {pattern[parser.pos:]!r}")
        program = [(SAVE, 0), *body, (SAVE, 1), (MATCH,)]
        return cls(pattern, _absolute(program), parser.names, parser.groups)

    def search(self, name: str) -> dict[str, str | None] | None:
        """The named groups of the leftmost match in name, or None when there is none."""
        if len(name) > MAX_NAME_LENGTH:
            return None
        program, size = self.program, len(name)
        matched: tuple[int | None, ...] | None = None
        threads: list[tuple[int, tuple[int | None, ...]]] = []
        seen: set[int] = set()
        empty: tuple[int | None, ...] = (None,) * self.slots
        for at in range(size + 1):
            if matched is None:  # a match starting here ranks below every earlier start
                self._follow(threads, seen, 0, empty, name, at)
            following: list[tuple[int, tuple[int | None, ...]]] = []
            following_seen: set[int] = set()
            for pc, saved in threads:
                instruction = program[pc]
                if instruction[0] == MATCH:
                    matched = saved
                    break  # every thread after this one ranks lower
                if at < size and instruction[1](name[at]):  # type: ignore[operator]
                    self._follow(following, following_seen, pc + 1, saved, name, at + 1)
            threads, seen = following, following_seen
            if not threads and matched is not None:
                break
        if matched is None:
            return None
        return {
            group: None if matched[2 * slot] is None else name[matched[2 * slot] : matched[2 * slot + 1]]
            for group, slot in self.names.items()
        }

    def role(self, name: str) -> str | None:
        """The component role the name gives: its ``role`` (or ``role2``) group, "component", or None."""
        groups = self.search(name)
        if groups is None:
            return None
        return groups.get("role") or groups.get("role2") or "component"

    def _follow(self, threads: list[tuple[int, tuple[int | None, ...]]], seen: set[int], pc: int,
                saved: tuple[int | None, ...], name: str, at: int) -> None:
        """Add the thread at pc and every thread it reaches without consuming a character, in priority order."""
        stack = [(pc, saved)]
        while stack:
            pc, saved = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            instruction = self.program[pc]
            op = instruction[0]
            if op == JUMP:
                stack.append((instruction[1], saved))  # type: ignore[arg-type]
            elif op == SPLIT:
                stack += [(instruction[2], saved), (instruction[1], saved)]  # type: ignore[list-item]
            elif op == SAVE:
                slot: int = instruction[1]  # type: ignore[assignment]
                stack.append((pc + 1, (*saved[:slot], at, *saved[slot + 1 :])))
            elif op == ASSERT:
                if _holds(instruction[1], name, at):  # type: ignore[arg-type]
                    stack.append((pc + 1, saved))
            else:
                threads.append((pc, saved))


def _holds(kind: str, name: str, at: int) -> bool:
    """Whether the zero-width assertion kind holds at position at."""
    if kind == "start":
        return at == 0
    if kind == "end":
        return at == len(name)
    if kind == "end-or-newline":
        return at == len(name) or (at == len(name) - 1 and name[at] == "\n")
    if not name and kind == "not-boundary":  # re says no before Python 3.14, yes from then on
        return re.search(r"\B", "") is not None
    before = at > 0 and _word(name[at - 1])
    after = at < len(name) and _word(name[at])
    return (before != after) == (kind == "boundary")


def _nullable(fragment: list[tuple[object, ...]]) -> bool:
    """Whether a fragment (relative offsets) can get from its start to its end without consuming a character."""
    seen: set[int] = set()
    stack = [0]
    while stack:
        pc = stack.pop()
        if pc == len(fragment):
            return True
        if pc in seen or not 0 <= pc < len(fragment):
            continue
        seen.add(pc)
        op, *args = fragment[pc]
        if op == SPLIT:
            stack += [pc + args[0], pc + args[1]]  # type: ignore[operator]
        elif op == JUMP:
            stack.append(pc + args[0])  # type: ignore[operator]
        elif op != CHAR:  # SAVE and ASSERT consume nothing
            stack.append(pc + 1)
    return False


def _absolute(program: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Turn the parser's relative jump offsets into instruction indexes."""
    resolved: list[tuple[object, ...]] = []
    for pc, instruction in enumerate(program):
        if instruction[0] == SPLIT:
            resolved.append((SPLIT, pc + instruction[1], pc + instruction[2]))  # type: ignore[operator]
        elif instruction[0] == JUMP:
            resolved.append((JUMP, pc + instruction[1]))  # type: ignore[operator]
        else:
            resolved.append(instruction)
    return resolved
