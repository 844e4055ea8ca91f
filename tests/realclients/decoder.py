"""Kubernetes' own YAML decoder as a test oracle: kubectl, no cluster needed.

``kubectl label --local -f FILE oracle-label- -o json`` reads every document
with sigs.k8s.io/yaml (the code Helm uses on a post-renderer's output) and
prints each object as JSON; removing a label nobody set changes nothing, except
that kubectl gives every object an empty ``metadata.labels`` map, which
``normalise`` applies to the other side of a comparison as well. Items of a
``kind: List`` come out one by one.

Many documents are decoded in one kubectl call (about 0.2 s plus 0.4 s per
1,000 documents), so a test batches everything it wants to compare:

    objects = decode(kubectl, ["kind: ConfigMap\\n...", "kind: Deployment\\n..."])  # one object per document
"""

from __future__ import annotations

import copy
import decimal
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

KUBECTL_TOOL = "kubectl-1.37.1"
TIMEOUT_S = 120


class DecodeError(Exception):
    """kubectl refused the input (its message is the exception's)."""


def decode(kubectl: Path, documents: list[str]) -> list[Any]:
    """The objects kubectl decodes from the documents (joined as one stream), in order."""
    if not documents:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.yaml"
        # (a document whose lines end in CR alone gets an LF: kubectl finds "---" lines by LF)
        texts = [doc if doc.endswith("\n") else doc + "\n" for doc in documents]
        path.write_text("".join(doc if doc.startswith("---") else "---\n" + doc for doc in texts), newline="")
        proc = subprocess.run(
            [str(kubectl), "label", "--local", "-f", str(path), "oracle-label-", "-o", "json"],
            capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
        )
    if proc.returncode != 0:
        raise DecodeError(proc.stderr.strip())
    return list(_objects(proc.stdout))


def _objects(text: str) -> Any:
    """The JSON values printed one after another."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        value, position = decoder.raw_decode(text, position)
        yield value


def normalise(obj: Any) -> Any:
    """An object as kubectl prints it after ``label --local``: metadata.labels present (empty when unset)."""
    obj = copy.deepcopy(obj)
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    if isinstance(metadata, dict) and metadata.get("labels") is None:
        metadata["labels"] = {}
    return obj


def as_json(value: Any) -> Any:
    """A value read by olrender in the shape kubectl prints: JSON types, non-string keys as Go spells them."""
    if isinstance(value, dict):
        return {_key(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _key(key: Any) -> str:
    """A mapping key as sigs.k8s.io/yaml turns it into a JSON key (floats as Go's FormatFloat(f, 'g', -1))."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        digits, exponent = _shortest(key)
        if exponent < -4 or exponent >= 6:
            mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            return f"{'-' if key < 0 else ''}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
        return format(decimal.Decimal(repr(key)).normalize(), "f")
    return str(key)


def _shortest(value: float) -> tuple[str, int]:
    """The shortest significant digits of a float and its decimal exponent (1e20 -> ("1", 20))."""
    _, digits, exp = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, len(text) + int(exp) - 1
