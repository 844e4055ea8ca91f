"""The API key never leaks: not on stderr, in the log, in reports, patches, diffs, errors or tracebacks.

The one place the key may appear is, base64-encoded, in the ``data`` of the
Secret the ``secret`` method generates. Every test feeds a distinctive fake key
through one of the three ways in (environment, key file, values file) and
searches everything olrender wrote for it, plain and base64.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from postrenderer import cli
from tests.hardening import HELM3, clean_env
from tests.inprocess import Ran, run_in_process

KEY = "sk-test-hygiene-5e1f0c"
OLD_KEY = "sk-test-hygiene-old-77d2"  # a key already rendered into the stream by the chart
FORMS = (KEY, base64.b64encode(KEY.encode()).decode(), OLD_KEY, base64.b64encode(OLD_KEY.encode()).decode())
MODES = {"render": [], "explain": ["--explain"], "debug": ["--debug"], "diff": ["--diff"],
         "emit-patches": ["--emit-patches"], "check": ["--check"], "kustomize": ["--emit-kustomize-patches"]}
PRINTS_THE_SECRET = ("render", "explain", "debug", "kustomize")  # the modes whose output holds the generated Secret


def olrender(args: list[str], data: bytes = HELM3, env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """Run the olrender command in this process with a clean environment plus env."""
    return run_in_process(args, data, env, cwd)


def leaks(text: str | bytes) -> list[str]:
    """Which forms of the keys (plain, base64) appear in text."""
    text = text.decode() if isinstance(text, bytes) else text
    return [form for form in FORMS if form in text]


def key_source(how: str, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """Arguments and environment that hand olrender KEY in one of its three ways."""
    if how == "environment":
        return [], {"OPENLINEAGE_API_KEY": KEY}
    if how == "key-file":
        path = tmp_path / "key"
        path.write_text(f"  {KEY}\n")
        path.chmod(0o600)
        return ["--api-key-file", str(path)], {}
    path = tmp_path / "values.yaml"
    path.write_text(f"openLineage:\n  apiKey: {KEY}\n")
    return ["-f", str(path)], {}


def secret_data_only(stdout: bytes) -> None:
    """The key appears once, base64-encoded, as the data of the generated Secret, and nowhere else."""
    encoded = base64.b64encode(KEY.encode()).decode()
    assert KEY.encode() not in stdout
    assert stdout.count(encoded.encode()) == 1
    (secret,) = [d for d in yaml.safe_load_all(stdout) if isinstance(d, dict) and d.get("kind") == "Secret"
                 and d["metadata"]["name"] == "openlineage-api-key-secret"]
    assert secret["data"] == {"api-key": encoded}


@pytest.mark.parametrize("how", ["environment", "key-file", "values-file"])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_key_appears_only_in_the_secret(how: str, mode: str, tmp_path: Path) -> None:
    """In every mode, from every source: stderr and the log are clean; stdout holds the key only in the Secret."""
    args, env = key_source(how, tmp_path)
    log = tmp_path / "olrender.log"
    proc = olrender([*args, *MODES[mode], "--log-file", str(log)], env=env)
    assert proc.returncode == (6 if mode == "check" else 0), proc.stderr
    assert leaks(proc.stderr) == [] and leaks(log.read_text()) == []
    if mode in PRINTS_THE_SECRET:
        secret_data_only(proc.stdout)
    else:
        assert leaks(proc.stdout) == []


CHART_RENDERED_KEYS = HELM3 + f"""---
# Source: astro-remote-execution-agent/templates/openlineage-secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: openlineage-api-key-secret
type: Opaque
data:
  api-key: {base64.b64encode(OLD_KEY.encode()).decode()}
