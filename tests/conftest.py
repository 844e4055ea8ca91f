"""Root conftest: registers the ``real_tool`` fixture and marks every test that runs a real program ``real``.

``pytest -m "not real"`` is the fast tier between edits (docs/development.md); the README's
command runs everything. A test is ``real`` when it lives in a directory of real-program tests,
in a module listed below, or needs a fixture that provides a real program, so that new tests
there are marked without anyone remembering to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.tools.pytest_realtools"]

TESTS = Path(__file__).parent
REAL_DIRECTORIES = ("realclients", "realagent", "oracles")
REAL_MODULES = (
    "test_precommit.py",  # pre-commit try-repo and run, with the real helm
    "test_readme.py",  # the README's commands in fresh virtualenvs
    "test_transport.py",  # the OpenLineage client's and the Airflow provider's own resolution
)
REAL_FIXTURES = frozenset({"real_tool", "real_helm_env", "airflow_python", "injector_vault"})


def is_real(path: Path, fixtures: list[str]) -> bool:
    """Tell whether a test at ``path`` needing ``fixtures`` runs a real program."""
    relative = path.relative_to(TESTS).parts if path.is_relative_to(TESTS) else ()
    in_place = bool(relative) and (relative[0] in REAL_DIRECTORIES or relative[-1] in REAL_MODULES)
    return in_place or not REAL_FIXTURES.isdisjoint(fixtures)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``real`` every collected test that runs a real program."""
    for item in items:
        if is_real(Path(item.path), list(getattr(item, "fixturenames", ()))):
            item.add_marker(pytest.mark.real)
