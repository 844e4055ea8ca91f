"""Tests for postrenderer.cli: the process contract (stdin/stdout, exit codes, env, logging)."""

from __future__ import annotations

import base64
import gc
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from postrenderer import __version__
from postrenderer.cli import helm4, reporter, run, scrub
from postrenderer.inject.methods import choices
from tests.tools.pytest_realtools import RealTool

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
    report = reporter.Reporter(None)
    base = {"overwrite": True, "allow_no_match": True, "url": "https://o11y.astronomer.io", "namespace": "uv-6870"}
    if options.get("check"):  # what --check sees in CI: a rendered stream
        data = b"".join(run.run(base, data, report, os.environ))
    options = {**base, **options}
    run.run(options, data, report, os.environ)  # a first run loads what it needs on demand (modules, caches)
    gc.collect()
    gc.disable()
    try:
        output = run.run(options, data, report, os.environ)
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
    assert scrub.hide_url_credentials(text) == shown


@pytest.mark.parametrize(("env", "fragment"), [
    ({"OLRENDER_METHOD": "vualt"}, "invalid config: OLRENDER_METHOD=vualt: 'vualt' is not one of"),
    ({"OLRENDER_OVERWRITE": "maybe"}, "invalid config: OLRENDER_OVERWRITE=maybe: "),
    ({"OLRENDER_API_KEY_FILE": "/nonexistent/key"}, "invalid config: OLRENDER_API_KEY_FILE=/nonexistent/key: cannot"),
    ({"OLRENDER_SECRET_NAME": "Bad_Name", "OPENLINEAGE_API_KEY": KEY},
     "invalid config: OLRENDER_SECRET_NAME='Bad_Name' is not a valid Secret name"),
    ({"OLRENDER_LOG_FILE": "/nonexistent/dir/log"}, "invalid config: OLRENDER_LOG_FILE=/nonexistent/dir/log: cannot"),
    ({"OLRENDER_METHOD": "vault", "OLRENDER_VAULT_ADDR": "vault.example"},
     "\n  - OLRENDER_VAULT_ADDR='vault.example': expected an http(s):// address"),
])
def test_a_bad_value_from_the_environment_names_its_variable(env: dict[str, str], fragment: str) -> None:
    """A value that came from OLRENDER_* is reported under the variable's name, not the option's."""
    proc = olrender(env=env)
    assert proc.returncode == 2 and proc.stdout == b""
    assert fragment in proc.stderr.decode()


