"""olrender through real helmfile 0.166.0 (with the helm 3.15.3 it ships with).

helmfile passes ``postRenderer`` as ``--post-renderer VALUE`` and each ``postRendererArgs``
item as ``--post-renderer-args ITEM`` (two words: ``test_arguments.py``); a release's own keys
beat ``helmDefaults``. The
helmfiles are the ones docs/helm.md shows; each release additionally sets the chart's
``namespace`` value so that its objects can be told apart in the one stream
``helmfile template`` prints.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.realclients.clients import (
    CHART,
    HOOKS,
    RELEASE,
    Client,
    Runs,
    assert_injected,
    doc_block,
    in_namespace,
    parse_documents,
)

pytestmark = pytest.mark.realclient

HELMFILES = ("helmfile-defaults", "helmfile-per-release")  # the marked blocks of docs/helm.md


def documented_helmfile(marker: str) -> str:
    """The documented helmfile.yaml, pointed at the fixture chart; each release sets its namespace."""
    spec = yaml.safe_load(doc_block(marker))
    for release in spec["releases"]:
        assert release["chart"] == "astronomer/astro-remote-execution-agent"
        release["chart"] = str(CHART)
        release["set"] = [{"name": "namespace", "value": release["name"]}]
    return yaml.safe_dump(spec, sort_keys=False)


@pytest.fixture(scope="session")
def runs_hf(helmfile: Client, api_key_file: Path, pool: ThreadPoolExecutor) -> Runs:
    """Both documented helmfiles and the plain helm renders to compare with, started at once."""
    started = Runs(helmfile, pool)
    for marker in HELMFILES:
        project = helmfile.home / marker
        project.mkdir()
        (project / "helmfile.yaml").write_text(documented_helmfile(marker))
        shutil.copy2(api_key_file, project / "openlineage-api-key")  # relative to where helmfile runs
        started.submit(marker, "template", cwd=project)
    started.submit("baseline", "template", RELEASE, str(CHART), program="helm")
    started.submit("plain", "template", RELEASE, str(CHART), "--set", "namespace=agent-plain", program="helm")
    return started


def test_helm_defaults_apply_to_a_release_without_its_own(runs_hf: Runs) -> None:
    """`helmDefaults.postRenderer` and `postRendererArgs` reach a release that sets neither."""
    docs = in_namespace(parse_documents(runs_hf["helmfile-defaults"].ok().stdout), "agent-defaults")
    assert_injected(docs, parse_documents(runs_hf["baseline"].ok().stdout), "existing-secret")


def test_release_args_beat_helm_defaults(runs_hf: Runs) -> None:
    """A release's `postRendererArgs` replace the defaults' arguments (here: the secret method)."""
    docs = in_namespace(parse_documents(runs_hf["helmfile-defaults"].ok().stdout), "agent-own-args")
    assert_injected(docs, parse_documents(runs_hf["baseline"].ok().stdout), "secret")


def test_per_release_post_renderer(runs_hf: Runs) -> None:
    """`postRenderer`/`postRendererArgs` on one release: that release gets the vault method."""
    docs = in_namespace(parse_documents(runs_hf["helmfile-per-release"].ok().stdout), "agent-vault")
    assert_injected(docs, parse_documents(runs_hf["baseline"].ok().stdout), "vault")


def test_release_without_post_renderer_is_untouched(runs_hf: Runs) -> None:
    """The release without a renderer renders exactly as plain helm renders it."""
    printed = [doc for doc in parse_documents(runs_hf["helmfile-per-release"].ok().stdout)
               if doc.obj["metadata"].get("namespace") == "agent-plain"]
    assert printed == parse_documents(runs_hf["plain"].ok().stdout)
    assert {doc.key for doc in printed if doc.is_hook} == HOOKS
