"""TEST DOUBLE: the kubelet's env-file reader of Kubernetes 1.35 (``valueFrom.fileKeyRef``), rewritten in Python.

No kubelet can run here. This follows ``ParseEnv`` in
``pkg/kubelet/util/env/env_util.go`` of Kubernetes 1.35 (the ``EnvFiles`` beta),
and the documented rules (kubernetes.io, "Define Environment Variable Values Using
An Init Container", section "Env file syntax"), line by line:

- lines are split as Go's ``bufio.Scanner`` does: at ``\\n``, one ``\\r`` before it
  dropped, at most 64 KiB per line;
- leading spaces and tabs are skipped; blank lines and lines starting with ``#`` too;
- ``NAME=`` with no whitespace before ``=``; whitespace right after ``=`` makes the
  value empty;
- the value must start with ``'`` and runs to the next ``'``, across lines (joined
  by ``\\n``); after the closing quote only whitespace or a ``#`` comment may follow;
- the kubelet's caller (``kubelet_pods.go``) treats an empty value like a missing key:
  the container does not start.

``kubelet_value`` returns what the container would get, or raises ``EnvFileError``
where the kubelet refuses to start it. ``tests/realagent/test_envfile.py`` checks
the double against the documented examples and against ``bash --posix``, which the
documentation names as the reference.
"""

from __future__ import annotations

MAX_LINE = 64 * 1024  # bufio.Scanner's default token limit


class EnvFileError(ValueError):
    """The kubelet would not start the container (no secret material in the message)."""


def _lines(data: bytes) -> list[str]:
    """The file's lines as bufio.ScanLines yields them."""
    text = data.decode("utf-8", errors="surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for line in lines:
        line = line[:-1] if line.endswith("\r") else line
        if len(line.encode("utf-8", errors="surrogateescape")) > MAX_LINE:
            raise EnvFileError("line too long for the kubelet's scanner")
        out.append(line)
    return out


def kubelet_value(data: bytes, key: str) -> str:
    """The value the kubelet gives variable ``key`` from env-file bytes, or EnvFileError."""
    lines = _lines(data)
    number = 0
    while number < len(lines):
        line = lines[number].lstrip(" \t")
        number += 1
        if line == "" or line.startswith("#"):
            continue
        name, equals, rest = line.partition("=")
        if not equals:
            raise EnvFileError(f"line {number}: missing '='")
        if name.rstrip(" \t") == "":
            raise EnvFileError(f"line {number}: empty variable name")
        if name != name.rstrip(" \t"):
            raise EnvFileError(f"line {number}: whitespace before '='")
        if rest != rest.lstrip(" \t"):
            if name == key:
                return _present("")
            continue
        if not rest.startswith("'"):
            raise EnvFileError(f"line {number}: value must be enclosed in single quotes")
        rest, value = rest[1:], []
        while True:
            closing = rest.find("'")
            if closing != -1:
                value.append(rest[:closing])
                after = rest[closing + 1:].lstrip(" \t")
                if after and not after.startswith("#"):
                    raise EnvFileError(f"line {number}: unexpected content after closing quote")
                if name == key:
                    return _present("".join(value))
                break
            value.append(rest + "\n")
            if number >= len(lines):
                raise EnvFileError("unclosed single quote")
            rest = lines[number]
            number += 1
    return _present("")


def _present(value: str) -> str:
    """An empty value is a missing key for a non-optional fileKeyRef."""
    if value == "":
        raise EnvFileError("key not found (or empty)")
    return value
