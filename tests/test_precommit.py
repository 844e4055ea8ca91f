"""Tests for postrenderer.cli.precommit and .pre-commit-hooks.yaml, through the real pre-commit (from PyPI).

The hook repository is a git repository holding what pre-commit installs (pyproject.toml, README.md,
postrenderer/, .pre-commit-hooks.yaml), committed; ``rev:`` is its commit SHA, as docs/pre-commit.md
says to pin until the first release. A user's repository holds rendered manifests (one rendered
through olrender, one straight from Helm, without the key) and the test chart. Runs, at the same
time (each waits for the hooks' environment, which is most of the time):

- ``pre-commit try-repo HOOK_REPO --files ...``: both hooks with their defaults, also given the
  chart's ``Chart.yaml`` and ``values.yaml`` (the manifests hook must skip them);
- ``pre-commit run --all-files`` with the ``.pre-commit-config.yaml`` of docs/pre-commit.md (``files:``
  and ``args:`` set), the repository URL and revision replaced by the hook repository's, once with
  ``apiKeySecret`` and once with the ``vault`` method in the values file;
- ``pre-commit run --files charts/values-prod.yaml`` in the committed repository after only the
  values file changed: the chart hook runs, renders through olrender, and passes.

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

from postrenderer.cli.precommit import charts, not_a_stream, split
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


VAULT_VALUES = """openLineage:
  namespace: ultraviolet-corona-6870
  vault:
    addr: https://vault.example.com:8200
    role: astro-agent
    secretPath: kv/data/astro/openlineage
    secretField: apiKey
"""


def test_split_separates_options_from_files() -> None:
    """Words starting with a dash are options (the hook's own, olrender's), the rest files."""
    assert split(["--chart", "--release=x", "--chart-dir=c", "--values=v.yaml", "a/Chart.yaml", "b.yaml"]) == (
        ["--chart", "--release=x", "--chart-dir=c"], ["--values=v.yaml"], ["a/Chart.yaml", "b.yaml"])


def test_only_streams_of_manifests_reach_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Charts' files and YAML without a top-level apiVersion and kind are no manifest streams; rendered ones are."""
    chart = tmp_path / "charts" / "agent"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: agent\nversion: 1.0.0\n")
    monkeypatch.chdir(tmp_path)
    manifest = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    assert not_a_stream("rendered/agent.yaml", manifest) is None
    assert not_a_stream("charts/agent/Chart.yaml", b"apiVersion: v2\nkind: x\n")
    assert not_a_stream("deploy/values-prod.yaml", manifest)
    assert not_a_stream("charts/agent/templates/worker.yaml", manifest)
    assert not_a_stream(".github/workflows/ci.yaml", b"on: push\njobs: {}\n")
    assert charts([], ["charts/agent/Chart.yaml", "charts/agent/templates/worker.yaml", "deploy/values.yaml"]) == (
        ["charts/agent"], ["deploy/values.yaml"])
    assert charts(["--chart-dir=charts/agent/"], ["deploy/values.yaml"]) == (["charts/agent"], [])


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
    vault = base / "vault"  # ... with the vault method
    shutil.copytree(documented, vault)
    (vault / "charts" / "values-prod.yaml").write_text(VAULT_VALUES)
    for repository in (user, documented, vault):
        git("init", "-q", cwd=repository)
        git("add", "-A", cwd=repository)
    values_only = base / "values-only"  # committed, then only the values file changes
    shutil.copytree(documented, values_only)
    git("commit", "-qm", "deploy", cwd=values_only)
    (values_only / "charts" / "values-prod.yaml").write_text(
        "openLineage:\n  apiKeySecret: other-openlineage-key\n  namespace: ultraviolet-corona-6870\n")
    git("add", "-A", cwd=values_only)

    helm = Path(real_tool("helm-4.3.1"))
    env = {**os.environ, "PATH": os.pathsep.join([str(helm.parent), os.environ.get("PATH", "")]),
           "PRE_COMMIT_HOME": str(base / "cache"), "HELM_CACHE_HOME": str(base / "helm" / "cache"),
           "HELM_CONFIG_HOME": str(base / "helm" / "config"), "HELM_DATA_HOME": str(base / "helm" / "data")}
    env = {k: v for k, v in env.items() if not k.startswith(("OLRENDER_", "OPENLINEAGE_"))}
    commands = {
        "try-repo": (user, ["try-repo", str(hooks), "--files", "rendered/agent.yaml", "rendered/bare.yaml",
                            "charts/agent/Chart.yaml", "charts/agent/values.yaml"]),
        "run": (documented, ["run", "--all-files"]),
        "vault": (vault, ["run", "--all-files"]),
        "values-only": (values_only, ["run", "--files", "charts/values-prod.yaml"]),
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(subprocess.run, [sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env,
                                     capture_output=True, text=True, timeout=600, check=False)
                   for name, (cwd, args) in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def test_try_repo_checks_each_file_and_chart(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """try-repo: the manifests hook passes the rendered file, fails the bare one, never sees the chart's files."""
    proc = runs["try-repo"]
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    found = sections(output)
    manifests, chart = found["olrender --check (rendered manifests)"], found["olrender --check (charts)"]
    assert manifests.startswith("Failed")
    assert re.search(r"rendered/agent\.yaml:\nolrender: check passed: 4 agent component", manifests)
    assert re.search(r"rendered/bare\.yaml:\nolrender: error: --check failed: 4 of 4", manifests)
    assert "Chart.yaml" not in manifests and "values.yaml" not in manifests, "a chart's files reached --check"
    assert chart.startswith("Failed"), output  # rendered through olrender, which has no key source
    assert "charts/agent (through olrender):\nolrender: error: invalid config: the secret method needs a key" in chart


@pytest.mark.parametrize("name", ["run", "vault"])
def test_documented_config_passes(runs: dict[str, subprocess.CompletedProcess[str]], name: str) -> None:
    """The documented config (files: for the manifests hook, the chart and its values as args) passes, any method."""
    proc = runs[name]
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    found = sections(output)
    assert found["olrender --check (rendered manifests)"].startswith("Passed")
    assert found["olrender --check (charts)"].startswith("Passed")


def test_a_changed_values_file_runs_the_chart_hook(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """Only the values file changed: the chart hook renders the chart through olrender and checks it."""
    proc = runs["values-only"]
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    found = sections(output)
    assert found["olrender --check (charts)"].startswith("Passed")
    assert "(no files to check)" in output  # the manifests hook had nothing to do
