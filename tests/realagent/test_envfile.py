"""The kubelet's env-file reader (test double) against the documented rules and against ``bash --posix``.

Kubernetes documents its 1.35 env-file format as a subset of what a POSIX shell
reads: every file it accepts gives the same variables in ``bash --posix``. So the
real bash is the oracle for every value the double accepts; the documented
examples and the cases ``ParseEnv`` refuses pin the rest.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.realagent.envfile import EnvFileError, kubelet_value

NAME = "OPENLINEAGE_API_KEY"
# printable ASCII except ': what olrender's template lets through for fileKeyRef
CARRIED = ["sk-test-envfile-0001", "a b", "#x", "a#b # c", '"q"', "\\n", "$HOME", "${X}", "`id`", "a=b=c",
           " lead", "trail ", "~!@%^&*()[]{}|;:,.<>/?+-_"]


def bash_value(path: Path) -> str:
    """What ``set -a; . FILE`` in bash --posix gives the variable."""
    bash = shutil.which("bash")
    assert bash is not None, "bash is needed as the env-file oracle"
    proc = subprocess.run([bash, "--posix", "-c", f'set -a; . "$1"; printf %s "${NAME}"', "bash", str(path)],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=30, check=True)
    return proc.stdout


@pytest.mark.parametrize("key", CARRIED)
def test_every_carried_key_reads_back_as_in_bash(key: str, tmp_path: Path) -> None:
    """The line olrender's template writes gives the key itself, in the double and in real bash."""
    path = tmp_path / "openlineage.env"
    path.write_bytes(f"{NAME}='{key}'\n".encode())
    assert kubelet_value(path.read_bytes(), NAME) == key
    assert bash_value(path) == key


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MY_VAR='my-literal-value'\n", "my-literal-value"),  # the documentation's example
        ("# comment\nDB_ADDRESS='address'\n\nMULTI='line1\nline2'\n", "line1\nline2"),
        ("  \tMY_VAR='x' # trailing comment\n", "x"),
        ("MY_VAR='first'\nMY_VAR='second'\n", "first"),  # the first occurrence wins in ParseEnv
        ("MY_VAR='a\r\nb'\n", "a\nb"),  # bufio.Scanner drops the \r before a line break
    ],
)
def test_documented_examples(text: str, value: str, tmp_path: Path) -> None:
    """Examples of the format, as ParseEnv reads them; bash agrees where the text is plain POSIX."""
    key = "MULTI" if "MULTI" in text else "MY_VAR"
    assert kubelet_value(text.encode(), key) == value
    if "\r" not in text and "second" not in text:
        path = tmp_path / "f.env"
        path.write_text(text.replace(key, NAME))
        assert bash_value(path) == value


@pytest.mark.parametrize(
    "text",
    ["MY_VAR=value\n", 'MY_VAR="value"\n', "MY_VAR='val1''val2'\n", "MY_VAR='a'$OTHER\n", "MY_VAR = 'v'\n",
     "MY_VAR='unclosed\n", "=''\n", "MY_VAR=''\n", "OTHER='x'\n", "MY_VAR= 'v'\n"],
)
def test_refused_forms(text: str) -> None:
    """Unquoted, double-quoted, concatenated, expanded, spaced, unclosed, empty or absent: no container start."""
    with pytest.raises(EnvFileError):
        kubelet_value(text.encode(), "MY_VAR")


def test_why_a_quote_must_fail_the_agent() -> None:
    """A key with ' either stops the container or, worse, silently loses everything after the quote."""
    with pytest.raises(EnvFileError):
        kubelet_value(b"OPENLINEAGE_API_KEY='ab'cd'\n", NAME)
    assert kubelet_value(b"OPENLINEAGE_API_KEY='sk-test-agent-0002' #x'\n", NAME) == "sk-test-agent-0002"


def test_long_lines_are_refused() -> None:
    """A line longer than the kubelet scanner's 64 KiB stops the container."""
    with pytest.raises(EnvFileError, match="too long"):
        kubelet_value(f"{NAME}='{'k' * 70000}'\n".encode(), NAME)
