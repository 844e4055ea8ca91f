"""Fixtures of the oracles' own tests: the pinned ESO CRD, the Airflow virtualenv (missing: skip here, fail in CI)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.oracles.crd import CrdUnavailable, load_crd
from tests.tools.oracles import airflow_python as build_airflow_python
from tests.tools.realtools import ToolUnavailable


def _in_ci() -> bool:
    """Whether we run in CI, where a missing oracle must fail rather than skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def external_secret_crd() -> dict[str, Any]:
    """The ExternalSecret CRD of ESO helm-chart-2.9.0, SHA-256 checked."""
    try:
        return load_crd()
    except CrdUnavailable as exc:
        _unavailable(str(exc))
        raise


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
