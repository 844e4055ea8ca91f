"""Helpers for proving kustomize patches with the real kustomize: build, decode as Kubernetes does, compare.

``kustomize_build`` writes a kustomization the way a user does (the stream, the generated objects, the
emitted patch list pasted under ``patches:``) and runs ``kubectl kustomize``; ``decode`` reads a stream
with kubectl's own decoder (``label --local ... -o json``, which adds an empty ``labels`` map and takes a
List's items as objects) into objects keyed by (apiVersion, kind, namespace, name); ``merge_order``
(olrender's own, from ``write.kustomize``) sorts the lists kustomize merges by key, whose order kustomize
changes (the entries a patch names first).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from postrenderer.read.stream import HELM4_FILENAME
from postrenderer.write.kustomize import merge_order as merge_order  # (re-exported for the proofs)

ROOT = Path(__file__).resolve().parent.parent
Identity = tuple[str, str, "str | None", str]
Objects = dict[Identity, dict[str, Any]]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without olrender settings, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLRENDER_", "OPENLINEAGE_"))}
    return {**env, **extra}


def olrender(args: list[str], data: bytes, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    """Run the olrender program as Helm would."""
    return subprocess.run([sys.executable, "-m", "postrenderer", *args], input=data, capture_output=True,
                          env=env, cwd=cwd, timeout=120, check=False)


def split_emitted(text: str) -> tuple[str, str]:
    """The patch list (the first document, verbatim) and the generated objects (the rest, verbatim)."""
    head, sep, rest = text.partition("\n---\n")
    return head + "\n", ("---\n" + rest) if sep else ""


def kustomize_build(kubectl: Path, workdir: Path, stream: bytes, emitted: str) -> subprocess.CompletedProcess[str]:
    """``kubectl kustomize`` of the stream plus the generated objects, with the emitted patch list verbatim."""
    workdir.mkdir(parents=True, exist_ok=True)
    patch_list, generated = split_emitted(emitted)
    (workdir / "rendered.yaml").write_bytes(stream)
    resources = ["rendered.yaml"]
    if generated:
        (workdir / "generated.yaml").write_text(generated)
        resources.append("generated.yaml")
    listed = "".join(f"- {name}\n" for name in resources)
    indented = "".join(f"  {line}" if line.strip() else line for line in patch_list.splitlines(keepends=True))
    (workdir / "kustomization.yaml").write_text(f"resources:\n{listed}patches:\n{indented}")
    return subprocess.run([str(kubectl), "kustomize", str(workdir)], capture_output=True, text=True, timeout=120,
                          check=False)


def decode(kubectl: Path, text: str, workdir: Path) -> Objects:
    """The objects of a stream as Kubernetes' decoder reads them, by (apiVersion, kind, namespace, name)."""
    path = workdir / "decode.yaml"
    path.write_text(text)
    proc = subprocess.run([str(kubectl), "label", "--local", "-f", str(path), "olrender-proof-", "-o", "json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    decoder, out, rest = json.JSONDecoder(), {}, proc.stdout.strip()
    while rest:
        obj, end = decoder.raw_decode(rest)
        rest = rest[end:].lstrip()
        meta = obj["metadata"]
        key = (obj["apiVersion"], obj["kind"], meta.get("namespace"), meta.get("name"))
        assert key not in out, f"{key} twice"
        out[key] = obj
    return out


def without_helm4_filename(objects: Objects, added: set[Identity]) -> Objects:
    """The objects, the Helm 4 filename annotation removed from those olrender added."""
    out = dict(objects)
    for key in added:
        obj = json.loads(json.dumps(out[key]))
        annotations = obj["metadata"].get("annotations", {})
        annotations.pop(HELM4_FILENAME, None)
        if not annotations:
            obj["metadata"].pop("annotations", None)
        out[key] = obj
    return out


def identity(doc: dict[str, Any]) -> Identity:
    """(apiVersion, kind, namespace, name) of a document."""
    meta = doc["metadata"]
    return doc["apiVersion"], doc["kind"], meta.get("namespace"), meta["name"]
