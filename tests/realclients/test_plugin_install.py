"""Installing and removing the plugin from a clone, with real Helm 4.3.1 and Helm 3.17.2.

Helm 4 installs the clone as a link and ``helm plugin uninstall olrender`` removes just that
link (the README's Uninstall). Helm 3 cannot read the Helm 4 ``plugin.yaml``; the failed install
leaves a link that makes every later command warn and ``helm plugin uninstall`` fail. The
recovery docs/helm.md prescribes, run verbatim in the clone, repairs it without touching the
clone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.realclients.clients import HELM3_TOOL, REPO, Client, doc_block, make_client
from tests.tools.pytest_realtools import RealTool

pytestmark = pytest.mark.realclient

UNUSABLE = 'json: unknown field "apiVersion"'


def clone_with_plugin(tmp_path: Path) -> Path:
    """A directory named as `git clone` names it, holding the plugin and a file of the clone's own."""
    clone = tmp_path / "olrender"
    clone.mkdir()
    shutil.copy2(REPO / "plugin.yaml", clone / "plugin.yaml")
    (clone / "README.md").write_text("the clone\n")
    return clone


def test_helm4_uninstall_removes_the_plugin_and_keeps_the_clone(real_tool: RealTool, tmp_path: Path) -> None:
    """`helm plugin install .` then `helm plugin uninstall olrender`: no plugin left, the clone as it was."""
    client: Client = make_client(real_tool, tmp_path / "home", "helm-4.3.1")
    clone = clone_with_plugin(tmp_path)
    assert "Installed plugin: olrender" in client.run("plugin", "install", ".", cwd=clone).ok().stdout
    assert "olrender" in client.run("plugin", "list").ok().stdout
    client.run("plugin", "uninstall", "olrender").ok()
    assert "olrender" not in client.run("plugin", "list").ok().stdout
    assert (clone / "README.md").read_text() == "the clone\n" and (clone / "plugin.yaml").exists()


def test_helm3_plugin_install_breaks_helm_and_the_documented_recovery_repairs_it(
    real_tool: RealTool, tmp_path: Path
) -> None:
    """Install fails, later commands warn, uninstall fails; the docs' `rm` of the link makes Helm 3 quiet again."""
    client = make_client(real_tool, tmp_path / "home", HELM3_TOOL)
    clone = clone_with_plugin(tmp_path)

    installed = client.run("plugin", "install", ".", cwd=clone).failed()
    assert UNUSABLE in installed.stderr
    later = client.run("version", "--short").ok()
    assert "failed to load plugins" in later.stderr and UNUSABLE in later.stderr
    assert UNUSABLE in client.run("plugin", "uninstall", "olrender").failed().stderr

    recovery = client.shell(doc_block("helm3-plugin-recovery"), cwd=clone).ok()
    assert "olrender ->" in recovery.stdout  # the listing showed the link
    after = client.run("plugin", "list").ok()
    assert after.stderr == "" and "olrender" not in after.stdout
    assert client.run("version", "--short").ok().stderr == ""
    assert (clone / "README.md").read_text() == "the clone\n" and (clone / "plugin.yaml").exists()
