"""olrender through real Helm 3.17.2: ``--post-renderer olrender`` resolved on PATH.

Helm 3 runs an executable, takes its output verbatim and quotes its stderr when it fails::

    helm template astro-agent CHART --post-renderer olrender --post-renderer-args=--api-key-file=FILE
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.realclients.clients import (
    CHART,
    EMPTY_CHART,
    METHODS,
    RELEASE,
    SECRET_SOURCE,
    SHOW_ONLY_WORKERS,
    Client,
    MethodCase,
    Runs,
    assert_injected,
    assert_key_not_leaked,
    parse_documents,
)

pytestmark = pytest.mark.realclient

RENDER = ("--post-renderer", "olrender")


@pytest.fixture(scope="session")
def runs3(helm3: Client, methods: dict[str, MethodCase], pool: ThreadPoolExecutor) -> Runs:
    """Every independent Helm 3 command of this module, started at once."""
    started = Runs(helm3, pool)
    logs = helm3.home / "logs"
    logs.mkdir()
    chart = str(CHART)
    started.submit("baseline", "template", RELEASE, chart)
    for name, case in methods.items():
        started.submit(("args", name), "template", RELEASE, chart, *RENDER, *case.post_renderer_args())
    started.submit("env", "template", RELEASE, chart, *RENDER, env=methods["vault"].environment())
    started.submit("show-only", "template", RELEASE, chart, *RENDER, *methods["secret"].post_renderer_args(),
                   "--show-only", "templates/worker-deployment.yaml",
                   "--show-only", "openlineage-api-key-secret.yaml")
    started.submit("empty", "template", "empty", str(EMPTY_CHART), *RENDER,
                   *methods["existing-secret"].post_renderer_args())
    started.submit("no-key", "template", RELEASE, chart, *RENDER, f"--post-renderer-args=--log-file={logs}/no-key.log")
    started.submit("conflict", "template", RELEASE, chart, *RENDER, *methods["secret"].post_renderer_args(),
                   "--post-renderer-args=--url=https://other.example")
    return started


@pytest.mark.parametrize("method", METHODS)
def test_template_with_post_renderer_args(runs3: Runs, method: str) -> None:
    """`helm template --post-renderer olrender` finds olrender on PATH and injects the key."""
    assert_injected(parse_documents(runs3["args", method].ok().stdout),
                    parse_documents(runs3["baseline"].ok().stdout), method)


def test_template_configured_only_by_environment(runs3: Runs) -> None:
    """Helm 3 hands its environment to the renderer: OLRENDER_* alone configures it."""
    assert_injected(parse_documents(runs3["env"].ok().stdout), parse_documents(runs3["baseline"].ok().stdout),
                    "vault")


def test_output_is_taken_verbatim(runs3: Runs) -> None:
    """Helm 3 prints olrender's output as written: the Secret under olrender's `# Source:` line."""
    text = runs3["args", "secret"].ok().stdout
    assert f"---\n# Source: {SECRET_SOURCE}\napiVersion: v1\nkind: Secret\n" in text
    # Untouched documents keep the chart's own comments, which a re-serialiser would drop.
    assert "    # Source: astro-agent logs\n" in text


def test_show_only_still_finds_documents(runs3: Runs) -> None:
    """`--show-only` finds the components by template file and the generated Secret by its name."""
    docs = parse_documents(runs3["show-only"].ok().stdout)
    assert [(doc.source, doc.key) for doc in docs] == SHOW_ONLY_WORKERS


def test_empty_chart_does_not_fail(runs3: Runs) -> None:
    """A chart that renders nothing renders nothing through olrender either."""
    assert parse_documents(runs3["empty"].ok().stdout) == []


def test_missing_key_fails_helm_with_the_reason(runs3: Runs, helm3: Client) -> None:
    """Helm 3 quotes olrender's stderr in its error; the log file says the same."""
    run = runs3["no-key"].failed()
    reason = "invalid config: the secret method needs a key"
    assert reason in run.stderr
    assert reason in (helm3.home / "logs" / "no-key.log").read_text()


def test_conflict_fails_helm_without_showing_the_key(runs3: Runs) -> None:
    """A conflict is reported by document and variable; the key is never in Helm's error."""
    run = runs3["conflict"].failed()
    assert "Deployment/astro-agent-triggerer" in run.stderr and "OPENLINEAGE_URL" in run.stderr
    assert_key_not_leaked(run.stdout, run.stderr)
