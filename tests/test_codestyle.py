"""The repository's own checks: ruff over code and tests, mypy (strict) over the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a tool module from this interpreter in the repository root."""
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_ruff() -> None:
    """ruff finds nothing (its configuration, with a reason per ignore, is in pyproject.toml)."""
    proc = run("ruff", "check", "postrenderer", "tests")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy() -> None:
    """mypy --strict passes on the package."""
    proc = run("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
