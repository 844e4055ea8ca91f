"""Session fixtures of the real-agent tier: the preflight, the OpenBao dev server, the TokenReview test double.

The tier needs root, ``unshare``, ``setpriv``, ``chroot`` and ``timeout``; a
machine without them skips it locally and fails it under ``CI`` (like a missing
real tool). The dev server starts once per session on a free loopback port and
is stopped by its PID. Each agent run's exit status and time are listed at the
end of the run (the figures in docs/vault.md come from there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.realagent.pod import preflight
from tests.realagent.scenario import (
    BAO_TOOL,
    CA_PEM,
    NAMESPACE,
    READABLE,
    SECRETS,
    SERVICE_ACCOUNT,
    SERVICE_ACCOUNTS,
    TIMINGS,
    Vault,
)
from tests.realagent.server import DevServer
from tests.realagent.tokenreview import TokenReviewDouble, service_account_jwt
from tests.tools.pytest_realtools import RealTool


def _in_ci() -> bool:
    """Whether we run in CI, where the tier must fail rather than skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def pod_ready() -> None:
    """The machine can simulate a pod (root, a private mount namespace, setpriv), or the tier stops here."""
    problems = preflight()
    if problems:
        message = "the real-agent tier cannot run: " + "; ".join(problems)
        if _in_ci():
            pytest.fail(message + " (CI must not skip)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def vault(pod_ready: None, real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    """A real OpenBao dev server with KV v1 and v2 mounts, a policy and the kubernetes auth method."""
    bao = real_tool(BAO_TOOL)
    token = service_account_jwt(NAMESPACE, SERVICE_ACCOUNT, "6f1e2d3c-test-double-uid")
    double = TokenReviewDouble(token, NAMESPACE, SERVICE_ACCOUNT, "6f1e2d3c-test-double-uid").start()
    server = DevServer(bao, tmp_path_factory.mktemp("openbao")).start()
    try:
        server.setup(list(SECRETS.values()), READABLE, double.url, CA_PEM, NAMESPACE, SERVICE_ACCOUNTS)
        yield Vault(server, double, token, bao)
    finally:
        server.stop()
        double.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List every real agent run: test, exit status, seconds."""
    if not TIMINGS:
        return
    terminalreporter.section("real Vault agent (OpenBao 2.7.2) runs")
    for name, status, seconds in TIMINGS:
        terminalreporter.write_line(f"{name:70} exit {status:3}  {seconds:6.2f} s")