""".encode()


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("overwrite", [False, True], ids=["conflict", "overwrite"])
def test_keys_in_the_stream_never_show(mode: str, overwrite: bool, tmp_path: Path) -> None:
    """A different key the chart already rendered is named as a conflict, never shown; --overwrite hides both."""
    log = tmp_path / "olrender.log"
    args = [*MODES[mode], "--log-file", str(log), *(["--overwrite"] if overwrite else [])]
    proc = olrender(args, CHART_RENDERED_KEYS, {"OPENLINEAGE_API_KEY": KEY})
    assert leaks(proc.stderr) == [] and leaks(log.read_text()) == []
    if mode == "check":
        assert proc.returncode == 6
    elif not overwrite:
        assert proc.returncode == 4 and proc.stdout == b""
        assert "openlineage-api-key-secret" in proc.stderr.decode()
    elif mode in ("diff", "emit-patches"):
        assert proc.returncode == 0 and leaks(proc.stdout) == []
    else:
        assert proc.returncode == 0
        assert OLD_KEY.encode() not in proc.stdout and base64.b64encode(OLD_KEY.encode()) not in proc.stdout
        assert KEY.encode() not in proc.stdout


def test_literal_key_in_a_component_is_redacted(tmp_path: Path) -> None:
    """A chart that put the key as a literal env value: the conflict says so without quoting it."""
    data = HELM3.replace(
        b"            - name: TZ\n",
        f"            - name: OPENLINEAGE_API_KEY\n              value: {OLD_KEY}\n            - name: TZ\n".encode(),
        1,
    )
    assert OLD_KEY.encode() in data
    for extra in ([], ["--debug"], ["--explain"], ["--diff"], ["--emit-patches"]):
        proc = olrender(["--log-file", str(tmp_path / "log"), *extra], data, {"OPENLINEAGE_API_KEY": KEY})
        assert proc.returncode == 4, proc.stderr
        assert "a literal value (redacted)" in proc.stderr.decode()
        assert leaks(proc.stderr) == [] and leaks(proc.stdout) == []
    assert leaks((tmp_path / "log").read_text()) == []


def test_exception_text_and_debug_traceback_are_scrubbed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A bug whose exception text carries the key: the message and the --debug traceback show <redacted>."""
    from postrenderer import program as pipeline

    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"unexpected state around {KEY} / {base64.b64encode(KEY.encode()).decode()}")

    monkeypatch.setattr(pipeline, "program", explode)
    monkeypatch.setenv("OPENLINEAGE_API_KEY", KEY)
    log = tmp_path / "olrender.log"
    result = CliRunner().invoke(cli.command, ["--debug", "--log-file", str(log)], input=HELM3,
                                standalone_mode=False)
    assert result.return_value == 1  # internal error
    output = result.stdout + result.stderr
    assert "internal error: RuntimeError" in output and "Traceback" in output
    assert "<redacted>" in output
    assert leaks(output) == [] and leaks(log.read_text()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [(f"{KEY}\nsecond line\n", "the API key spans several lines"), ("  \n\n", "the API key is empty")],
    ids=["several-lines", "empty"],
)
def test_bad_key_files_are_refused_without_echo(content: str, message: str, tmp_path: Path) -> None:
    """A key file olrender cannot use is refused; the message never quotes its content."""
    path = tmp_path / "key"
    path.write_text(content)
    path.chmod(0o600)
    proc = olrender(["--api-key-file", str(path), "--debug"])
    assert proc.returncode == 2 and proc.stdout == b""
    assert message in proc.stderr.decode()
    assert leaks(proc.stderr) == [] and "second line" not in proc.stderr.decode()


def test_key_is_trimmed(tmp_path: Path) -> None:
    """White space and newlines around the key (editors, ``echo``) are not part of it."""
    path = tmp_path / "key"
    path.write_text(f"\n\t {KEY} \r\n\n")
    path.chmod(0o600)
    proc = olrender(["--api-key-file", str(path)])
    assert proc.returncode == 0
    secret_data_only(proc.stdout)
    env_proc = olrender([], env={"OPENLINEAGE_API_KEY": f" {KEY}\n"})
    assert env_proc.stdout == proc.stdout


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_key_file_warns(mode: int, tmp_path: Path) -> None:
    """A key file others (group or world) can read draws a warning, without the key."""
    path = tmp_path / "key"
    path.write_text(KEY)
    path.chmod(mode)
    proc = olrender(["--api-key-file", str(path)])
    assert proc.returncode == 0
    assert "readable by other users; chmod 600 it" in proc.stderr.decode()
    assert leaks(proc.stderr) == []


def test_private_key_file_does_not_warn(tmp_path: Path) -> None:
    """A 0600 key file is quiet."""
    path = tmp_path / "key"
    path.write_text(KEY)
    path.chmod(0o600)
    assert "readable by other users" not in olrender(["--api-key-file", str(path)]).stderr.decode()