@pytest.mark.parametrize(("args", "fragment"), [
    (["--method", "vualt"], "Invalid value for '--method'"),
    (["--secret-name", "Bad_Name"], "invalid config: --secret-name 'Bad_Name' is not a valid Secret name"),
])
def test_a_bad_value_from_the_command_line_names_its_option(args: list[str], fragment: str) -> None:
    """The same mistakes on the command line keep the option's name."""
    proc = olrender(*args, env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 2 and fragment in proc.stderr.decode()


def test_unknown_variables_are_named_with_the_closest_setting() -> None:
    """A misspelt OLRENDER_* variable is a warning naming the closest one; the run goes on."""
    proc = olrender(env={"OPENLINEAGE_API_KEY": KEY, "OLRENDER_NAMESAPCE": "ns", "OLRENDER_ZQXJ": "1"})
    assert proc.returncode == 0
    stderr = proc.stderr.decode()
    assert ("olrender: warning: OLRENDER_NAMESAPCE is not an olrender setting (did you mean OLRENDER_NAMESPACE?); "
            "it is ignored") in stderr
    assert "olrender: warning: OLRENDER_ZQXJ is not an olrender setting; it is ignored" in stderr


def test_unknown_variables_are_named_next_to_a_usage_error() -> None:
    """The warning comes along when click refuses the command line, too."""
    proc = olrender("--methd=vault", env={"OLRENDER_METHD": "vault"})
    assert proc.returncode == 2
    assert "OLRENDER_METHD is not an olrender setting (did you mean OLRENDER_METHOD?)" in proc.stderr.decode()


def test_olrender_api_key_is_refused_with_a_pointer(tmp_path: Path) -> None:
    """OLRENDER_API_KEY, a natural guess, is exit 2 pointing at OPENLINEAGE_API_KEY, never silently ignored."""
    log = tmp_path / "olrender.log"
    proc = olrender("--log-file", str(log), env={"OLRENDER_API_KEY": KEY})
    stderr = proc.stderr.decode()
    assert proc.returncode == 2 and proc.stdout == b""
    assert "OLRENDER_API_KEY is set, but olrender reads the key only from OPENLINEAGE_API_KEY" in stderr
    assert "is not an olrender setting" not in stderr
    assert KEY not in stderr and KEY not in log.read_text() and "OLRENDER_API_KEY is set" in log.read_text()


def test_an_argument_with_a_space_is_explained() -> None:
    """`--post-renderer-args "--values values.yaml"` reaches olrender as one word: say how to write it."""
    proc = olrender("--values values.yaml")
    assert proc.returncode == 2
    assert ("'--values values.yaml' is one argument with a space in it" in proc.stderr.decode()
            and "--post-renderer-args=--values=values.yaml" in proc.stderr.decode())


@pytest.mark.parametrize("mode", ["--diff", "--emit-patches"])
def test_exit_code_says_whether_something_would_change(mode: str) -> None:
    """--exit-code: 7 with the diff or patches on stdout when there are changes, 0 when there are none."""
    env = {"OPENLINEAGE_API_KEY": KEY}
    changed = olrender(mode, "--exit-code", env=env)
    assert changed.returncode == 7 and changed.stdout
    rendered = olrender(env=env).stdout
    unchanged = olrender(mode, "--exit-code", data=rendered, env=env)
    assert unchanged.returncode == 0, unchanged.stderr
    assert olrender(mode, data=HELM3, env=env).returncode == 0  # without --exit-code, as before


def test_exit_code_needs_a_mode() -> None:
    """--exit-code alone (or with --check) is a usage error."""
    proc = olrender("--exit-code", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 2 and b"--exit-code goes with --diff or --emit-patches" in proc.stderr


def test_help_groups_the_options_and_ends_with_examples() -> None:
    """--help: one section per group, in order, every option in one of them, then examples and exit codes."""
    from postrenderer.cli.options import GROUPS, OPTIONS

    text = olrender("--help").stdout.decode()
    titles = [title for title, _ in GROUPS]
    positions = [text.index(f"\n{title}:\n") for title in titles]
    assert positions == sorted(positions) and "Other options:" not in text
    listed = {name for _, names in GROUPS for name in names}
    assert {spec.name for spec in OPTIONS} <= listed and listed - {spec.name for spec in OPTIONS} == {"help",
                                                                                                         "version"}
    examples = text.index("Examples:")
    assert examples > positions[-1] and "--post-renderer olrender --post-renderer-args=--values=values.yaml" in text
    assert text.index("Exit codes") > examples and "7 --exit-code" in text


def test_debug_lines_are_short() -> None:
    """--debug explains each workload on lines a terminal can show (the longest: the default rules, in words)."""
    proc = olrender("--debug", "-f", "fixtures/sample/values.yaml", env={"OPENLINEAGE_API_KEY": KEY}, cwd=ROOT)
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 0 and len(lines) > 30
    assert max(len(line) for line in lines) <= 160, max(lines, key=len)


def test_shell_completion_works_in_bash() -> None:
    """The documented bash completion (click's) completes option names in a real bash."""
    script = (
        'eval "$(_OLRENDER_COMPLETE=bash_source olrender)"\n'
        "COMP_WORDS=(olrender --vault-a); COMP_CWORD=1; _olrender_completion olrender\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
        "COMPREPLY=(); COMP_WORDS=(olrender --method ''); COMP_CWORD=2; _olrender_completion olrender\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["--vault-addr", "--vault-auth-path", *choices()]  # (--method's, the registry's)


def plugin_dir(tmp_path: Path, name: str = "olrender", kind: str = "postrenderer/v1") -> Path:
    """A plugin directory as Helm installs one: plugin.yaml only (olrender's own, or another plugin's)."""
    directory = tmp_path / "plugins" / name
    directory.mkdir(parents=True)
    if kind == "legacy":  # a Helm 3 CLI plugin (helm-secrets and the like), which may call helm itself
        (directory / "plugin.yaml").write_text(f"name: {name}\nversion: 4.6.0\ncommand: $HELM_PLUGIN_DIR/run.sh\n")
    else:
        (directory / "plugin.yaml").write_text(
            f"apiVersion: v1\ntype: {kind}\nname: {name}\nversion: 0.1.0\nruntime: subprocess\n")
    return directory


def as_helm4_plugin(tmp_path: Path, directory: Path, name: str = "olrender") -> dict[str, str]:
    """The variables Helm 4 sets for its post-renderer plugin (and nothing else of Helm's), cache in tmp_path."""
    return {"HELM_PLUGIN_NAME": name, "HELM_PLUGIN_DIR": str(directory), "HELM_CACHE_HOME": str(tmp_path / "cache")}


def test_a_failure_under_helm4_leaves_its_reason_in_helms_cache(tmp_path: Path) -> None:
    """No log file configured: a mistyped option and a missing key end up in olrender/errors.log, owner-only."""
    env = as_helm4_plugin(tmp_path, plugin_dir(tmp_path))
    assert olrender("--methd=vault", env=env).returncode == 2
    assert olrender(env=env).returncode == 2
    log = tmp_path / "cache" / "olrender" / "errors.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600 and stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    lines = [line.split("] ", 1)[1] for line in log.read_text().splitlines()]
    assert lines[0].startswith("olrender: failed with exit status 2 (working directory ")
    assert lines[1] == ("olrender: error: invalid config: No such option '--methd'. Did you mean '--method'? "
                        "(see olrender --help)")
    assert lines[3].startswith("olrender: error: invalid config: the secret method needs a key")
    assert len(lines) == 4


@pytest.mark.parametrize("case", ["success", "log-file", "helm3-parent-plugin", "other-postrenderer", "no-plugin"])
def test_nothing_goes_to_helms_cache_unless_a_helm4_failure_would_be_lost(case: str, tmp_path: Path) -> None:
    """Only a failed run as Helm 4's olrender plugin, without a working log file, writes errors.log."""
    env = as_helm4_plugin(tmp_path, plugin_dir(tmp_path))
    args: list[str] = []
    if case == "success":
        env["OPENLINEAGE_API_KEY"] = KEY
    elif case == "log-file":
        args = ["--methd=vault", "--log-file", str(tmp_path / "mine.log")]
    elif case == "helm3-parent-plugin":  # Helm 3 running a plugin that runs `helm template --post-renderer olrender`
        env = as_helm4_plugin(tmp_path, plugin_dir(tmp_path, "secrets", "legacy"), "secrets")
    elif case == "other-postrenderer":
        env = as_helm4_plugin(tmp_path, plugin_dir(tmp_path, "other"), "olrender")
    else:
        env = {"HELM_CACHE_HOME": str(tmp_path / "cache")}
    proc = olrender(*args, env=env)
    assert proc.returncode == (0 if case == "success" else 2)
    assert not (tmp_path / "cache" / "olrender").exists()
    if case == "log-file":
        assert "No such option '--methd'" in (tmp_path / "mine.log").read_text()


def test_helms_error_log_stays_small_and_is_never_written_through_a_link(tmp_path: Path) -> None:
    """A log over 1 MiB starts again; a symbolic link in its place is left alone (and its target untouched)."""
    env = as_helm4_plugin(tmp_path, plugin_dir(tmp_path))
    log = tmp_path / "cache" / "olrender" / "errors.log"
    log.parent.mkdir(parents=True)
    log.write_text("#" * (2**20 + 1))
    log.chmod(0o600)
    olrender(env=env)
    assert 0 < log.stat().st_size < 2000 and "#" not in log.read_text()
    log.unlink()
    target = tmp_path / "target"
    target.write_text("mine\n")
    log.symlink_to(target)
    assert olrender(env=env).returncode == 2
    assert target.read_text() == "mine\n"


@pytest.mark.realclient
@pytest.mark.parametrize("env", [
    {"HELM_CACHE_HOME": "/srv/helm-cache"},
    {"XDG_CACHE_HOME": "/srv/xdg"},
    {"HELM_CACHE_HOME": "", "XDG_CACHE_HOME": "/srv/xdg"},
    {"HOME": "/home/someone"},
    {"HOME": ""},
], ids=repr)
def test_helm_cache_home_is_where_helm_says(env: dict[str, str], real_tool: RealTool) -> None:
    """olrender finds Helm's cache directory where `helm env HELM_CACHE_HOME` (helm 4.3.1) does."""
    helm = real_tool("helm-4.3.1")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "XDG_"))}
    full = {key: value for key, value in {**base, "HOME": "/home/tester", **env}.items() if value or key != "HOME"}
    proc = subprocess.run([str(helm), "env", "HELM_CACHE_HOME"], capture_output=True, text=True, env=full,
                          timeout=60, check=True)
    assert helm4.helm_cache_home(full) == proc.stdout.strip()


