"""Tests for postrenderer.cli: the process contract (stdin/stdout, exit codes, env, logging)."""

from __future__ import annotations

import gc
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from postrenderer import __version__, cli

ROOT = Path(__file__).resolve().parent.parent
HELM3 = (ROOT / "fixtures" / "streams" / "helm3.yaml").read_bytes()
KEY = "sk-test-cli-0001"


def olrender(*args: str, data: bytes = HELM3, env: dict[str, str] | None = None,
             cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run olrender as Helm does, with a clean environment plus env."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("OLRENDER_") and k != "OPENLINEAGE_API_KEY"}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "postrenderer", *args], input=data,
                          capture_output=True, env=base, cwd=cwd, timeout=60, check=False)


def test_version() -> None:
    """--version prints the package version."""
    proc = olrender("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout.decode()


def test_help_lists_every_option_with_its_variable() -> None:
    """--help documents options, OLRENDER_* variables and exit codes."""
    text = olrender("--help").stdout.decode()
    for needle in ("--api-key-file", "OLRENDER_VALUES", "OLRENDER_API_KEY_SECRET", "--log-file",
                   "Exit codes", "5 no agent component found"):
        assert needle in text


def test_unknown_option_is_usage_error() -> None:
    """Usage errors exit 2 with nothing on stdout."""
    proc = olrender("--no-such-option")
    assert proc.returncode == 2 and proc.stdout == b""


def test_environment_configures_everything() -> None:
    """OLRENDER_* variables stand in for every option (helmfile and Helm 4 plugin users)."""
    proc = olrender(env={"OLRENDER_API_KEY_SECRET": "mine", "OLRENDER_URL": "https://env.example",
                         "OLRENDER_OVERWRITE": "true"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "name: mine" in out
    assert out.count("value: \"https://env.example\"") == 4


def test_command_line_beats_environment() -> None:
    """--url on the command line wins over OLRENDER_URL."""
    proc = olrender("--url", "https://o11y.astronomer.io", "--overwrite",
                    env={"OPENLINEAGE_API_KEY": KEY, "OLRENDER_URL": "https://env.example"})
    assert proc.returncode == 0, proc.stderr
    assert b"https://env.example" not in proc.stdout


def test_values_files_from_environment(tmp_path: Path) -> None:
    """OLRENDER_VALUES takes values files separated like PATH (``:``)."""
    (tmp_path / "a.yaml").write_text("openLineage:\n  apiKeySecret: from-a\n")
    (tmp_path / "b.yaml").write_text("openLineage:\n  namespace: ultraviolet-corona-6870\n")
    proc = olrender(env={"OLRENDER_VALUES": "a.yaml:b.yaml"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert b"name: from-a" in proc.stdout


def test_log_file_is_owner_only_and_says_why(tmp_path: Path) -> None:
    """The log file is created 0600 and carries the error Helm 4 would hide."""
    log = tmp_path / "olrender.log"
    proc = olrender("--log-file", str(log))
    assert proc.returncode == 2
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert "the secret method needs a key" in log.read_text()


def test_log_file_has_summary_and_no_key(tmp_path: Path) -> None:
    """A successful run logs what it did per workload, never the key."""
    log = tmp_path / "olrender.log"
    proc = olrender("--log-file", str(log), env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 0
    text = log.read_text()
    assert "4 component(s), 4 document(s) changed, 1 added (helm3 stream, method secret)" in text
    assert "Deployment/astro-agent-sentinel): skipped" in text
    assert KEY not in text and KEY not in proc.stderr.decode()


def test_world_readable_key_file_warns(tmp_path: Path) -> None:
    """A key file others can read triggers a warning that does not show the key."""
    key = tmp_path / "key"
    key.write_text(KEY + "\n")
    key.chmod(0o644)
    proc = olrender("--api-key-file", str(key))
    assert proc.returncode == 0
    stderr = proc.stderr.decode()
    assert "readable by other users" in stderr and KEY not in stderr


def test_failure_writes_nothing_to_stdout() -> None:
    """A failing run leaves stdout empty (Helm would otherwise deploy a partial stream)."""
    proc = olrender("--url", "https://other.example", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 4 and proc.stdout == b""
    assert "Traceback" not in proc.stderr.decode()


def test_debug_shows_traceback_without_key() -> None:
    """--debug adds a traceback for errors, still without the key."""
    proc = olrender("--debug", "--url", "https://other.example", env={"OPENLINEAGE_API_KEY": KEY})
    stderr = proc.stderr.decode()
    assert proc.returncode == 4 and "Traceback" in stderr and KEY not in stderr


VAULT_OPTIONS = {"method": "vault", "vault_addr": "https://vault.example:8200", "vault_role": "astro-agent",
                 "vault_secret_path": "secret/data/openlineage/api-key", "vault_secret_field": "key"}


@pytest.mark.parametrize("stream_name", ["helm3.yaml", "helm4.yaml", "M"])
@pytest.mark.parametrize("options", [
    {}, {"api_key_secret": "mine"}, VAULT_OPTIONS, {**VAULT_OPTIONS, "kube_version": "1.33", "url": "https://o11y.astronomer.io"},
    {"check": True}, {"emit_patches": True}, {"diff": True}, {"explain": True, "report_format": "json"},
], ids=repr)
def test_a_run_leaves_no_reference_cycles(stream_name: str, options: dict[str, object],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The olrender program turns the cyclic garbage collector off, so a run must free everything by itself."""
    from tests.benchmarks import streams

    data = streams.stream("M") if stream_name == "M" else (ROOT / "fixtures" / "streams" / stream_name).read_bytes()
    monkeypatch.setenv("OPENLINEAGE_API_KEY", KEY)
    reporter = cli.Reporter(None)
    base = {"overwrite": True, "allow_no_match": True, "url": "https://o11y.astronomer.io", "namespace": "uv-6870"}
    if options.get("check"):  # what --check sees in CI: a rendered stream
        data = b"".join(cli.run(base, data, reporter))
    options = {**base, **options}
    cli.run(options, data, reporter)  # a first run loads what it needs on demand (modules, caches)
    gc.collect()
    gc.disable()
    try:
        output = cli.run(options, data, reporter)
        found = gc.collect()
        json.dumps({"a": [1]}, indent=2)  # the standard library's indenting encoder leaves one cycle per call
        encoder = gc.collect()
    finally:
        gc.enable()
    assert output
    writes_json = bool(options.get("emit_patches") or options.get("report_format") == "json")
    assert found == (encoder if writes_json else 0)


@pytest.mark.parametrize("how", ["option", "environment"])
def test_usage_errors_reach_the_log_file(how: str, tmp_path: Path) -> None:
    """Helm 4 discards stderr: a mistyped option is also written to the log file, in the usual error form."""
    log = tmp_path / "olrender.log"
    args, env = (["--log-file", str(log)], {}) if how == "option" else ([], {"OLRENDER_LOG_FILE": str(log)})
    proc = olrender("--halp", *args, env={"OPENLINEAGE_API_KEY": KEY, **env})
    assert proc.returncode == 2 and proc.stdout == b""
    assert "No such option '--halp'" in proc.stderr.decode()
    (line,) = log.read_text().splitlines()
    assert line.endswith("olrender: error: invalid config: No such option '--halp'. Did you mean '--help'? "
                         "(see olrender --help)")


@pytest.mark.parametrize(("text", "shown"), [
    ("is 'https://user:pass@o11y.example/api'", "is 'https://<redacted>@o11y.example/api'"),
    ("https://o11y.example/a@b and mailto:x@y", "https://o11y.example/a@b and mailto:x@y"),  # @ after the host
    ("a://b://c@d, x://y@z", "a://b://<redacted>@d, x://<redacted>@z"),
    ("already https://<redacted>@host", "already https://<redacted>@host"),
])
def test_url_credentials_are_hidden(text: str, shown: str) -> None:
    """The credentials part of every URL in a message is replaced, nothing else."""
    assert cli.hide_url_credentials(text) == shown