def test_log_file_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """The log file is created 0600 even under a permissive umask."""
    log = tmp_path / "olrender.log"
    proc = subprocess.run([sys.executable, "-m", "postrenderer", "--log-file", str(log)], input=HELM3,
                          capture_output=True, env=clean_env({"OPENLINEAGE_API_KEY": KEY}), timeout=60,
                          check=False, preexec_fn=lambda: os.umask(0))
    assert proc.returncode == 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_api_key_in_values_file_warns(tmp_path: Path) -> None:
    """A values file holding the key works, with a warning that points to a Secret of one's own or Vault."""
    args, _ = key_source("values-file", tmp_path)
    proc = olrender(args)
    assert proc.returncode == 0
    warning = proc.stderr.decode()
    assert "openLineage.apiKey puts the plaintext key in a values file" in warning
    assert "apiKeySecret" in warning and "vault" in warning
    assert leaks(warning) == []


def test_plaintext_key_is_never_accepted_on_the_command_line() -> None:
    """There is no option that takes the key itself (it would show in process listings)."""
    help_text = olrender(["--help"]).stdout.decode()
    assert "--api-key " not in help_text and "--api-key=" not in help_text
    proc = olrender(["--api-key", KEY])
    assert proc.returncode == 2 and proc.stdout == b""
    assert "No such option '--api-key'" in proc.stderr.decode() and leaks(proc.stderr) == []


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "github"])
def test_report_file_is_clean(fmt: str, tmp_path: Path) -> None:
    """``--report FILE`` (every format), also for a run that fails on a conflict, holds no key."""
    report = tmp_path / "report.out"
    for data in (HELM3, CHART_RENDERED_KEYS):
        proc = olrender(["--report", str(report), "--report-format", fmt], data, {"OPENLINEAGE_API_KEY": KEY})
        assert proc.returncode in (0, 4), proc.stderr
        # (github holds only findings, none here: tests/test_review.py scrubs a key quoted in one)
        assert (report.read_text().strip() or fmt == "github") and leaks(report.read_text()) == []


def test_forbid_plaintext_names_keys_without_showing_them(tmp_path: Path) -> None:
    """The plaintext policy finds the key the chart put in a Secret and says where, never what."""
    proc = olrender(["--forbid-plaintext", "--api-key-secret", "my-secret", "--log-file", str(tmp_path / "log")],
                    CHART_RENDERED_KEYS)
    assert proc.returncode == 6 and proc.stdout == b""
    assert "openlineage-api-key-secret" in proc.stderr.decode()
    assert leaks(proc.stderr) == [] and leaks((tmp_path / "log").read_text()) == []


# --- the key in escaped forms --------------------------------------------------------------------
# A key with every character that escaping changes: backslash, both quotes, a non-ASCII letter. If any
# spelling of it (raw, repr'd, JSON or YAML escaped, escaped twice) were printed, its plain ASCII ends
# would be: they are searched for, not the forms olrender knows, so the test does not share its blind spots.
ODD_KEY = "sk-test-esc\\ape\"qu'ote-\u00e9-7f3a9c"
ODD_ENDS = ("sk-test-esc", "7f3a9c", base64.b64encode(ODD_KEY.encode()).decode()[:16])
URL_WITH_KEY = HELM3.replace(
    b'value: "https://o11y.astronomer.io"', b"value: " + json.dumps(f"https://{ODD_KEY}@o11y.example").encode(), 1
)


def odd_leaks(*texts: str | bytes) -> list[str]:
    """Which recognisable ends of ODD_KEY appear in any of the texts."""
    joined = "".join(t.decode() if isinstance(t, bytes) else t for t in texts)
    return [end for end in ODD_ENDS if end in joined]


