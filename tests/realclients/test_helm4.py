"""olrender through real Helm 4 (4.3.1 and 4.1.4): the plugin installed from the repository.

Helm 4 takes ``--post-renderer NAME`` as the name of an installed ``postrenderer/v1``
plugin, throws the renderer's stderr away and re-serialises its output, so everything here
is asserted on what Helm itself prints::

    helm plugin install .
    helm template astro-agent CHART --post-renderer olrender --post-renderer-args=--api-key-file=FILE
    OLRENDER_API_KEY_FILE=FILE helm template astro-agent CHART --post-renderer olrender
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from postrenderer import __version__
from tests.realclients.clients import (
    CHART,
    EMPTY_CHART,
    HOOKS,
    MAIN_CONTAINER,
    METHODS,
    RELEASE,
    SECRET_SOURCE,
    SHOW_ONLY_WORKERS,
    Client,
    MethodCase,
    Runs,
    assert_injected,
    assert_key_not_leaked,
    by_key,
    install_sections,
    parse_documents,
)

pytestmark = pytest.mark.realclient

RENDER = ("--post-renderer", "olrender")
CONFIGURED = ("--set", "openLineage.apiKeySecret=chart-key", "--set", "openLineage.namespace=ultraviolet-corona-6870")


@pytest.fixture(scope="session")
def runs(helm4: Client, methods: dict[str, MethodCase], pool: ThreadPoolExecutor) -> Runs:
    """Every independent Helm 4 command of this module, started at once."""
    started = Runs(helm4, pool)
    logs = helm4.home / "logs"
    logs.mkdir()
    chart = str(CHART)
    started.submit("baseline", "template", RELEASE, chart)
    started.submit("baseline-configured", "template", RELEASE, chart, *CONFIGURED)
    started.submit("plugin-list", "plugin", "list")
    for name, case in methods.items():
        started.submit(("args", name), "template", RELEASE, chart, *RENDER, *case.post_renderer_args())
        started.submit(("env", name), "template", RELEASE, chart, *RENDER, env=case.environment())
        started.submit(("install", name), "install", RELEASE, chart, "--dry-run=client", *RENDER,
                       *case.post_renderer_args())
    started.submit("show-only", "template", RELEASE, chart, *RENDER, *methods["secret"].post_renderer_args(),
                   "--show-only", "templates/worker-deployment.yaml",
                   "--show-only", "openlineage-api-key-secret.yaml")
    started.submit("empty-template", "template", "empty", str(EMPTY_CHART), *RENDER,
                   *methods["existing-secret"].post_renderer_args())
    started.submit("empty-install", "install", "empty", str(EMPTY_CHART), "--dry-run=client", *RENDER,
                   *methods["existing-secret"].post_renderer_args())
    def log_to(name: str) -> str:
        """The argument that sends olrender's log to ``logs/<name>.log``."""
        return f"--post-renderer-args=--log-file={logs / name}.log"

    started.submit("no-key", "template", RELEASE, chart, *RENDER, log_to("no-key"))
    started.submit("conflict", "template", RELEASE, chart, *RENDER, *methods["secret"].post_renderer_args(),
                   "--post-renderer-args=--url=https://other.example", log_to("conflict"))
    started.submit("check-unconfigured", "template", RELEASE, chart, *RENDER, "--post-renderer-args=--check",
                   log_to("check"))
    started.submit("check-configured", "template", RELEASE, chart, *CONFIGURED, *RENDER,
                   "--post-renderer-args=--check")
    return started


def test_plugin_installed_from_the_repository(runs: Runs) -> None:
    """`helm plugin install <repo>` registers a postrenderer/v1 plugin at the package version."""
    rows = [line.split() for line in runs["plugin-list"].ok().stdout.splitlines()]
    assert ["olrender", __version__, "postrenderer/v1"] in [row[:3] for row in rows]


@pytest.mark.parametrize("method", METHODS)
def test_template_with_post_renderer_args(runs: Runs, method: str) -> None:
    """`helm template --post-renderer olrender --post-renderer-args=...` injects the key."""
    assert_injected(parse_documents(runs["args", method].ok().stdout),
                    parse_documents(runs["baseline"].ok().stdout), method)


