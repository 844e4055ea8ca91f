"""Kubernetes' rules for the names olrender writes into manifests, checked before anything is rendered.

The API server refuses an object whose name breaks these rules, so a bad name given
to olrender is a configuration error (exit 2) instead of manifests that cannot be
applied. The rules are Kubernetes' own (apimachinery ``IsDNS1123Subdomain``,
``IsDNS1123Label`` and ``IsConfigMapKey``); ``tests/test_kubenames.py`` compares them
with the real helm and kubectl. A value that looks like an API key pasted into a
name option is refused without being repeated:

    >>> problem("openlineage-api-key", SECRET)
    >>> problem("bad_name", SECRET)
    "'_' is not allowed"
    >>> looks_like_key("sk_LIVE_abc")
    True
"""

from __future__ import annotations

from postrenderer.errors import printable


class Rule:
    """What one kind of Kubernetes name may hold, in words for messages."""

    __slots__ = ("allowed", "dots", "limit", "what", "words")

    def __init__(self, what: str, limit: int, allowed: str, dots: bool, words: str) -> None:
        self.what, self.limit, self.allowed, self.dots, self.words = what, limit, allowed, dots, words


_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SECRET = Rule(
    "Secret name", 253, _LOWER + "-.", True,
    "at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
)
CONFIG_MAP = Rule("ConfigMap name", SECRET.limit, SECRET.allowed, True, SECRET.words)
CONTAINER = Rule(
    "container name", 63, _LOWER + "-", False,
    "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
)
SECRET_KEY = Rule(
    "key in a Secret", 253, _LOWER + _UPPER + "-._", False,
    "at most 253 letters, digits, '-', '_' and '.', and not '.', '..' or starting with '..'",
)
KEY_PREFIXES = ("sk-", "sk_")  # what API keys commonly start with (any case)
JWT_START = "eyJ"  # the first bytes of a JWT, as Astro's API tokens are


def problem(value: str, rule: Rule) -> str | None:
    """What is wrong with value as that kind of name, or None when Kubernetes accepts it."""
    if not value:
        return "it is empty"
    if len(value) > rule.limit:
        return f"it is {len(value)} characters long"
    bad = next((ch for ch in value if ch not in rule.allowed), None)
    if bad is not None:
        return f"{printable(bad)!r} is not allowed" + (" (use lowercase)" if bad in _UPPER else "")
    if rule is SECRET_KEY:
        return "it cannot be '.' or '..' or start with '..'" if value in (".", "..") or value.startswith("..") else None
    for part in value.split(".") if rule.dots else (value,):
        if not part:
            return "it has an empty part between dots" if len(value) > 1 else "it is only a dot"
        if part[0] == "-" or part[-1] == "-":
            return f"{'a part' if part != value else 'it'} starts or ends with '-'"
    return None


def looks_like_key(value: str) -> bool:
    """Whether a value given as a name looks like an API key (and must not be repeated in messages)."""
    if value.lower().startswith(KEY_PREFIXES) or value.startswith(JWT_START):
        return True
    long_random = len(value) >= 16 and any(ch.isupper() for ch in value) and any(ch.isdigit() for ch in value)
    return long_random and any(ch.islower() for ch in value)


def check_name(value: str, rule: Rule, setting: str, known_keys: tuple[str, ...] = ()) -> str | None:
    """A message (without the value when it may be a key) if value is not a valid name of that kind, else None."""
    if value in known_keys or looks_like_key(value):
        return (
            f"{setting}: the value ({len(value)} characters) looks like an API key, not a {rule.what}; "
            "olrender does not repeat it. Give the name here, and the key itself through the environment "
            "variable OPENLINEAGE_API_KEY or --api-key-file FILE"
        )
    wrong = problem(value, rule)
    if wrong is None:
        return None
    shown = printable(value if len(value) <= 64 else value[:60] + "...")
    return f"{setting} {shown!r} is not a valid {rule.what}: {wrong}; a {rule.what} is {rule.words}"
