"""Fixtures of the oracles' own tests: the Airflow virtualenv, OpenBao (missing: skip here, fail in CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realagent.injector import EXAMPLE_SECRETS, InjectorVault
from tests.realagent.scenario import BAO_TOOL
from tests.tools.oracles import airflow_python as build_airflow_python
from tests.tools.pytest_realtools import RealTool
from tests.tools.realtools import ToolUnavailable


def _in_ci() -> bool:
    """Whether we run in CI, where a missing oracle must fail rather than skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(message: str) -> None:
    """Fail under CI, skip elsewhere."""
    if _in_ci():
        pytest.fail(f"{message} (CI must not skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def airflow_python() -> Path:
    """The interpreter of the cached virtualenv with apache-airflow 3.3.2 and the OpenLineage provider 2.20.3."""
    try:
        return build_airflow_python()
    except ToolUnavailable as exc:
        _unavailable(str(exc))
        raise


@pytest.fixture(scope="session")
def injector_vault(real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InjectorVault]:
    """The real OpenBao dev server holding EXAMPLE_SECRETS, and the real agent (no root needed)."""
    vault = InjectorVault(real_tool(BAO_TOOL), tmp_path_factory.mktemp("injector")).start(EXAMPLE_SECRETS)
    try:
        yield vault
    finally:
        vault.stop()
