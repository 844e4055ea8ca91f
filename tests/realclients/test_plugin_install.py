"""`helm plugin install` under real Helm 3.17.2: what breaks, and the recovery docs/helm.md prescribes.

Helm 3 cannot read the Helm 4 ``plugin.yaml``; the failed install leaves a link that makes every
later command warn and ``helm plugin uninstall`` fail. The documented commands, run verbatim in
the clone, repair it without touching the clone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.realclients.clients import HELM3_TOOL, REPO, doc_block, make_client
from tests.tools.pytest_realtools import RealTool

pytestmark = pytest.mark.realclient

UNUSABLE = 'json: unknown field "apiVersion"'


def test_helm3_plugin_install_breaks_helm_and_the_documented_recovery_repairs_it(
    real_tool: RealTool, tmp_path: Path
) -> None:
    """Install fails, later commands warn, uninstall fails; the docs' `rm` of the link makes Helm 3 quiet again."""
    client = make_client(real_tool, tmp_path / "home", HELM3_TOOL)
    clone = tmp_path / "olrender"  # what `git clone .../olrender` creates
    clone.mkdir()
    shutil.copy2(REPO / "plugin.yaml", clone / "plugin.yaml")
    (clone / "README.md").write_text("the clone\n")

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
