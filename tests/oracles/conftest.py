"""Fixtures of the oracles' own tests: the pinned ESO CRD (a missing file skips locally and fails under CI)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.oracles.crd import CrdUnavailable, load_crd


def _in_ci() -> bool:
    """Whether we run in CI, where a missing oracle must fail rather than skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def external_secret_crd() -> dict[str, Any]:
    """The ExternalSecret CRD of ESO helm-chart-2.9.0, SHA-256 checked."""
    try:
        return load_crd()
    except CrdUnavailable as exc:
        if _in_ci():
            pytest.fail(f"{exc} (CI must not skip)", pytrace=False)
        pytest.skip(str(exc))
