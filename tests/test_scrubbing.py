"""The key in every form is absent from every channel, in every mode: scrubbing is the last step of each.

Keys are generated (hypothesis) from an alphabet with ``/+=``, quotes, backslashes, spaces and
non-ASCII letters, and the chart renders the key percent-encoded into a URL. The forms searched
for are computed here, independently of ``cli.scrub``: raw, base64 at the three alignments, JSON and
YAML escapes, percent-encoding with upper- and lower-case hex and ``+`` for a space, the checksum
annotation's digest, and in messages any 12-character fragment. A static test enumerates every
place in ``postrenderer/cli/`` that writes, so that a new channel cannot bypass the one writer.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import re
import tempfile
import urllib.parse
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening import HELM3
from tests.inprocess import run_in_process

ROOT = Path(__file__).resolve().parent.parent
TEXT = HELM3.decode()
ALPHABET = st.sampled_from("abcdefXYZ0189/+=\"'\\ é%:-_")
KEYS = st.text(ALPHABET, min_size=16, max_size=40).map(str.strip).filter(
    lambda key: len(key) >= 16 and all(key[i : i + 12] not in TEXT for i in range(len(key) - 11))
)
ENCODINGS = ("upper", "lower", "plus")
MODES = {"render": [], "explain": ["--explain"], "json": ["--explain", "--report-format", "json"],
         "debug": ["--debug"], "diff": ["--diff"], "patches": ["--emit-patches"], "check": ["--check", "--explain"],
         "kustomize": ["--emit-kustomize-patches"]}
SHAREABLE_STDOUT = ("diff", "patches", "check")  # the other modes' stdout is the stream itself, key and all


def percent(key: str, how: str) -> str:
    """The key percent-encoded: upper-case hex, lower-case hex, or with + for a space."""
    if how == "plus":
        return urllib.parse.quote_plus(key, safe="")
    encoded = urllib.parse.quote(key, safe="")
    return re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), encoded) if how == "lower" else encoded


def digest(key: str) -> str:
    """The checksum annotation a guessed key would give with the secret method's default names."""
    encoded = base64.b64encode(key.encode()).decode()
    return hashlib.sha256(b"".join(p.encode() + b"\0" for p in ("openlineage-api-key-secret", "api-key", encoded))
                          ).hexdigest()


