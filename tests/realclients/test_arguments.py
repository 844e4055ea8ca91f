"""How real Helm 4, Helm 3 and helmfile hand arguments to olrender, and where the reason for a failure goes.

What the README and docs/helm.md say, checked on the clients themselves:

- ``--post-renderer-args`` takes the next word as its value, also one that starts with ``-``:
  ``--post-renderer-args --values=FILE`` works; ``--post-renderer-args --values FILE`` leaves
  ``FILE`` to Helm, which fails with ``expected at most two arguments``.
- a value holding a space reaches olrender as one argument, which olrender explains;
- helmfile passes each ``postRendererArgs`` item as ``--post-renderer-args ITEM`` (two words);
- Helm 4 discards stderr: with no log file configured, the reason for a failure (a mistyped
  option here) is in ``olrender/errors.log`` under Helm's cache directory, 0600.
"""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.realclients.clients import (
    CHART,
    EXISTING_SECRET,
    OL_NAMESPACE,
    RELEASE,
    Client,
    Runs,
    assert_injected,
    doc_block,
    parse_documents,
)

pytestmark = pytest.mark.realclient

RENDER = ("--post-renderer", "olrender")
TWO_WORDS = ("--post-renderer-args", f"--api-key-secret={EXISTING_SECRET}",
             "--post-renderer-args", f"--namespace={OL_NAMESPACE}")
SEPARATE_VALUE = ("--post-renderer-args", "--api-key-secret", EXISTING_SECRET)
TOO_MANY = f"Error: expected at most two arguments, unexpected arguments: {EXISTING_SECRET}"
ONE_WORD_WITH_SPACE = "'--values values.yaml' is one argument with a space in it"


def submit_argument_forms(runs: Runs) -> None:
    """The baseline and the three ways of writing renderer arguments, on one client."""
    runs.submit("baseline", "template", RELEASE, str(CHART))
    runs.submit("two-words", "template", RELEASE, str(CHART), *RENDER, *TWO_WORDS)
    runs.submit("separate-value", "template", RELEASE, str(CHART), *RENDER, *SEPARATE_VALUE)


@pytest.fixture(scope="session")
def xdg_cache(helm4: Client) -> Path:
    """An XDG cache directory for Helm 4 runs without HELM_CACHE_HOME (one per Helm version)."""
    path = helm4.home / "xdg-cache"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def runs4(helm4: Client, xdg_cache: Path, pool: ThreadPoolExecutor) -> Runs:
    """Helm 4: the argument forms, and failures with no log file configured."""
    started = Runs(helm4, pool)
    submit_argument_forms(started)
    started.submit("mistyped", "template", RELEASE, str(CHART), *RENDER, "--post-renderer-args=--methd=vault")
    started.submit("space", "template", RELEASE, str(CHART), *RENDER, "--post-renderer-args=--values values.yaml",
                   env={"HELM_CACHE_HOME": "", "XDG_CACHE_HOME": str(xdg_cache)})
    return started


@pytest.fixture(scope="session")
def runs3(helm3: Client, pool: ThreadPoolExecutor) -> Runs:
    """Helm 3: the argument forms, and a value with a space (Helm 3 quotes olrender's stderr)."""
    started = Runs(helm3, pool)
    submit_argument_forms(started)
    started.submit("space", "template", RELEASE, str(CHART), *RENDER, "--post-renderer-args=--values values.yaml")
    return started


@pytest.fixture(scope="session")
def runs_hf(helmfile: Client, pool: ThreadPoolExecutor) -> Runs:
    """helmfile: one release with two postRendererArgs items, one with an item holding a space."""
    started = Runs(helmfile, pool)
    for name, args in (("items", [f"--api-key-secret={EXISTING_SECRET}", f"--namespace={OL_NAMESPACE}"]),
                       ("space", ["--values values.yaml"])):
        project = helmfile.home / f"args-{name}"
        project.mkdir()
        spec = {"releases": [{"name": RELEASE, "chart": str(CHART), "postRenderer": "olrender",
                              "postRendererArgs": args}]}
        (project / "helmfile.yaml").write_text(yaml.safe_dump(spec))
        started.submit(name, "--debug", "template", cwd=project)
    started.submit("baseline", "template", RELEASE, str(CHART), program="helm")
    return started


def check_argument_forms(runs: Runs) -> None:
    """Two words per argument work; a value in a word of its own is taken by Helm as a chart argument."""
    assert_injected(parse_documents(runs["two-words"].ok().stdout), parse_documents(runs["baseline"].ok().stdout),
                    "existing-secret")
    assert TOO_MANY in runs["separate-value"].failed().stderr


def test_helm4_takes_the_next_word_as_the_renderer_argument(runs4: Runs) -> None:
    """Helm 4: `--post-renderer-args --x=y` works, `--post-renderer-args --x y` fails in Helm itself."""
    check_argument_forms(runs4)


def test_helm3_takes_the_next_word_as_the_renderer_argument(runs3: Runs) -> None:
    """Helm 3: the same."""
    check_argument_forms(runs3)


def test_helm4_failure_without_a_log_file_is_in_helms_cache(runs4: Runs, helm4: Client) -> None:
    """A mistyped option, no log file configured: Helm 4 says only "exited with error", its cache says why."""
    run = runs4["mistyped"].failed()
    assert 'plugin "olrender" exited with error' in run.stderr and "--methd" not in run.stderr
    log = Path(helm4.env["HELM_CACHE_HOME"]) / "olrender" / "errors.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    reason = "olrender: error: invalid config: No such option '--methd'. Did you mean '--method'?"
    assert reason in log.read_text()
    assert reason in helm4.shell(doc_block("helm4-error-log"), cwd=helm4.workdir).ok().stdout  # as documented


def test_helm4_cache_by_xdg_and_a_value_with_a_space(runs4: Runs, xdg_cache: Path) -> None:
    """HELM_CACHE_HOME unset: Helm's cache is $XDG_CACHE_HOME/helm; the reason names the one-word mistake."""
    runs4["space"].failed()
    assert ONE_WORD_WITH_SPACE in (xdg_cache / "helm" / "olrender" / "errors.log").read_text()


def test_helm3_quotes_the_explanation_of_a_value_with_a_space(runs3: Runs) -> None:
    """Helm 3 shows olrender's stderr on failure: the explanation is right there."""
    assert ONE_WORD_WITH_SPACE in runs3["space"].failed().stderr


def test_helmfile_passes_each_item_as_two_words(runs_hf: Runs) -> None:
    """helmfile runs `helm ... --post-renderer-args ITEM` per item (its --debug line shows the words), and it works."""
    run = runs_hf["items"].ok()
    assert (f"--post-renderer olrender --post-renderer-args --api-key-secret={EXISTING_SECRET} "
            f"--post-renderer-args --namespace={OL_NAMESPACE}") in run.stderr + run.stdout
    assert "--post-renderer-args=" not in run.stderr + run.stdout
    docs = [doc for doc in parse_documents(run.stdout) if doc.obj.get("kind")]
    assert_injected(docs, parse_documents(runs_hf["baseline"].ok().stdout), "existing-secret")


def test_helmfile_item_with_a_space_is_explained(runs_hf: Runs) -> None:
    """An item `--values values.yaml` is one argument; helm quotes olrender's explanation, helmfile shows it."""
    run = runs_hf["space"].failed()
    assert ONE_WORD_WITH_SPACE in run.stderr + run.stdout