def odd_key_file(tmp_path: Path) -> Path:
    """A private key file holding ODD_KEY."""
    path = tmp_path / "odd.key"
    path.write_text(ODD_KEY + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("extra", [[], ["--debug"], ["--explain"], ["--report-format", "json"], ["--diff"],
                                   ["--emit-patches"]], ids=["render", "debug", "explain", "json", "diff", "patches"])
def test_key_in_a_conflicting_value_is_redacted_in_every_escaped_form(extra: list[str], tmp_path: Path) -> None:
    """The chart rendered the key inside OPENLINEAGE_URL; the conflict message quotes that value (repr, JSON)."""
    assert odd_leaks(URL_WITH_KEY)  # the stream really carries it
    log, report = tmp_path / "olrender.log", tmp_path / "report.out"
    proc = olrender(["--api-key-file", str(odd_key_file(tmp_path)), "--url", "https://o11y.astronomer.io",
                     "--log-file", str(log), "--report", str(report), *extra], URL_WITH_KEY)
    assert proc.returncode == 4 and proc.stdout == b"", proc.stderr
    assert "env OPENLINEAGE_URL is already set" in proc.stderr.decode()
    assert "<redacted>" in proc.stderr.decode() and "<redacted>" in report.read_text()
    assert odd_leaks(proc.stderr, log.read_text(), report.read_text()) == []


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_check_reads_the_key_file_to_keep_the_key_out_of_its_findings(fmt: str, tmp_path: Path) -> None:
    """--check: a URL holding the key (https://KEY@host) is quoted by the URL finding, redacted."""
    log, report = tmp_path / "olrender.log", tmp_path / "report.out"
    proc = olrender(["--check", "--api-key-file", str(odd_key_file(tmp_path)), "--url", "https://o11y.astronomer.io",
                     "--log-file", str(log), "--report", str(report), "--report-format", fmt], URL_WITH_KEY)
    assert proc.returncode == 6, proc.stderr
    assert "OPENLINEAGE_URL: is 'https://<redacted>@o11y.example'" in proc.stderr.decode()
    assert odd_leaks(proc.stderr, log.read_text(), report.read_text()) == []


def test_key_from_the_environment_in_escaped_forms(tmp_path: Path) -> None:
    """The same through OPENLINEAGE_API_KEY, with --explain and a JSON report (non-ASCII as \\u00e9)."""
    report = tmp_path / "report.json"
    proc = olrender(["--url", "https://o11y.astronomer.io", "--explain", "--report", str(report),
                     "--report-format", "json"], URL_WITH_KEY, {"OPENLINEAGE_API_KEY": ODD_KEY})
    assert proc.returncode == 4
    assert odd_leaks(proc.stderr, report.read_text()) == []
    assert "<redacted>" in report.read_text()


def test_report_is_replaced_atomically_and_private(tmp_path: Path) -> None:
    """--report writes a new 0600 file and renames it over the old one: another name of the old file keeps its text."""
    report = tmp_path / "report.txt"
    report.write_text("old report\n")
    report.chmod(0o644)
    other_name = tmp_path / "hard-link.txt"
    os.link(report, other_name)
    proc = subprocess.run([sys.executable, "-m", "postrenderer", "--report", str(report)], input=HELM3,
                          capture_output=True, env=clean_env({"OPENLINEAGE_API_KEY": KEY}), timeout=60,
                          check=False, preexec_fn=lambda: os.umask(0))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert "component" in report.read_text()
    assert other_name.read_text() == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard-link.txt", "report.txt"]  # no temporary left


def test_readable_log_file_warns(tmp_path: Path) -> None:
    """An existing log file others can read draws a warning (in the log too); olrender never changes its mode."""
    log = tmp_path / "olrender.log"
    log.write_text("")
    log.chmod(0o644)
    proc = olrender(["--log-file", str(log)], env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 0
    warning = f"olrender: warning: --log-file {log} is readable by other users; chmod 600 it"
    assert warning in proc.stderr.decode() and warning in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o644


def test_log_file_with_another_name_is_refused(tmp_path: Path) -> None:
    """A log file with a second hard link is refused: appending would write into that other file too."""
    log = tmp_path / "olrender.log"
    log.write_text("")
    os.link(log, tmp_path / "elsewhere")
    proc = olrender(["--log-file", str(log)], env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 2 and proc.stdout == b""
    assert "the file has other names (hard links)" in proc.stderr.decode()
    assert log.read_text() == ""


def test_url_credentials_are_redacted_even_when_the_key_is_not_configured(tmp_path: Path) -> None:
    """--check with no key given: olrender cannot know the key, but what stands before a URL's @ is never shown."""
    log = tmp_path / "olrender.log"
    proc = olrender(["--check", "--url", "https://o11y.astronomer.io", "--log-file", str(log)], URL_WITH_KEY)
    assert proc.returncode == 6
    assert "OPENLINEAGE_URL: is 'https://<redacted>@o11y.example'" in proc.stderr.decode()
    assert odd_leaks(proc.stderr, log.read_text()) == []


def test_key_file_through_a_symbolic_link_is_read(tmp_path: Path) -> None:
    """A mounted Secret is a chain of symbolic links (..data/key): key files, unlike log and report, follow them."""
    (tmp_path / "..2026_12_01").mkdir()
    target = tmp_path / "..2026_12_01" / "api-key"
    target.write_text(KEY)
    target.chmod(0o600)
    (tmp_path / "..data").symlink_to("..2026_12_01")
    (tmp_path / "api-key").symlink_to("..data/api-key")
    proc = olrender(["--api-key-file", str(tmp_path / "api-key")])
    assert proc.returncode == 0, proc.stderr
    secret_data_only(proc.stdout)
