"""Golden cases: ``fixtures/cases/<case>/`` run through the real ``olrender`` process.

A case folder holds:

- ``args``: command-line arguments, one per line (``#`` starts a comment line);
- ``env`` (optional): ``NAME=VALUE`` lines added to a clean environment;
- ``input.yaml``, or ``input-from`` naming a stream file relative to the case;
- ``expected.yaml`` (stdout) or ``expected-error.txt`` (first line ``exit: N``,
  then lines that must each appear in stderr).

Files named in ``args`` are resolved from the case folder (it is the working
directory). ``OLRENDER_UPDATE_GOLDEN=1`` rewrites the expectations and skips;
review every rewritten file before committing it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "cases"
UPDATE = os.environ.get("OLRENDER_UPDATE_GOLDEN") == "1"


@dataclass
class Case:
    """One golden case folder."""

    path: Path

    @property
    def name(self) -> str:
        """The folder name."""
        return self.path.name

    def args(self) -> list[str]:
        """The command-line arguments."""
        file = self.path / "args"
        if not file.exists():
            return []
        lines = file.read_text().splitlines()
        return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]

    def env(self) -> dict[str, str]:
        """A clean environment plus the case's variables."""
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith("OLRENDER_") and k != "OPENLINEAGE_API_KEY"
        }
        file = self.path / "env"
        if file.exists():
            for line in file.read_text().splitlines():
                if line.strip() and not line.startswith("#"):
                    key, _, value = line.partition("=")
                    env[key] = value
        return env

    def input(self) -> bytes:
        """The stream fed on stdin."""
        pointer = self.path / "input-from"
        if pointer.exists():
            return (self.path / pointer.read_text().strip()).read_bytes()
        return (self.path / "input.yaml").read_bytes()


def cases() -> list[Case]:
    """Every case folder, sorted."""
    return [Case(p) for p in sorted(CASES.iterdir()) if p.is_dir()] if CASES.exists() else []


def run_olrender(args: list[str], data: bytes, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run olrender as a separate process, the way Helm does."""
    return subprocess.run(
        [sys.executable, "-m", "postrenderer", *args],
        input=data, capture_output=True, env=env, cwd=cwd, timeout=120, check=False,
    )