def forms(key: str) -> set[str]:
    """Every spelling of key searched for, computed without olrender's scrubber."""
    raw = key.encode()
    found = {key, base64.b64encode(raw).decode(), json.dumps(key)[1:-1], json.dumps(key, ensure_ascii=False)[1:-1],
             digest(key), *(percent(key, how) for how in ENCODINGS)}
    dumped = yaml.dump(key, default_style='"', width=2**30)
    found.add(dumped[dumped.index('"') + 1 : dumped.rindex('"')])
    for prefix in (b"a", b"ab"):  # inside a longer base64 value: the groups made of key bytes only
        found.add(base64.b64encode(prefix + raw).decode()[4 : 4 * ((len(prefix) + len(raw)) // 3)])
    return {form for form in found if len(form) >= 8}


def leaks(key: str, text: str, message: bool) -> list[str]:
    """The forms of key in text; in a message, also any 12-character fragment."""
    found = [form for form in forms(key) if form in text]
    if message:
        found += [key[i : i + 12] for i in range(len(key) - 11) if key[i : i + 12] in text]
    return found


def stream_with(key: str, how: str) -> bytes:
    """The sample stream, with the chart's OPENLINEAGE_URL carrying the key percent-encoded in its query."""
    url = f"https://o11y.example/v1?api_key={percent(key, how)}"
    return HELM3.replace(b"            - name: TZ\n",
                         f"            - name: OPENLINEAGE_URL\n              value: {json.dumps(url)}\n"
                         "            - name: TZ\n".encode(), 1)


def helm4_environment(place: Path) -> dict[str, str]:
    """Variables under which olrender runs as Helm 4's post-renderer plugin, its cache in place."""
    plugin = place / "plugin"
    plugin.mkdir()
    (plugin / "plugin.yaml").write_text("name: olrender\ntype: postrenderer/v1\n")
    return {"HELM_PLUGIN_NAME": "olrender", "HELM_PLUGIN_DIR": str(plugin), "HELM_CACHE_HOME": str(place / "cache")}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=KEYS, how=st.sampled_from(ENCODINGS), overwrite=st.booleans())
def test_no_form_of_the_key_on_any_channel_in_any_mode(key: str, how: str, overwrite: bool) -> None:
    """stderr, --log-file, --report, Helm 4's error log, and stdout of the shareable modes: no form of the key."""
    data = stream_with(key, how)
    assert percent(key, how) in data.decode()  # the stream really carries it
    for mode, extra in MODES.items():
        with tempfile.TemporaryDirectory() as place:
            where = Path(place)
            env = {"OPENLINEAGE_API_KEY": key, **helm4_environment(where)}
            log = ["--log-file", str(where / "log")] if mode != "debug" else []  # (debug: Helm 4's log instead)
            args = [*extra, *log, "--report", str(where / "report"), "--url", "https://o11y.astronomer.io",
                    *(["--overwrite"] if overwrite else [])]
            proc = run_in_process(args, data, env)
            assert proc.returncode in (0, 4, 6), proc.stderr
            channels = {"stderr": proc.stderr.decode()}
            for name in ("log", "report", "cache/olrender/errors.log"):
                if (where / name).exists():
                    channels[name] = (where / name).read_text()
            for name, text in channels.items():
                assert leaks(key, text, message=True) == [], (mode, name)
            if mode in SHAREABLE_STDOUT:
                assert leaks(key, proc.stdout.decode(), message=False) == [], mode
            if mode == "debug" and proc.returncode:
                assert "cache/olrender/errors.log" in channels


@pytest.mark.parametrize("mode", ["--diff", "--emit-patches", "--explain"])
def test_the_checksum_cannot_confirm_a_guessed_key(mode: str) -> None:
    """The checksum/openlineage-api-key annotation is a function of the key alone: shareable outputs redact it."""
    key = "sk-test-guessable-0001"
    proc = run_in_process([mode, "--report-format", "json"], HELM3, {"OPENLINEAGE_API_KEY": key})
    assert proc.returncode == 0, proc.stderr
    shown = (proc.stderr if mode == "--explain" else proc.stdout + proc.stderr).decode()  # (--explain: the stream)
    assert digest(key) not in shown
    if mode != "--explain":
        assert "checksum/openlineage-api-key" in shown or "checksum~1openlineage-api-key" in shown
        assert not re.search(r"openlineage-api-key\W{1,12}[0-9a-f]{64}", shown)
    from postrenderer.cli import scrub
    from postrenderer.inject.methods import CHECKSUM_ANNOTATION

    assert scrub.CHECKSUM_ANNOTATION == CHECKSUM_ANNOTATION  # the scrubber looks for the annotation the method writes
    rendered = run_in_process([], HELM3, {"OPENLINEAGE_API_KEY": key})
    assert digest(key).encode() in rendered.stdout  # the stream itself keeps it: pods roll when the key changes


def test_a_key_pasted_as_a_secret_name_is_not_quoted() -> None:
    """--api-key-secret holding a key (with a trailing space) that the heuristic does not take for one."""
    key = "abcdefghij0123456789klmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"  # no capital: not "random"
    proc = run_in_process([f"--api-key-secret={key} "], HELM3)
    assert proc.returncode == 2
    assert "--api-key-secret" in proc.stderr.decode()
    assert leaks(key, proc.stderr.decode(), message=True) == []


# ---- every channel goes through the one writer

WRITERS = {  # the only places in postrenderer/cli that write, and why each is safe
    ("reporter.py", "Reporter._write"): "stderr and the log file: scrub_message is its first step",
    ("files.py", "write_private"): "the report file: called only by Reporter.write_file, which scrubs",
    ("signals.py", "write_output"): "stdout: the stream, or the --diff/--emit-patches text run scrubbed",
    ("precommit.py", "check_file"): "the pre-commit hook: a file it cannot read (no key involved)",
    ("terminal.py", "tell"): "the terminal helm runs in: messages the Reporter already scrubbed (helm4.py)",
    ("precommit.py", "main"): "the pre-commit hook: a file that belongs to no chart (a path, no key involved)",
    ("precommit.py", "check_chart"): "the pre-commit hook relays helm template's error (olrender has not run)",
    ("precommit.py", "_olrender"): "the pre-commit hook relays olrender's stderr, which olrender scrubbed",
}
CALLERS = {"write_private": {("reporter.py", "Reporter.write_file")}}  # who may call a writer


def writes(path: Path) -> list[tuple[str, str]]:
    """(function, what) for every write, print, echo or writer call in a module."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{scope}.{child.name}" if scope else child.name
            if isinstance(child, ast.Call):
                func = child.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                if name in ("write", "writelines", "print", "echo", "secho", "write_private"):
                    found.append((scope, name))
            visit(child, inner)

    visit(ast.parse(path.read_text()), "")
    return found


def test_every_channel_writes_through_the_scrubbing_writer() -> None:
    """No code in postrenderer/cli writes except the listed writers; write_private is called only by the Reporter."""
    seen = set()
    for path in sorted((ROOT / "postrenderer" / "cli").glob("*.py")):
        for scope, name in writes(path):
            if name in CALLERS:
                assert (path.name, scope) in CALLERS[name], f"{path.name}: {scope} calls {name}"
                continue
            assert (path.name, scope) in WRITERS, f"{path.name}: {scope} writes ({name}) around the Reporter"
            seen.add((path.name, scope))
    assert seen == set(WRITERS)  # the list holds no stale entry


@given(key=KEYS, before=st.binary(max_size=5), after=st.binary(max_size=5))
def test_the_key_inside_a_longer_base64_value_is_redacted(key: str, before: bytes, after: bytes) -> None:
    """A Secret value holding the key within other bytes: its base64 at any of the three alignments."""
    from postrenderer.cli.scrub import Scrubber

    scrubber = Scrubber()
    scrubber.add(key)
    encoded = base64.b64encode(before + key.encode() + after).decode()
    shown = scrubber.scrub(f"data: {encoded}")
    assert [form for form in forms(key) if form in shown] == []
    assert "<redacted>" in shown
