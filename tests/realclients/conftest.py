"""Session fixtures for the end-to-end tests: the real clients, the thread pool, the methods."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.realclients.clients import (
    AIRFLOW_CONN_ID,
    API_KEY,
    CHART_URL,
    ES_KEY,
    EXISTING_SECRET,
    HELM3_TOOL,
    HELM4_VERSIONS,
    HELMFILE_HELM_TOOL,
    HELMFILE_TOOL,
    OL_NAMESPACE,
    VAULT_ADDR,
    VAULT_PATH,
    VAULT_ROLE,
    Client,
    MethodCase,
    install_plugin,
    make_client,
)
from tests.tools.pytest_realtools import RealTool


@pytest.fixture(scope="session")
def pool() -> Iterator[ThreadPoolExecutor]:
    """A thread pool for independent client commands (one worker per core)."""
    executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="client")
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session", params=HELM4_VERSIONS, ids=lambda version: f"helm-{version}")
def helm4(request: pytest.FixtureRequest, real_tool: RealTool,
          tmp_path_factory: pytest.TempPathFactory) -> Client:
    """Helm 4 with the olrender plugin installed from the repository directory."""
    tool = f"helm-{request.param}"
    return install_plugin(make_client(real_tool, tmp_path_factory.mktemp(tool), tool))


@pytest.fixture(scope="session")
def helm3(real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> Client:
    """Helm 3.17.2; olrender is found on PATH."""
    return make_client(real_tool, tmp_path_factory.mktemp(HELM3_TOOL), HELM3_TOOL)


@pytest.fixture(scope="session")
def helmfile(real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> Client:
    """helmfile 0.166.0 with the helm 3.15.3 it ships with as ``helm`` on PATH."""
    return make_client(real_tool, tmp_path_factory.mktemp(HELMFILE_TOOL), HELMFILE_TOOL, HELMFILE_HELM_TOOL)


@pytest.fixture(scope="session")
def api_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key file (0600) holding the fake API key."""
    path = tmp_path_factory.mktemp("key") / "openlineage-api-key"
    path.write_text(API_KEY + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="session")
def methods(api_key_file: Path) -> dict[str, MethodCase]:
    """The methods, each also setting OPENLINEAGE_NAMESPACE, with the settings of their golden cases."""
    common = (("--namespace", OL_NAMESPACE),)
    return {
        "secret": MethodCase("secret", (("--api-key-file", str(api_key_file)), *common)),
        "existing-secret": MethodCase("existing-secret", (("--api-key-secret", EXISTING_SECRET), *common)),
        "vault": MethodCase("vault", (
            ("--method", "vault"),
            ("--vault-addr", VAULT_ADDR),
            ("--vault-role", VAULT_ROLE),
            ("--vault-secret-path", VAULT_PATH),
            ("--vault-secret-field", "key"),
            *common,
        )),
        "external-secret": MethodCase("external-secret", (
            ("--method", "external-secret"), ("--external-secret-store", "vault"),
            ("--external-secret-key", ES_KEY), *common,
        )),
        "vault-injector": MethodCase("vault-injector", (
            ("--method", "vault-injector"), ("--vault-role", VAULT_ROLE), ("--vault-secret-path", VAULT_PATH),
            ("--vault-secret-field", "key"), ("--url", CHART_URL), *common,
        )),
        "airflow-connection": MethodCase("airflow-connection", (
            ("--method", "airflow-connection"), ("--airflow-conn-id", AIRFLOW_CONN_ID), ("--url", CHART_URL), *common,
        )),
    }
