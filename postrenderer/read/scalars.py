"""How Kubernetes resolves plain (unquoted) YAML scalars: the one resolver every reading of olrender uses.

Helm, kubectl and the API server decode YAML with sigs.k8s.io/yaml, which
follows go-yaml v2's rules, not PyYAML's YAML 1.1:

    y, on, True -> bool      0o17, 017, 0x1F, 1_000, +12 -> int     1e3, 08, .5, 1. -> float
    12:30, 1:20:30, 2001-12-14, =, yEs, 0x -> string (PyYAML reads the first two as numbers)

``resolve_plain`` gives the tag, ``plain_value`` the value.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

STR_TAG = "tag:yaml.org,2002:str"

BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"
# plain scalars Kubernetes' decoder (sigs.k8s.io/yaml, go-yaml v2 rules) reads as something other than a string,
# by their exact spelling
_TRUE_WORDS = frozenset(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"])
_FALSE_WORDS = frozenset(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
_WORDS = {
    **dict.fromkeys(_TRUE_WORDS | _FALSE_WORDS, BOOL_TAG),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], NULL_TAG),
    **dict.fromkeys(
        [f"{sign}.{word}" for sign in ("", "+", "-") for word in ("inf", "Inf", "INF")] + [".nan", ".NaN", ".NAN"],
        FLOAT_TAG,
    ),
    "<<": MERGE_TAG,  # a merge key; as a value it stays the string "<<" (see Loader)
}
# numbers once every "_" is dropped: Go's strconv.ParseInt(s, 0, 64) (any size) and go-yaml's float syntax
_INT_RE = re.compile(r"[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT_RE = r"\.[0-9]+(?:[eE][-+]?[0-9]+)?"  # starting with ".": no "_" allowed
_NUMBER_START = frozenset("0123456789+-")


def resolve_plain(value: str) -> str:
    """The tag Kubernetes gives a plain (unquoted) scalar; everything else is a string.

    The rules of go-yaml v2 as sigs.k8s.io/yaml uses them, which Helm, kubectl and the API server share:

        y, on, True -> bool      0o17, 017, 0x1F, 1_000, +12 -> int     1e3, 08, .5, 1. -> float
        12:30, 1:20:30, 2001-12-14, =, yEs, 0x -> string (PyYAML's YAML 1.1 reads the first two as numbers)
    """
    tag = _WORDS.get(value)
    if tag is not None:
        return tag
    first = value[0]
    if first == ".":
        return FLOAT_TAG if re.fullmatch(_DOT_FLOAT_RE, value) else STR_TAG
    if first in _NUMBER_START:
        digits = value.replace("_", "")
        whole = _INT_RE.fullmatch(digits) is not None
        if whole and -(2**63) <= _int(digits) < 2**64:  # what Go's int64 or uint64 holds
            return INT_TAG
        if _FLOAT_RE.fullmatch(digits):  # (a decimal integer beyond 64 bits included)
            return FLOAT_TAG
        if whole:  # a larger binary, octal or hexadecimal integer
            return INT_TAG
    return STR_TAG


def _int(digits: str) -> int:
    """An integer as Go's strconv.ParseInt(digits, 0, ...) reads it (a leading ``0`` means octal)."""
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1] not in "bBoOxX":
        return sign * int(digits, 8)
    return sign * int(digits, 0)


def plain_value(text: str) -> Any:
    """What Kubernetes reads a plain scalar as (``resolve_plain``, then the value): ``0o17`` -> 15, ``y`` -> True."""
    tag = resolve_plain(text)
    if tag == INT_TAG:
        return _int(text.replace("_", ""))
    if tag == FLOAT_TAG:
        digits = text.replace("_", "")
        word = digits.lower().lstrip("+")
        return float(word.replace(".", "")) if word in (".inf", "-.inf", ".nan") else float(digits)
    if tag == BOOL_TAG:
        return text in _TRUE_WORDS
    return None if tag == NULL_TAG else text  # (a "<<" value is the string "<<")