@pytest.mark.parametrize("method", METHODS)
def test_template_configured_only_by_environment(runs: Runs, method: str) -> None:
    """With no renderer arguments at all, OLRENDER_* variables configure everything."""
    run = runs["env", method]
    assert "--post-renderer-args" not in " ".join(run.argv)
    assert_injected(parse_documents(run.ok().stdout), parse_documents(runs["baseline"].ok().stdout), method)


@pytest.mark.parametrize("method", METHODS)
def test_install_dry_run(runs: Runs, method: str) -> None:
    """`helm install --dry-run=client`: the manifest is injected, the hooks stay hooks, unchanged."""
    hooks, manifest = install_sections(runs["install", method].ok().stdout)
    hook_docs, manifest_docs = parse_documents(hooks), parse_documents(manifest)
    assert {doc.key for doc in hook_docs} == HOOKS
    assert not any(doc.is_hook for doc in manifest_docs)
    assert_injected(hook_docs + manifest_docs, parse_documents(runs["baseline"].ok().stdout), method)


def test_hooks_come_back_unchanged(runs: Runs) -> None:
    """Helm 4 pipes hooks through the renderer; they come back as the same objects, same `# Source:`."""
    baseline = by_key(parse_documents(runs["baseline"].ok().stdout))
    printed = by_key(parse_documents(runs["args", "secret"].ok().stdout))
    for key in HOOKS:
        assert printed[key] == baseline[key]


def test_generated_secret_source_line(runs: Runs) -> None:
    """Helm 4 files the generated Secret under the filename olrender chose."""
    text = runs["args", "secret"].ok().stdout
    assert f"---\n# Source: {SECRET_SOURCE}\napiVersion: v1\nkind: Secret\n" in text
    assert "postrenderer.helm.sh/postrender-filename" not in text
    assert "generated-by-postrender" not in text


def test_show_only_still_finds_documents(runs: Runs) -> None:
    """`--show-only` finds the components by template file and the generated Secret by its name."""
    docs = parse_documents(runs["show-only"].ok().stdout)
    assert [(doc.source, doc.key) for doc in docs] == SHOW_ONLY_WORKERS
    for doc in docs[:2]:
        agent = next(c for c in doc.obj["spec"]["template"]["spec"]["containers"] if c["name"] == MAIN_CONTAINER)
        assert "OPENLINEAGE_API_KEY" in {entry["name"] for entry in agent["env"]}


def test_empty_chart_does_not_fail(runs: Runs) -> None:
    """A chart that renders nothing: Helm 4 gets non-empty renderer output and succeeds."""
    assert parse_documents(runs["empty-template"].ok().stdout) == []
    hooks, manifest = install_sections(runs["empty-install"].ok().stdout)
    assert parse_documents(hooks + manifest) == []


def test_missing_key_fails_helm_and_the_log_says_why(runs: Runs, helm4: Client) -> None:
    """No key configured: Helm fails (stderr is discarded); the log file names the cause."""
    run = runs["no-key"].failed()
    assert 'plugin "olrender" exited with error' in run.stderr
    assert run.stdout == ""
    log = (helm4.home / "logs" / "no-key.log").read_text()
    assert "invalid config: the secret method needs a key" in log


def test_conflict_fails_helm_and_the_log_says_why_without_the_key(runs: Runs, helm4: Client) -> None:
    """A URL that contradicts the chart's: Helm fails; the log names document and variable, not the key."""
    run = runs["conflict"].failed()
    assert 'plugin "olrender" exited with error' in run.stderr
    log = (helm4.home / "logs" / "conflict.log").read_text()
    assert "Deployment/astro-agent-worker-gpu-worker" in log and "OPENLINEAGE_URL" in log
    assert_key_not_leaked(log, run.stdout, run.stderr)


def test_check_fails_helm_on_a_chart_rendered_without_key(runs: Runs, helm4: Client) -> None:
    """`--post-renderer-args=--check` turns a missing key into a failed Helm command."""
    runs["check-unconfigured"].failed()
    log = (helm4.home / "logs" / "check.log").read_text()
    assert "--check failed: 4 of 4 agent component(s)" in log
    assert "OPENLINEAGE_API_KEY: is not set" in log


def test_check_passes_a_chart_that_renders_the_key_itself(runs: Runs) -> None:
    """`--check` on a fully configured chart succeeds and changes nothing."""
    checked = parse_documents(runs["check-configured"].ok().stdout)
    assert checked == parse_documents(runs["baseline-configured"].ok().stdout)
