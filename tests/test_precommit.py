"""Tests for postrenderer.cli.precommit and .pre-commit-hooks.yaml, through the real pre-commit (from PyPI).

The hook repository is a git repository holding what pre-commit installs (pyproject.toml, README.md,
postrenderer/, .pre-commit-hooks.yaml), committed. A user's repository holds rendered manifests (one
rendered through olrender, one straight from Helm, without the key) and the test chart. Two runs, at
the same time (each installs the hooks' environment, which is most of the time):

- ``pre-commit try-repo HOOK_REPO --files ...``: both hooks with their defaults;
- ``pre-commit run --all-files`` with the ``.pre-commit-config.yaml`` of docs/pre-commit.md (``files:``
  and ``args:`` set), the repository URL and revision replaced by the hook repository's.

Real helm 4.3.1 is on PATH for the chart hook.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from postrenderer.cli.precommit import split
from tests.tools.pytest_realtools import RealTool

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "pre-commit.md"
HOOK_FILES = ("pyproject.toml", "README.md", "postrenderer", ".pre-commit-hooks.yaml")
GIT = ["git", "-c", "user.name=olrender tests", "-c", "user.email=tests@example.invalid", "-c", "commit.gpgsign=false"]


def git(*args: str, cwd: Path) -> str:
    """Run git; return its stdout."""
    return subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True).stdout


def sections(output: str) -> dict[str, str]:
    """pre-commit's output per hook: the hook's name to its status line and details."""
    found: dict[str, str] = {}
    for match in re.finditer(r"^(olrender --check \([^)]*\))\.+(\w+)\n(.*?)(?=^olrender --check \(|\Z)", output,
                             re.MULTILINE | re.DOTALL):
        found[match[1]] = match[2] + "\n" + match[3]
    return found


def test_split_separates_options_from_files() -> None:
    """Words starting with a dash are options (the hook's own, olrender's), the rest files."""
    assert split(["--chart", "--release=x", "--values=v.yaml", "a/Chart.yaml", "b.yaml"]) == (
        ["--chart", "--release=x"], ["--values=v.yaml"], ["a/Chart.yaml", "b.yaml"])


@pytest.fixture(scope="module")
def runs(real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Both pre-commit runs, started at once."""
    base = tmp_path_factory.mktemp("pre-commit")
    hooks = base / "olrender"
    for name in HOOK_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, hooks / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            hooks.mkdir(exist_ok=True)
            shutil.copy2(source, hooks / name)
    git("init", "-q", cwd=hooks)
    git("add", "-A", cwd=hooks)
    git("commit", "-qm", "hooks", cwd=hooks)
    rev = git("rev-parse", "HEAD", cwd=hooks).strip()

    user = base / "deploy"
    (user / "rendered").mkdir(parents=True)
    stream = (ROOT / "fixtures" / "streams" / "helm3.yaml").read_bytes()
    rendered = subprocess.run([sys.executable, "-m", "postrenderer", "--api-key-secret", "team-openlineage-key"],
                              input=stream, capture_output=True, timeout=60, check=True).stdout
    (user / "rendered" / "agent.yaml").write_bytes(rendered)
    (user / "rendered" / "bare.yaml").write_bytes(stream)
    shutil.copytree(ROOT / "fixtures" / "chart" / "astro-agent", user / "charts" / "agent")
    (user / "charts" / "values-prod.yaml").write_text(
        "openLineage:\n  apiKeySecret: team-openlineage-key\n  namespace: ultraviolet-corona-6870\n")
    config = re.search(r"<!-- pre-commit-config -->\n```yaml\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert config, "docs/pre-commit.md has no block marked <!-- pre-commit-config -->"
    text = re.sub(r"(?m)^(\s*-?\s*repo: ).*$", rf"\g<1>{hooks}", config[1])
    (user / ".pre-commit-config.yaml").write_text(re.sub(r"(?m)^(\s*rev: ).*$", rf"\g<1>{rev}", text))
    documented = base / "documented"  # the same repository without the bare render
    shutil.copytree(user, documented)
    (documented / "rendered" / "bare.yaml").unlink()
    for repository in (user, documented):
        git("init", "-q", cwd=repository)
        git("add", "-A", cwd=repository)

    helm = Path(real_tool("helm-4.3.1"))
    env = {**os.environ, "PATH": os.pathsep.join([str(helm.parent), os.environ.get("PATH", "")]),
           "PRE_COMMIT_HOME": str(base / "cache"), "HELM_CACHE_HOME": str(base / "helm" / "cache"),
           "HELM_CONFIG_HOME": str(base / "helm" / "config"), "HELM_DATA_HOME": str(base / "helm" / "data")}
    env = {k: v for k, v in env.items() if not k.startswith(("OLRENDER_", "OPENLINEAGE_"))}
    commands = {
        "try-repo": (user, ["try-repo", str(hooks), "--files", "rendered/agent.yaml", "rendered/bare.yaml",
                            "charts/agent/Chart.yaml"]),
        "run": (documented, ["run", "--all-files"]),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(subprocess.run, [sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env,
                                     capture_output=True, text=True, timeout=600, check=False)
                   for name, (cwd, args) in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def test_try_repo_checks_each_file_and_chart(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """try-repo: the manifests hook passes the rendered file, fails the bare one; the chart hook fails the chart."""
    proc = runs["try-repo"]
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    found = sections(output)
    manifests, charts = found["olrender --check (rendered manifests)"], found["olrender --check (charts)"]
    assert manifests.startswith("Failed")
    assert re.search(r"rendered/agent\.yaml:\nolrender: check passed: 4 agent component", manifests)
    assert re.search(r"rendered/bare\.yaml:\nolrender: error: --check failed: 4 of 4", manifests)
    assert "charts/agent/Chart.yaml:\nolrender: error:" in manifests, "with no files: set, Chart.yaml is checked too"
    assert charts.startswith("Failed")
    assert "charts/agent/Chart.yaml:\nolrender: error: --check failed: 4 of 4" in charts
    assert "OPENLINEAGE_API_KEY: is not set" in charts


def test_documented_config_passes(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """The documented config (files: for the manifests hook, the chart's values as args) passes."""
    proc = runs["run"]
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    found = sections(output)
    assert found["olrender --check (rendered manifests)"].startswith("Passed")
    assert found["olrender --check (charts)"].startswith("Passed")
