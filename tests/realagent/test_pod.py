"""Tests for the simulated pod's preflight: what a machine lacks is named, so CI fails with a clear message."""

from __future__ import annotations

import pytest

from tests.realagent import pod


def test_preflight_passes_here_or_names_the_gap() -> None:
    """On this machine the preflight either passes or says what is missing (never an exception)."""
    problems = pod.preflight()
    assert all(isinstance(p, str) and p for p in problems)


def test_preflight_names_root_and_missing_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not root and without util-linux: both are reported, with the programs by name."""
    monkeypatch.setattr(pod.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(pod.shutil, "which", lambda name: None if name in ("unshare", "setpriv") else "/bin/x")
    problems = pod.preflight()
    assert problems == [
        "the simulated pod needs root (mount namespaces, tmpfs, setpriv), not uid 1000",
        "missing programs: unshare, setpriv (util-linux and coreutils)",
    ]
