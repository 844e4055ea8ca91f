"""The scrubber: every form in which olrender's output could spell an API key, replaced by ``<redacted>``.

A key is known in all its written forms: raw; base64 at each of the three byte alignments (alone,
or inside a longer encoded value); escaped as repr, JSON or YAML would write it (also twice);
percent-encoded, with upper- or lower-case hex and ``+`` for a space. In a message, any fragment of
12 characters or more of a known key is redacted too (a message may quote the start of a value).
The ``checksum/openlineage-api-key`` annotation is a function of the key alone, so anyone could
check a guessed key against it: its value is redacted wherever olrender's shareable outputs show it.
Credentials in URLs (``https://KEY@host``) are redacted whether or not the key is known.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

REDACTED = "<redacted>"
FRAGMENT = 12  # a key's fragment this long is redacted from messages
CHECKSUM_ANNOTATION = "checksum/openlineage-api-key"  # (inject.methods.CHECKSUM_ANNOTATION: a test holds them equal)
# its value after the name (in YAML, JSON, or a JSON Pointer's ~1), up to 12 characters of quotes and colons between
_CHECKSUM_VALUE = CHECKSUM_ANNOTATION.replace("/", "(?:/|~1)") + r"\W{1,12}([0-9a-fA-F]{64})(?![0-9a-fA-F])"


class Scrubber:
    """The known keys and the forms they take; ``scrub`` replaces every one of them."""

    def __init__(self) -> None:
        """No key known yet (URL credentials and checksum annotations are redacted all the same)."""
        self.forms: list[str] = []  # longest first: no form hides in another
        self.keys: list[str] = []
        self._encoded: list[re.Pattern[str]] = []  # keys' percent patterns, compiled when first needed (~1 ms each)

    def add(self, key: str) -> None:
        """Know this key, in every form, from now on."""
        if key in self.keys:
            return
        self.keys.append(key)
        self.forms = sorted(set(self.forms) | secret_forms(key), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """Text with every form of every known key, checksum annotation values and URL credentials redacted."""
        if CHECKSUM_ANNOTATION.partition("/")[2] in text:
            text = self._checksums(text)
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        if "%" in text or "+" in text:
            self._encoded += [percent_pattern(key) for key in self.keys[len(self._encoded) :]]
            for pattern in self._encoded:  # (one per key: any mix of percent-escaped and plain characters)
                text = pattern.sub(REDACTED, text)
        return hide_url_credentials(text) if "://" in text and "@" in text else text

    def scrub_message(self, text: str) -> str:
        """``scrub``, and then every fragment of a known key of 12 characters or more."""
        text = self.scrub(text)
        for key in self.keys:
            if len(key) >= FRAGMENT:
                text = redact_fragments(text, key)
        return text

    def _checksums(self, text: str) -> str:
        """Text with the value of every checksum/openlineage-api-key annotation (and its other mentions) redacted."""
        import re

        for digest in {match[1] for match in re.finditer(_CHECKSUM_VALUE, text)}:
            text = text.replace(digest, REDACTED)
        return text


def redact_fragments(text: str, key: str) -> str:
    """Text with every run of 12 or more characters that also occurs in key replaced by ``<redacted>``."""
    grams = {key[i : i + FRAGMENT] for i in range(len(key) - FRAGMENT + 1)}
    spans: list[list[int]] = []
    for start in range(len(text) - FRAGMENT + 1):
        if text[start : start + FRAGMENT] in grams:
            if spans and start <= spans[-1][1]:
                spans[-1][1] = start + FRAGMENT
            else:
                spans.append([start, start + FRAGMENT])
    if not spans:
        return text
    parts, done = [], 0
    for start, end in spans:
        parts += [text[done:start], REDACTED]
        done = end
    return "".join(parts) + text[done:]


def percent_pattern(key: str) -> re.Pattern[str]:
    """A pattern for key with any of its characters percent-encoded (either hex case) and a space as ``+``."""
    import re

    parts = []
    for char in key:
        hexes = (f"{byte:02x}" for byte in char.encode("utf-8", "surrogateescape"))
        choices = [re.escape(char), "".join("%" + "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in h)
                                            for h in hexes)]
        if char == " ":
            choices.append(r"\+")
        parts.append(f"(?:{'|'.join(choices)})")
    return re.compile("".join(parts))


_NOT_USERINFO = frozenset(" \t\r\n/?#@<>")  # (quotes may be part of it: a key can hold them)


def hide_url_credentials(text: str) -> str:
    """``https://user:password@host`` as ``https://<redacted>@host``: what stands before the @ is a secret.

    One pass: each scan from a ``://`` stops at the next ``/``, so scans never overlap.
    """
    parts: list[str] = []
    done = 0
    found = text.find("://")
    while found != -1:
        start = end = found + 3
        while end < len(text) and text[end] not in _NOT_USERINFO:
            end += 1
        if end < len(text) and text[end] == "@" and end > start and text[start:end] != REDACTED:
            parts += [text[done:start], REDACTED]
            done = end
        found = text.find("://", found + 1)
    return "".join(parts) + text[done:]


def base64_forms(raw: bytes) -> set[str]:
    """The key's base64, padded, and as it reads inside a longer value at each of the three byte alignments."""
    import base64

    forms = {base64.b64encode(raw).decode()}
    for offset in range(3):  # the characters whose six bits all come from the key
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0\0").decode()
        forms.add(encoded[-(-8 * offset // 6) : 8 * (offset + len(raw)) // 6])
    return forms


def secret_forms(key: str) -> set[str]:
    """The key as olrender's outputs could spell it: raw, base64, and escaped by repr, JSON or YAML (also twice)."""
    raw = key.encode("utf-8", "surrogateescape")
    forms = {key} | base64_forms(raw)
    if key.isascii() and key.isprintable() and not any(ch in key for ch in "\\\"'"):
        return forms  # every escaped form is the key itself
    escaped = {key}
    for _ in range(2):  # a repr'd message inside a JSON report escapes the key twice
        escaped |= {form for value in escaped for form in _escaped_forms(value)}
    return forms | escaped | {repr(raw)[2:-1], repr(b'"' + raw)[3:-1]}


def _escaped_forms(value: str) -> set[str]:
    """What value becomes inside a repr, ascii, JSON or YAML double-quoted string (quotes stripped)."""
    import json

    import yaml

    forms = {
        repr('"' + value)[2:-1], ascii('"' + value)[2:-1],  # in single quotes: \\' escaped
        json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
        value.replace("'", "''"),  # YAML single-quoted
    }
    from postrenderer.write.edit import quoted

    forms.add(quoted(value)[1:-1])  # as olrender writes a double-quoted scalar
    if '"' not in value:  # repr may choose double quotes
        forms |= {repr("'" + value)[2:-1], ascii("'" + value)[2:-1]}
    dumpers = [yaml.Dumper] + ([yaml.CDumper] if hasattr(yaml, "CDumper") else [])
    for dumper in dumpers:
        for allow_unicode in (True, False):
            try:
                dumped = yaml.dump(value, Dumper=dumper, default_style='"', width=2**30, allow_unicode=allow_unicode)
            except UnicodeEncodeError:  # libyaml cannot write undecodable bytes (olrender refuses such keys)
                continue
            forms.add(dumped[dumped.index('"') + 1 : dumped.rindex('"')])
    return forms
