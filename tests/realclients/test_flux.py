"""docs/flux.md, run as documented: patches made for a HelmRelease, and the CI step that renders it.

Flux's helm-controller cannot run here (no cluster). What it does is rendered the same way by
``integrations/flux/render-helmrelease.sh``: real helm 4.3.1 renders the chart with the release's
name, namespace and values, and the kustomize in real kubectl 1.37.1 applies each
``spec.postRenderers[].kustomize``. The documented commands run verbatim in bash, with the test
chart's path in place of ``astronomer/astro-remote-execution-agent``::

    helm template astro-agent CHART --namespace astro -f values.yaml | olrender ... --emit-kustomize-patches
    integrations/flux/render-helmrelease.sh deploy/helmrelease.yaml CHART | olrender --check >/dev/null

``integrations/flux/helmrelease.yaml`` must hold exactly the patches olrender prints today; after an
intended change, ``OLRENDER_UPDATE_GOLDEN=1 python -m pytest tests/realclients/test_flux.py`` rewrites
them and skips: read the new file before committing it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.kustomize_proof import decode, kustomize_build, merge_order
from tests.realclients.clients import CHART, REPO, Client, doc_block, make_client
from tests.tools.pytest_realtools import RealTool

pytestmark = pytest.mark.realclient

FLUX_DOC = REPO / "docs" / "flux.md"
EXAMPLE = REPO / "integrations" / "flux" / "helmrelease.yaml"
SCRIPT = REPO / "integrations" / "flux" / "render-helmrelease.sh"
CHART_REF = "astronomer/astro-remote-execution-agent"
UPDATE = os.environ.get("OLRENDER_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def client(real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> Client:
    """Helm 4.3.1 and kubectl 1.37.1 on PATH (olrender after them), no plugin needed."""
    return make_client(real_tool, tmp_path_factory.mktemp("flux"), "helm-4.3.1", "kubectl-1.37.1")


def documented(marker: str) -> str:
    """A command block of docs/flux.md, with the test chart in place of the chart reference."""
    return doc_block(marker, FLUX_DOC).replace(CHART_REF, str(CHART))


def release(text: str | None = None) -> dict[str, Any]:
    """The example HelmRelease, parsed."""
    doc = yaml.safe_load(EXAMPLE.read_text() if text is None else text)
    assert doc["kind"] == "HelmRelease"
    return dict(doc)


def repository(tmp_path: Path, helmrelease: str) -> Path:
    """A user's repository: the CI script where the docs put it, the HelmRelease in deploy/."""
    (tmp_path / "integrations" / "flux").mkdir(parents=True)
    shutil.copy2(SCRIPT, tmp_path / "integrations" / "flux" / SCRIPT.name)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "helmrelease.yaml").write_text(helmrelease)
    return tmp_path


def test_example_holds_the_patches_olrender_prints(client: Client, tmp_path: Path) -> None:
    """The documented command, on the example's values, prints exactly the example's patches."""
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(release()["spec"]["values"]))
    client.bash(documented("flux-generate"), tmp_path).ok()
    emitted = (tmp_path / "patches.yaml").read_text()
    patch_list = emitted.partition("\n---\n")[0]
    assert "\n---\n" not in emitted, "existing-secret generates no objects"
    if UPDATE:
        head = EXAMPLE.read_text().partition("        patches:\n")[0]
        lines = "".join(f"{' ' * 10}{line}" if line.strip() else line
                        for line in (patch_list + "\n").splitlines(keepends=True))
        EXAMPLE.write_text(f"{head}        patches:\n{lines}")
        pytest.skip("rewrote integrations/flux/helmrelease.yaml: read it before committing")
    assert release()["spec"]["postRenderers"] == [{"kustomize": {"patches": yaml.safe_load(patch_list)}}]


def test_docs_excerpt_is_the_triggerer_patch() -> None:
    """The patch shown in docs/flux.md is the example's patch for the triggerer, as printed."""
    excerpt = FLUX_DOC.read_text().partition("DAG processor and Triggerer:\n\n```yaml\n")[2].partition("```")[0]
    (patch,) = yaml.safe_load(excerpt)
    patches = release()["spec"]["postRenderers"][0]["kustomize"]["patches"]
    assert patch in patches and patch["target"]["name"] == "astro-agent-triggerer"


def test_ci_step_passes_and_renders_what_olrender_renders(client: Client, tmp_path: Path) -> None:
    """The CI step passes on the example; the script's render is helm template piped into olrender (up to order)."""
    repo = repository(tmp_path, EXAMPLE.read_text())
    client.bash(documented("flux-ci"), repo).ok()
    flux = client.run("integrations/flux/render-helmrelease.sh", "deploy/helmrelease.yaml", str(CHART),
                      cwd=repo, program="sh").ok()
    direct = client.bash(
        f"set -o pipefail; helm template astro-agent {CHART} --namespace astro -f values.json"
        " | olrender --api-key-secret=team-openlineage-key --namespace=ultraviolet-corona-6870",
        _values_dir(tmp_path / "direct")).ok()
    kubectl = client.home / "bin" / "kubectl"
    built, rendered = decode(kubectl, flux.stdout, tmp_path), decode(kubectl, direct.stdout, tmp_path)
    assert merge_order(built) == merge_order(rendered), "the same objects, up to kustomize's order of named entries"


