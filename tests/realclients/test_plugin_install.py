"""Installing and removing the plugin from a clone and from a Git URL, with real Helm 4.3.1 and Helm 3.17.2.

A clone is a Git repository of the files a checkout holds (plugin.yaml, helm-plugin/, pyproject.toml,
README.md, postrenderer/). Helm 4 installs it as a link and runs the install hook, which creates
``venv/`` in the clone with olrender installed from the clone itself: with a ``PATH`` of helm and the
system tools only (no olrender) the plugin renders, and ``helm plugin uninstall olrender`` removes
just the link (the README's Uninstall), leaving the clone clean for git. The Git URL is served by
``git daemon`` on the loopback address (the only network here); Helm clones it into its cache, runs
the same hook, and ``helm plugin update`` pulls and runs it again. Helm 3 cannot read the Helm 4
``plugin.yaml``; the failed install leaves a link that makes every later command warn and ``helm
plugin uninstall`` fail. The recovery docs/helm.md prescribes, run verbatim in the clone, repairs it.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from postrenderer import __version__
from tests.realclients.clients import HELM3_TOOL, REPO, doc_block, make_client
from tests.realclients.test_packaging import bare, git, git_clone, plugin_dir, render
from tests.tools.pytest_realtools import RealTool

pytestmark = pytest.mark.realclient

UNUSABLE = 'json: unknown field "apiVersion"'
def installed_from_clone(real_tool: RealTool, tmp_path: Path) -> None:
    """`helm plugin install .` with no olrender on PATH renders; uninstall removes the link; the clone stays clean."""
    client = bare(real_tool, tmp_path / "home")
    clone, commit = git_clone(tmp_path / "olrender")
    installed = client.run("plugin", "install", ".", cwd=clone).ok()
    assert f"olrender, version {__version__} (commit {commit})\nInstalled plugin: olrender" in installed.stdout
    assert plugin_dir(client).resolve() == clone and (clone / "venv" / "bin" / "olrender").is_file()
    render(client)
    client.run("plugin", "uninstall", "olrender").ok()
    assert not plugin_dir(client).exists() and "olrender" not in client.run("plugin", "list").ok().stdout
    assert git("status", "--porcelain", cwd=clone) == "", "the clone changed in files git tracks or sees"


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[str]:
    """`git daemon` serving a bare clone as git://127.0.0.1:PORT/olrender; the URL."""
    clone, _ = git_clone(tmp_path / "source" / "olrender")
    served = tmp_path / "served"
    served.mkdir()
    git("clone", "-q", "--bare", str(clone), str(served / "olrender.git"), cwd=tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daemon = subprocess.Popen(["git", "daemon", f"--base-path={served}", "--export-all", "--listen=127.0.0.1",
                               f"--port={port}", str(served)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if subprocess.run(["git", "ls-remote", f"git://127.0.0.1:{port}/olrender"], capture_output=True,
                              timeout=60, check=False).returncode == 0:
                break
            assert daemon.poll() is None, daemon.stderr.read() if daemon.stderr else "git daemon exited"
        yield f"git://127.0.0.1:{port}/olrender"
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)


def installed_from_git_url(real_tool: RealTool, tmp_path: Path, url: str) -> None:
    """`helm plugin install URL --verify=false` renders without olrender on PATH; update runs the hook again."""
    client = bare(real_tool, tmp_path / "home")
    refused = client.run("plugin", "install", url).failed()
    assert "plugin source does not support verification. Use --verify=false" in refused.stderr
    installed = client.run("plugin", "install", url, "--verify=false").ok()
    assert re.search(rf"olrender, version {re.escape(__version__)} \(commit [0-9a-f]{{40}}\)\n"
                     "Installed plugin: olrender", installed.stdout), installed.stdout
    render(client)
    updated = client.run("plugin", "update", "olrender").ok()
    assert "Updated plugin: olrender" in updated.stdout and f"olrender, version {__version__}" in updated.stdout
    render(client)
    client.run("plugin", "uninstall", "olrender").ok()
    assert not plugin_dir(client).exists()


@pytest.fixture
def one_step(real_tool: RealTool, tmp_path: Path, git_daemon: str) -> Iterator[dict[str, Future[None]]]:
    """Both one-step installs (each creates a Python environment), started at once."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {"clone": pool.submit(installed_from_clone, real_tool, tmp_path / "clone"),
               "url": pool.submit(installed_from_git_url, real_tool, tmp_path / "url", git_daemon)}


def test_helm4_installs_from_a_clone_and_from_a_git_url_in_one_step(one_step: dict[str, Future[None]]) -> None:
    """Clone and Git URL: one `helm plugin install`, no olrender on PATH, and it renders; uninstall cleans up."""
    one_step["clone"].result()
    one_step["url"].result()


def clone_with_plugin(tmp_path: Path) -> Path:
    """A directory named as `git clone` names it, holding the plugin and a file of the clone's own."""
    clone = tmp_path / "olrender"
    clone.mkdir()
    shutil.copy2(REPO / "plugin.yaml", clone / "plugin.yaml")
    (clone / "README.md").write_text("the clone\n")
    return clone


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
