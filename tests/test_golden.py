"""Run every golden case in ``fixtures/cases`` and check idempotency of the successful ones."""

from __future__ import annotations

import difflib
import os

import pytest

from tests.golden import UPDATE, Case, cases, run_olrender

ALL = cases()


def test_cases_exist() -> None:
    """Guard: a run that finds no golden case must fail, not pass vacuously."""
    assert len(ALL) >= 5, "no golden cases found under fixtures/cases"


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_golden(case: Case) -> None:
    """The output (or error) matches the committed expectation; a second run changes nothing."""
    if UPDATE and os.environ.get("CI"):
        pytest.fail("OLRENDER_UPDATE_GOLDEN is for people, not CI")
    proc = run_olrender(case.args(), case.input(), case.env(), case.path)
    stderr = proc.stderr.decode()
    assert "Traceback" not in stderr
    expected_out = case.path / "expected.yaml"
    expected_err = case.path / "expected-error.txt"
    if UPDATE:
        if proc.returncode == 0:
            expected_out.write_bytes(proc.stdout)
            expected_err.unlink(missing_ok=True)
        else:
            lines = [line for line in stderr.splitlines() if not line.startswith("olrender: warning:")]
            expected_err.write_text(f"exit: {proc.returncode}\n" + "\n".join(lines) + "\n")
            expected_out.unlink(missing_ok=True)
        pytest.skip(f"updated {case.name}; review the diff before committing")
    if expected_err.exists():
        first, *needles = expected_err.read_text().splitlines()
        assert proc.returncode == int(first.split(":")[1]), stderr
        assert proc.stdout == b"", "no partial output on failure"
        for needle in needles:
            assert needle in stderr
        return
    assert proc.returncode == 0, stderr
    assert proc.stdout == expected_out.read_bytes()
    again = run_olrender(case.args(), proc.stdout, case.env(), case.path)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout == proc.stdout, "a second run must change nothing"


SUCCEEDING = [c for c in ALL if (c.path / "expected.yaml").exists()]


@pytest.mark.parametrize("case", SUCCEEDING, ids=[c.name for c in SUCCEEDING])
def test_expected_output_only_adds_lines(case: Case) -> None:
    """Every expectation is its input plus inserted lines, unless the case overwrites or repairs entries."""
    before = case.input().decode().splitlines(keepends=True)
    after = (case.path / "expected.yaml").read_bytes().decode().splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    changed = {tag for tag, *_ in matcher.get_opcodes()} - {"equal"}
    replaces = "--overwrite" in case.args() or "fileRef:" in case.input().decode()  # (the vendor's example)
    assert changed <= ({"insert", "replace", "delete"} if replaces else {"insert"}), changed