def _values_dir(path: Path) -> Path:
    """A directory holding the example's values as values.json."""
    path.mkdir()
    (path / "values.json").write_text(yaml.safe_dump(release()["spec"]["values"]))
    return path


def test_ci_step_fails_when_a_patch_matches_nothing(client: Client, tmp_path: Path) -> None:
    """A patch whose target no longer exists (a renamed workload) makes the CI step fail with --check's exit 6."""
    text = EXAMPLE.read_text().replace("name: astro-agent-triggerer", "name: astro-agent-renamed-triggerer")
    assert text != EXAMPLE.read_text()
    repo = repository(tmp_path, text)
    client.run("integrations/flux/render-helmrelease.sh", "deploy/helmrelease.yaml", str(CHART), cwd=repo,
               program="sh").ok()  # kustomize says nothing of a patch that matches nothing
    failed = client.bash(documented("flux-ci"), repo).failed()
    assert failed.returncode == 6
    assert "Deployment/astro-agent-triggerer" in failed.stderr and "OPENLINEAGE_API_KEY" in failed.stderr


GENERATE = ("set -o pipefail; helm template astro-agent {chart} --namespace astro -f {values}"
            " | olrender --api-key-secret=team-openlineage-key --namespace=ultraviolet-corona-6870"
            " --emit-kustomize-patches >{out}")


def test_an_env_entry_the_chart_drops_stays_dropped(client: Client, tmp_path: Path) -> None:
    """Patches made with commonEnv set, applied by kustomize to a render whose values dropped it: it stays gone."""
    (tmp_path / "before.yaml").write_text(yaml.safe_dump({"commonEnv": [{"name": "ASTRO_ORGANIZATION_ID",
                                                                          "value": "org-1"}]}))
    (tmp_path / "after.yaml").write_text(yaml.safe_dump({"commonEnv": []}))
    client.bash(GENERATE.format(chart=CHART, values="before.yaml", out="patches.yaml"), tmp_path).ok()
    emitted = (tmp_path / "patches.yaml").read_text()
    assert "ASTRO_ORGANIZATION_ID" not in emitted, "a patch names only what it adds"
    rendered = client.run("template", "astro-agent", str(CHART), "--namespace", "astro", "-f", "after.yaml",
                          cwd=tmp_path).ok()
    built = kustomize_build(client.home / "bin" / "kubectl", tmp_path / "kustomize", rendered.stdout.encode(),
                            emitted)
    assert built.returncode == 0, built.stderr
    objects = decode(client.home / "bin" / "kubectl", built.stdout, tmp_path)
    components = [obj for obj in objects.values() if obj["kind"] == "Deployment"
                  and obj["metadata"]["name"] != "astro-agent-sentinel"]
    assert len(components) == 4
    patched = {p["target"]["name"]: yaml.safe_load(p["patch"]) for p in yaml.safe_load(emitted.partition("\n---\n")[0])}
    for obj in components:
        env = [entry["name"] for c in obj["spec"]["template"]["spec"]["containers"] for entry in c.get("env", [])]
        assert "ASTRO_ORGANIZATION_ID" not in env, obj["metadata"]["name"]
        (container,) = patched[obj["metadata"]["name"]]["spec"]["template"]["spec"]["containers"]
        named = [entry["name"] for entry in container["env"]]
        assert "OPENLINEAGE_API_KEY" in named
        assert env[: len(named)] == named, "what the patch adds comes first, in the patch's order"
    checked = client.bash(f"olrender --check >/dev/null <<'EOF'\n{built.stdout}EOF", tmp_path)
    assert checked.returncode == 0, checked.stderr


def test_committed_patches_that_differ_fail_ci(client: Client, tmp_path: Path) -> None:
    """The documented CI gate: --committed-patches passes on the example, exits 7 with a diff once values change."""
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(release()["spec"]["values"]))
    repo = repository(tmp_path / "repo", EXAMPLE.read_text())
    shutil.copy2(tmp_path / "values.yaml", repo / "values.yaml")
    client.bash(documented("flux-committed"), repo).ok()
    helmrelease = repo / "deploy" / "helmrelease.yaml"
    helmrelease.write_text(helmrelease.read_text().replace("team-openlineage-key", "old-openlineage-key"))
    failed = client.bash(documented("flux-committed"), repo).failed()
    assert failed.returncode == 7, failed.stderr
    lines = [line.strip() for line in failed.stderr.splitlines()]
    assert any(line.startswith("-") and line.endswith("name: old-openlineage-key") for line in lines)
    assert any(line.startswith("+") and line.endswith("name: team-openlineage-key") for line in lines)
    assert failed.stdout == "", "nothing on stdout"
