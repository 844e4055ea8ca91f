"""Root conftest: registers the ``real_tool`` fixture and marks the tests the fast tier leaves out.

``FAST_TESTS=1 pytest -m "not real and not slow"`` is the fast tier between edits
(docs/development.md); the README's command runs everything. A test is ``real`` when it lives in a
directory of real-program tests, in a module listed below, or needs a fixture that provides a real
program, so that new tests there are marked without anyone remembering to. A test is ``slow`` when
it is heavy by design (SLOW, with the reason); ``FAST_TESTS=1`` also draws a tenth of each
Hypothesis property's examples (tests/budget.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.budget import FAST, FAST_DIVISOR

pytest_plugins = ["tests.tools.pytest_realtools"]

TESTS = Path(__file__).parent
REAL_DIRECTORIES = ("realclients", "realagent", "oracles")
REAL_MODULES = (
    "test_precommit.py",  # pre-commit try-repo and run, with the real helm
    "test_readme.py",  # the README's commands in fresh virtualenvs
    "test_transport.py",  # the OpenLineage client's and the Airflow provider's own resolution
)
REAL_FIXTURES = frozenset({"real_tool", "real_helm_env", "airflow_python", "injector_vault"})
# module, or module::test, heavy by design: why it stays out of the fast tier
SLOW = {
    "test_cost.py": "the read side's bounds over generated streams of up to 100,000 documents and 16 MiB",
    "test_hardening.py": "the bad-input corpus and the size limits, each through a new olrender process",
    "test_bench_streams.py": "the benchmark streams, generated and read at full size",
    "test_cli_modes.py::test_check_agrees_with_render_warnings_on_golden_cases": "every golden case, twice",
}

settings.register_profile("fast", max_examples=settings.default.max_examples // FAST_DIVISOR)
if FAST:
    settings.load_profile("fast")


def is_real(path: Path, fixtures: list[str]) -> bool:
    """Tell whether a test at ``path`` needing ``fixtures`` runs a real program."""
    relative = path.relative_to(TESTS).parts if path.is_relative_to(TESTS) else ()
    in_place = bool(relative) and (relative[0] in REAL_DIRECTORIES or relative[-1] in REAL_MODULES)
    return in_place or not REAL_FIXTURES.isdisjoint(fixtures)


def is_slow(path: Path, name: str) -> bool:
    """Tell whether the test ``name`` (without parameters) in the module at ``path`` is heavy by design."""
    return path.name in SLOW or f"{path.name}::{name}" in SLOW


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``real`` every collected test that runs a real program, ``slow`` every one heavy by design."""
    for item in items:
        if is_real(Path(item.path), list(getattr(item, "fixturenames", ()))):
            item.add_marker(pytest.mark.real)
        if is_slow(Path(item.path), getattr(item, "originalname", item.name)):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def external_secret_crd() -> dict[str, Any]:
    """ESO's ExternalSecret CRD (helm-chart-2.9.0, from fixtures/crds), SHA-256 checked."""
    from tests.oracles.crd import load_crd  # (jsonschema and the Kubernetes schemas: only for the tests that ask)

    return load_crd()
