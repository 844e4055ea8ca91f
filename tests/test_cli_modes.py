"""Tests for the CI modes of postrenderer.cli: --check, --emit-patches, --diff, --explain/--report, --forbid-plaintext.

Each runs the command the way Helm or a CI job does (stdin in, stdout out, exit code), in this process
against an in-memory ``Environment`` (the real process is tested in test_process.py and test_cli.py).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from postrenderer.program import EMPTY_OUTPUT
from tests.inprocess import Ran, run_in_process

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ROOT / "fixtures" / "streams"
CASES = ROOT / "fixtures" / "cases"
HELM3 = (STREAMS / "helm3.yaml").read_bytes()
HELM4 = (STREAMS / "helm4.yaml").read_bytes()
KEY = "sk-test-modes-0001"
SECRETS = (KEY.encode(), base64.b64encode(KEY.encode()))
VAULT = ["--method=vault", "--vault-addr=https://vault.example.com:8200", "--vault-role=astro-agent",
         "--vault-secret-path=secret/data/openlineage/api-key", "--vault-secret-field=key"]


def olrender(*args: str, data: bytes = HELM3, env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """Run olrender with a clean environment plus env."""
    return run_in_process(list(args), data, env, cwd)


def render(*args: str, data: bytes = HELM3) -> bytes:
    """olrender's output for a successful render."""
    proc = olrender(*args, data=data, env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def assert_no_secret(*outputs: bytes) -> None:
    """Neither the key nor its base64 form appears anywhere."""
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output


@pytest.mark.parametrize("data", [HELM3, HELM4], ids=["helm3", "helm4"])
def test_check_fails_on_raw_chart_output(data: bytes, tmp_path: Path) -> None:
    """Exit 6, nothing on stdout (Helm fails), a per-workload report on stderr and in the log file."""
    log = tmp_path / "olrender.log"
    proc = olrender("--check", f"--log-file={log}", data=data)
    assert proc.returncode == 6 and proc.stdout == b""
    stderr = proc.stderr.decode()
    assert "--check failed: 4 of 4 agent component(s)" in stderr
    assert stderr.count("OPENLINEAGE_API_KEY: is not set") == 4
    assert "Deployment/astro-agent-triggerer" in log.read_text()


@pytest.mark.parametrize("method", [["--api-key-secret=mine"], ["-f", "values.yaml"], VAULT,
                                    [*VAULT, "--kube-version=1.33", "--url=https://o11y.astronomer.io"]],
                         ids=["existing-secret", "secret", "vault-file-key-ref", "vault-config-file"])
@pytest.mark.parametrize("data", [HELM3, HELM4], ids=["helm3", "helm4"])
def test_check_passes_on_olrender_output_and_hands_it_back(method: list[str], data: bytes) -> None:
    """Used as a post-renderer after olrender: exit 0 and the stream unchanged, byte for byte."""
    args = [a.replace("values.yaml", str(ROOT / "fixtures" / "sample" / "values.yaml")) for a in method]
    rendered = render(*args, data=data)
    proc = olrender("--check", data=rendered)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == rendered
    assert "check passed: 4 agent component(s)" in proc.stderr.decode()


def test_check_needs_no_key_but_reads_a_configured_one(tmp_path: Path) -> None:
    """--check needs no key; a configured --api-key-file is read (its key is scrubbed), so it must be readable."""
    rendered = render("--api-key-secret=mine")
    assert olrender("--check", data=rendered).returncode == 0
    proc = olrender("--check", "--api-key-file=/nonexistent/key", "--method=secret", data=rendered)
    assert proc.returncode == 2 and proc.stdout == b""
    assert "--api-key-file /nonexistent/key: cannot read (No such file or directory)" in proc.stderr.decode()
    key = tmp_path / "key"
    key.write_text("sk-test-modes-check-0001\n")
    key.chmod(0o600)
    proc = olrender("--check", f"--api-key-file={key}", data=rendered)
    assert proc.returncode == 0, proc.stderr.decode()


def test_check_uses_configured_url_and_namespace(tmp_path: Path) -> None:
    """The URL/namespace from --url or the values files must be what the stream carries."""
    (tmp_path / "values.yaml").write_text("openLineage:\n  namespace: another-namespace\n")
    rendered = render("--api-key-secret=mine")
    proc = olrender("--check", "-f", "values.yaml", data=rendered, cwd=tmp_path)
    assert proc.returncode == 6
    assert "but the configured namespace is 'another-namespace'" in proc.stderr.decode()


def test_check_from_environment() -> None:
    """OLRENDER_CHECK turns a plain `--post-renderer olrender` into a check."""
    proc = olrender(env={"OLRENDER_CHECK": "true"})
    assert proc.returncode == 6


def test_check_on_empty_input_satisfies_helm4() -> None:
    """A chart that renders nothing: pass, with a non-empty comment so that Helm 4 accepts the output."""
    proc = olrender("--check", data=b"")
    assert proc.returncode == 0 and proc.stdout == EMPTY_OUTPUT.encode()


def test_check_without_components_is_no_match() -> None:
    """A stream with documents but no component: exit 5, like rendering."""
    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
    assert olrender("--check", data=data).returncode == 5
    assert olrender("--check", "--allow-no-match", data=data).returncode == 0


def test_check_catches_the_silent_transport_override() -> None:
    """Key, URL and namespace all present, but a transport variable makes the key be ignored: exit 6."""
    rendered = render("--api-key-secret=mine").replace(
        b"            - name: TZ\n", b"            - name: OPENLINEAGE__TRANSPORT__TYPE\n"
        b"              value: http\n            - name: TZ\n", 1)
    proc = olrender("--check", data=rendered)
    assert proc.returncode == 6
    stderr = proc.stderr.decode()
    assert "1 of 4 agent component(s)" in stderr
    assert "container 'agent': OPENLINEAGE__TRANSPORT__TYPE: configures the OpenLineage transport" in stderr


def test_render_warns_about_the_transport_override(tmp_path: Path) -> None:
    """Render mode still renders, and the warning reaches stderr and the log file."""
    data = HELM3.replace(b"            - name: TZ\n", b"            - name: AIRFLOW__OPENLINEAGE__TRANSPORT\n"
                         b"              value: '{\"type\": \"http\", \"url\": \"https://lineage.example.com\"}'\n"
                         b"            - name: TZ\n", 1)
    log = tmp_path / "olrender.log"
    proc = olrender("--api-key-secret=mine", f"--log-file={log}", data=data)
    assert proc.returncode == 0
    warning = "olrender: warning: document 12 (Deployment/astro-agent-dag-processor): container 'agent': " \
              "AIRFLOW__OPENLINEAGE__TRANSPORT: configures the OpenLineage transport"
    assert warning in proc.stderr.decode() and warning in log.read_text()


def test_emit_patches_is_json_without_secrets() -> None:
    """--emit-patches prints the plan as JSON (exit 0) and never the key."""
    proc = olrender("--emit-patches", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 0, proc.stderr.decode()
    emitted = json.loads(proc.stdout)
    assert [d["name"] for d in emitted["documents"]] == [
        "astro-agent-dag-processor", "astro-agent-triggerer", "astro-agent-worker-default-worker",
        "astro-agent-worker-gpu-worker"]
    assert emitted["added"][0]["document"]["data"] == {"api-key": "<redacted>"}
    assert_no_secret(proc.stdout, proc.stderr)


def test_diff_without_secrets() -> None:
    """--diff prints a unified diff (exit 0) and never the key."""
    proc = olrender("--diff", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.startswith(b"--- a/astro-remote-execution-agent/templates/dag-processor-deployment.yaml")
    assert b"+  api-key: \"<redacted>\"" in proc.stdout
    assert_no_secret(proc.stdout, proc.stderr)


def test_modes_cannot_be_combined() -> None:
    """One output mode at a time."""
    proc = olrender("--check", "--diff")
    assert proc.returncode == 2 and b"--check and --diff cannot be combined" in proc.stderr


def test_explain_goes_to_stderr_and_the_log_while_rendering(tmp_path: Path) -> None:
    """--explain keeps the stream on stdout and explains each workload on stderr and in the log file."""
    log = tmp_path / "olrender.log"
    proc = olrender("--explain", f"--log-file={log}", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 0
    assert proc.stdout == render()
    stderr = proc.stderr.decode()
    assert "document 13 (Deployment/astro-agent-sentinel): not a component" in stderr
    assert "  added env OPENLINEAGE_API_KEY" in stderr
    assert "not a component" in log.read_text()
    assert_no_secret(proc.stderr, log.read_bytes())


def test_report_file_in_json(tmp_path: Path) -> None:
    """--report FILE --report-format json writes the explanation as JSON and nothing to stderr."""
    out = tmp_path / "report.json"
    proc = olrender(f"--report={out}", "--report-format=json", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 0 and proc.stderr == b""
    data = json.loads(out.read_text())
    assert data["mode"] == "render" and data["components"] == 4
    assert {w["name"] for w in data["workloads"] if not w["component"]} == {"astro-agent-sentinel"}


def test_report_is_written_when_the_run_fails(tmp_path: Path) -> None:
    """A conflict fails the run (exit 4) but the report still says which entries were refused."""
    out = tmp_path / "report.txt"
    proc = olrender(f"--report={out}", "--url=https://lineage.example.com", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 4 and proc.stdout == b""
    assert out.read_text().count("conflict on env OPENLINEAGE_URL") == 4


def test_check_report_in_json(tmp_path: Path) -> None:
    """--check --report-format json: per component the key, URL and namespace source, or the findings."""
    out = tmp_path / "check.json"
    proc = olrender("--check", f"--report={out}", "--report-format=json")
    assert proc.returncode == 6
    data = json.loads(out.read_text())
    assert data["mode"] == "check" and data["ok"] is False and data["failing"] == 4
    component = next(w for w in data["workloads"] if w["component"])
    assert component["evaluation"]["findings"][0]["code"] == "key-missing"
    assert {key: component["findings"][0][key] for key in ("code", "container", "variable")} == {
        "code": "key-missing", "container": "agent", "variable": "OPENLINEAGE_API_KEY"}
    assert component["findings"][0]["message"].startswith("container 'agent': OPENLINEAGE_API_KEY: is not set")
    url = component["evaluation"]["url"]
    assert (url["variable"], url["value"]) == ("OPENLINEAGE_URL", "https://o11y.astronomer.io")  # no quotes inside
    assert component["evaluation"]["key"] is None
    namespace = component["evaluation"]["namespace"]
    assert namespace is None or "'" not in namespace.get("value", "")


def test_forbid_plaintext_refuses_the_secret_method() -> None:
    """--forbid-plaintext with the secret method (explicit or inferred) is a configuration error."""
    assert olrender("--forbid-plaintext", "--method=secret").returncode == 2
    proc = olrender("--forbid-plaintext", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 2 and b"refuses the secret method" in proc.stderr
    assert_no_secret(proc.stderr)


def test_forbid_plaintext_fails_on_a_key_in_the_input() -> None:
    """An input that already carries the key in a Secret fails with exit 6, even with a reference method."""
    plaintext = render()
    proc = olrender("--forbid-plaintext", "--api-key-secret=openlineage-api-key-secret", data=plaintext)
    assert proc.returncode == 6 and proc.stdout == b""
    assert b"Secret/openlineage-api-key-secret): Secret data api-key looks like an OpenLineage API key" in proc.stderr
    assert_no_secret(proc.stderr)
    assert olrender("--check", "--forbid-plaintext", data=plaintext).returncode == 6
    assert olrender("--forbid-plaintext", "--api-key-secret=mine").returncode == 0


def golden_outputs() -> list[Path]:
    """Golden cases whose expected output configures lineage fully."""
    found = []
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        expected = case / "expected.yaml"
        if expected.exists() and b"OPENLINEAGE_API_KEY" in expected.read_bytes():
            found.append(case)
    return found


def test_check_agrees_with_render_warnings_on_golden_cases() -> None:
    """On every golden output, --check fails exactly when rendering warned about the same components."""
    from tests.golden import Case, run_olrender

    checked = 0
    for path in golden_outputs():
        case = Case(path)
        rendered = run_olrender(case.args(), case.input(), case.env(), case.path)
        proc = run_olrender([*case.args(), "--check"], rendered.stdout, case.env(), case.path)
        warned = any(line.startswith(b"olrender: warning: document") and b". Fix: " in line
                     for line in rendered.stderr.splitlines())
        assert (proc.returncode == 6) == warned, (case.name, proc.stderr.decode(), rendered.stderr.decode())
        if proc.returncode == 0:
            assert proc.stdout == rendered.stdout
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("method", ["secret", "existing-secret", "vault"])
@pytest.mark.parametrize("data", [HELM3, HELM4], ids=["helm3", "helm4"])
def test_emit_patches_replayed_give_the_output_but_redacted_values(method: str, data: bytes) -> None:
    """What docs/ci.md says --emit-patches yields: the patches on the input documents plus `added` are the
    output as objects, except that secret values and the key's checksum read <redacted> (only the secret method
    has any)."""
    import jsonpatch
    import yaml

    args = {"secret": [], "existing-secret": ["--api-key-secret=mine"], "vault": VAULT}[method]
    emitted = json.loads(render("--emit-patches", *args, data=data))
    documents = [doc for doc in yaml.safe_load_all(data.decode())]
    for entry in emitted["documents"]:
        documents[entry["index"] - 1] = jsonpatch.apply_patch(documents[entry["index"] - 1], entry["patch"])
    replayed = [doc for doc in documents if doc is not None] + [added["document"] for added in emitted["added"]]
    output = [doc for doc in yaml.safe_load_all(render(*args, data=data).decode()) if doc is not None]
    if method == "secret":
        (secret,) = (doc for doc in output if doc["kind"] == "Secret" and doc["metadata"]["name"].startswith("open"))
        assert base64.b64decode(secret["data"]["api-key"]) == KEY.encode()
        secret["data"] = {key: "<redacted>" for key in secret["data"]}
        for doc in output:  # the checksum is a function of the key: a guess could be checked against it
            annotations = (doc.get("spec", {}).get("template", {}).get("metadata") or {}).get("annotations") or {}
            if "checksum/openlineage-api-key" in annotations:
                annotations["checksum/openlineage-api-key"] = "<redacted>"
    assert replayed == output