# ---- the report and the log are never an input


def private(path: Path, text: str) -> Path:
    """A file of owner-only text."""
    path.write_text(text)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("output", ["--report", "--log-file"])
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
@pytest.mark.parametrize("source", ["--api-key-file", "--values"])
def test_the_report_and_the_log_cannot_be_an_input(output: str, link: str, source: str, tmp_path: Path) -> None:
    """The same file by device and inode, under any name: exit 2, both options named, the input untouched."""
    from tests.inprocess import run_in_process

    content = KEY + "\n" if source == "--api-key-file" else "openLineage:\n  apiKeySecret: mine\n"
    original = private(tmp_path / "input", content)
    named = {"same": original, "symlink": tmp_path / "link", "hardlink": tmp_path / "hard"}[link]
    if link == "symlink":
        named.symlink_to(original)
    elif link == "hardlink":
        os.link(original, named)
    proc = run_in_process([source, str(original), output, str(named)], HELM3)
    assert proc.returncode == 2 and proc.stdout == b""
    message = proc.stderr.decode()
    assert f"{output} {named} and {source} {original} are the same file" in message, message
    assert original.read_text() == content


def test_the_log_cannot_be_the_file_on_stdin(tmp_path: Path) -> None:
    """stdin redirected from a file, and --log-file naming that file: refused, the file untouched."""
    import io

    from postrenderer.cli import olrender as command
    from postrenderer.cli.environment import Environment

    stream = tmp_path / "stream.yaml"
    stream.write_bytes(HELM3)
    stderr = io.StringIO()
    with stream.open("rb") as stdin:
        status = command(["--api-key-secret=mine", "--log-file", str(stream)],
                         Environment(stdin, io.BytesIO(), stderr, {}))
    assert status == 2 and stream.read_bytes() == HELM3
    assert f"--log-file {stream} and the file on stdin are the same file" in stderr.getvalue()


def test_the_program_reads_its_variables_from_the_environment_object_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key and every OLRENDER_* setting come from the Environment passed in, never from the process's own."""
    import io

    from postrenderer.cli import olrender as command
    from postrenderer.cli.environment import Environment

    monkeypatch.setenv("OPENLINEAGE_API_KEY", "sk-process-not-this-one")
    stdout, stderr = io.BytesIO(), io.StringIO()
    status = command(["--url=https://o11y.astronomer.io"],
                     Environment(io.BytesIO(HELM3), stdout, stderr, {"OPENLINEAGE_API_KEY": KEY}))
    assert status == 0, stderr.getvalue()
    rendered = stdout.getvalue()  # (the generated Secret holds the key base64-encoded)
    assert base64.b64encode(KEY.encode()) in rendered
    assert base64.b64encode(b"sk-process-not-this-one") not in rendered

    monkeypatch.delenv("OPENLINEAGE_API_KEY")
    stderr = io.StringIO()
    status = command(["--url=https://o11y.astronomer.io"],
                     Environment(io.BytesIO(HELM3), io.BytesIO(), stderr, {}))
    assert status == 2 and "needs a key" in stderr.getvalue()
