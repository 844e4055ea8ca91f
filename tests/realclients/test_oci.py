"""The plugin package through a real OCI registry: pushed by ``helm-plugin/push.py``, installed by real helm 4.3.1.

The registry is Debian's ``docker-registry`` (distribution 2.8, installed by tests/tools/registry.py
when missing), started on 127.0.0.1 with a free port and stopped afterwards; under ``CI=true`` a
registry that cannot be had fails the test. ``push.py`` is what the release workflow runs against
ghcr.io (there with a login): the artifact type ``application/vnd.helm.plugin.v1+json`` and a layer
``olrender-VERSION.tgz`` (plus ``.tgz.prov`` when signed), as Helm's ``pkg/registry/plugin.go`` reads
them. Helm 4.3.1 refuses an unsigned plugin from a registry (``no provenance file (.prov) found``) and
installs it with ``--verify=false``; a package signed with a throwaway GnuPG key installs with
verification against the public keyring. Both installs run with no olrender on ``PATH`` and render.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from postrenderer import __version__
from tests.realclients.clients import REPO, doc_block
from tests.realclients.test_packaging import (
    HELM,
    PACKAGE,
    SYSTEM_PATH,
    bare,
    copy_clone,
    gnupg,
    package_in,
    plugin_dir,
    render,
    run,
)
from tests.tools.pytest_realtools import RealTool, _in_ci
from tests.tools.realtools import ToolUnavailable
from tests.tools.registry import ensure_registry, serving

pytestmark = pytest.mark.realclient


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running registry on the loopback address: ``127.0.0.1:PORT``."""
    try:
        with serving(ensure_registry(), tmp_path_factory.mktemp("registry")) as address:
            yield address
    except ToolUnavailable as exc:
        if _in_ci():
            pytest.fail(f"no OCI registry: {exc} (CI must not skip)", pytrace=False)
        pytest.skip(f"no OCI registry: {exc}")


@pytest.fixture(scope="module")
def packages(real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The documented package.sh in a clone: the unsigned package; then the same wheel signed (with its .prov)."""
    clone = copy_clone(tmp_path_factory.mktemp("unsigned") / "olrender")
    path = os.pathsep.join([str(Path(real_tool(HELM)).parent), SYSTEM_PATH])
    run(["sh", "-ec", doc_block("plugin-package")], cwd=clone, env={"PATH": path})
    signed = copy_clone(tmp_path_factory.mktemp("signed") / "olrender")
    home = tmp_path_factory.mktemp("gnupg")
    with gnupg(home) as gpg_home:
        package_in(signed, real_tool, clone / "dist" / f"olrender-{__version__}-py3-none-any.whl",
                   "plugin-package-signed", {"HOME": str(gpg_home)})
    assert (signed / f"{PACKAGE}.prov").is_file()
    return {"unsigned": clone / PACKAGE, "signed": signed / PACKAGE, "pubring": gpg_home / ".gnupg" / "pubring.gpg"}


def push(package: Path, reference: str) -> None:
    """``python helm-plugin/push.py PACKAGE REFERENCE --plain-http``, as the release workflow runs it."""
    proc = run([sys.executable, str(REPO / "helm-plugin" / "push.py"), str(package), reference, "--plain-http"],
               cwd=package.parent)
    assert f"Pushed {reference}: sha256:" in proc.stdout


def install_command(registry: str, repository: str) -> str:
    """The documented install from ghcr.io, pointed at the loopback registry (plain HTTP)."""
    command = doc_block("plugin-install-oci")
    assert "oci://ghcr.io/OWNER/olrender:" in command
    return command.replace("ghcr.io/OWNER", f"{registry}/{repository}").replace(" --verify", " --plain-http --verify")


def test_unsigned_plugin_from_the_registry(registry: str, packages: dict[str, Path], real_tool: RealTool,
                                           tmp_path: Path) -> None:
    """Refused without a .prov, installed with --verify=false, renders with no olrender on PATH."""
    reference = f"oci://{registry}/unsigned/olrender:{__version__}"
    push(packages["unsigned"], reference)
    client = bare(real_tool, tmp_path / "home")
    refused = client.run("plugin", "install", reference, "--plain-http").failed()
    assert "plugin verification failed: no provenance file (.prov) found" in refused.stderr
    assert not plugin_dir(client).exists()
    installed = client.shell(install_command(registry, "unsigned"), cwd=tmp_path).ok()
    assert f"olrender, version {__version__}" in installed.stdout and "Installed plugin: olrender" in installed.stdout
    render(client)


def test_signed_plugin_from_the_registry(registry: str, packages: dict[str, Path], real_tool: RealTool,
                                         tmp_path: Path) -> None:
    """The .prov travels as a layer: helm verifies the package against the public keyring, then it renders."""
    reference = f"oci://{registry}/signed/olrender:{__version__}"
    push(packages["signed"], reference)
    client = bare(real_tool, tmp_path / "home")
    installed = client.run("plugin", "install", reference, "--plain-http", "--keyring", str(packages["pubring"])).ok()
    assert "Plugin Hash Verified: sha256:" in installed.stdout, installed.stdout + installed.stderr
    render(client)
