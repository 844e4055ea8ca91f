"""The golden-file regression recipe of docs/helm.md, run exactly as documented.

``fixtures/recipe/`` holds the example: ``values.yaml`` (Vault method), ``expected.yaml``
(the committed render, made with Helm 4.3.1) and ``check-render.sh``, which must be the
script the docs show::

    fixtures/recipe/check-render.sh fixtures/chart/astro-agent        # silent, exit 0

After an intended change, ``OLRENDER_UPDATE_GOLDEN=1 python -m pytest tests/realclients/test_recipe.py``
runs the documented command with ``UPDATE=1`` (Helm 4.3.1) and skips; read the new
expected.yaml before committing it.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import pytest

from tests.realclients.clients import (
    CHART,
    COMPONENTS,
    MAIN_CONTAINER,
    REPO,
    VAULT_SOURCE,
    Client,
    by_key,
    doc_block,
    install_plugin,
    make_client,
    parse_documents,
)
from tests.tools.pytest_realtools import RealTool

pytestmark = pytest.mark.realclient

RECIPE = REPO / "fixtures" / "recipe"
CHECK = f"./check-render.sh {shlex.quote(str(CHART))}"  # run inside a copy of the recipe folder
UPDATE = os.environ.get("OLRENDER_UPDATE_GOLDEN") == "1"
RECIPE_HELM = "helm-4.3.1"  # expected.yaml was rendered with it; other versions lay out differently


@pytest.fixture(scope="module")
def helm(real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> Client:
    """Helm 4.3.1 with the plugin, as the recipe's CI job would have it."""
    return install_plugin(make_client(real_tool, tmp_path_factory.mktemp("recipe"), RECIPE_HELM))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the recipe folder to change."""
    return Path(shutil.copytree(RECIPE, tmp_path / "recipe"))


def test_docs_show_the_fixture_script() -> None:
    """The script in docs/helm.md is byte for byte the one in fixtures/recipe/."""
    script = RECIPE / "check-render.sh"
    assert doc_block("recipe-script") == script.read_text()
    assert script.stat().st_mode & 0o111, "check-render.sh must be executable"


def test_documented_example_passes(helm: Client) -> None:
    """The documented command, from the repository root: no diff, exit 0."""
    if UPDATE:
        if os.environ.get("CI"):
            pytest.fail("OLRENDER_UPDATE_GOLDEN is for people, not CI")
        helm.shell(doc_block("recipe-example"), cwd=REPO, env={"UPDATE": "1"}).ok()
        pytest.skip("rewrote fixtures/recipe/expected.yaml: review it before committing")
    run = helm.shell(doc_block("recipe-example"), cwd=REPO).ok()
    assert run.stdout == ""


def test_expected_render_holds_the_injection() -> None:
    """The committed render gives every component its key through Vault, and no plaintext key."""
    docs = parse_documents((RECIPE / "expected.yaml").read_text())
    assert ("ConfigMap", "vault-agent-config") in {doc.key for doc in docs}
    assert next(doc for doc in docs if doc.key[1] == "vault-agent-config").source == VAULT_SOURCE
    components = [doc for doc in docs if doc.key[0] == "Deployment" and doc.key[1] in COMPONENTS]
    assert {doc.key[1] for doc in components} == COMPONENTS
    for doc in components:
        main = next(c for c in doc.obj["spec"]["template"]["spec"]["containers"] if c["name"] == MAIN_CONTAINER)
        keys = [entry for entry in main["env"] if entry["name"] == "OPENLINEAGE_API_KEY"]
        assert len(keys) == 1 and set(keys[0]["valueFrom"]) == {"fileKeyRef"}, doc.key
    assert "kind: Secret\nmetadata:\n  name: openlineage-api-key-secret" not in (RECIPE / "expected.yaml").read_text()


def test_changed_render_fails_with_a_diff(helm: Client, copy: Path) -> None:
    """A values change that changes what pods get: exit 1 and a unified diff naming it."""
    values = copy / "values.yaml"
    values.write_text(values.read_text().replace("role: astro-agent", "role: astro-agent-staging"))
    run = helm.shell(CHECK, cwd=copy)
    assert run.returncode == 1, run.stderr
    assert '-          role = "astro-agent"\n' in run.stdout
    assert '+          role = "astro-agent-staging"\n' in run.stdout
    assert (copy / "expected.yaml").read_bytes() == (RECIPE / "expected.yaml").read_bytes()


def test_update_rewrites_the_expectation(helm: Client, copy: Path) -> None:
    """UPDATE=1 writes the new render; the next plain run passes."""
    values = copy / "values.yaml"
    values.write_text(values.read_text().replace("role: astro-agent", "role: astro-agent-staging"))
    helm.shell(CHECK, cwd=copy, env={"UPDATE": "1"}).ok()
    assert 'role = "astro-agent-staging"' in (copy / "expected.yaml").read_text()
    assert helm.shell(CHECK, cwd=copy).ok().stdout == ""


def test_failing_render_fails_the_check(helm: Client, copy: Path) -> None:
    """When olrender fails, Helm fails and so does the check, leaving expected.yaml alone."""
    values = copy / "values.yaml"
    values.write_text(values.read_text().replace("    role: astro-agent\n", ""))
    run = helm.shell("UPDATE=1 " + CHECK, cwd=copy).failed()
    assert 'plugin "olrender" exited with error' in run.stderr
    assert (copy / "expected.yaml").read_bytes() == (RECIPE / "expected.yaml").read_bytes()


def test_recipe_under_helm3(helm3: Client, copy: Path) -> None:
    """The same script works with Helm 3: its own expected.yaml, the same objects as Helm 4's."""
    (copy / "expected.yaml").unlink()
    helm3.shell(CHECK, cwd=copy, env={"UPDATE": "1"}).ok()
    assert helm3.shell(CHECK, cwd=copy).ok().stdout == ""
    helm3_render = by_key(parse_documents((copy / "expected.yaml").read_text()))
    helm4_render = by_key(parse_documents((RECIPE / "expected.yaml").read_text()))
    assert helm3_render == helm4_render
