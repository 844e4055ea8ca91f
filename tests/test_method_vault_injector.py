"""``--method vault-injector``: settings shared with the vault method, every mode, the refusal, --check, rotation hooks.

The real consumers (the OpenBao agent on the rendered annotation, openlineage-python
and the Airflow provider on the file) are in tests/oracles/test_method_vault_injector.py;
kubectl, kustomize and Helm 4 in their own modules (each lists this method).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from postrenderer.cli.options import GROUPS, OPTIONS
from postrenderer.config.settings import resolve
from postrenderer.errors import ConfigError
from postrenderer.inject.methods import METHODS, method_for
from postrenderer.inject.methods.vault_injector import CONFIG_PATH, VaultInjectorMethod
from tests.inprocess import run_in_process

ROOT = Path(__file__).resolve().parent.parent
STREAM = (ROOT / "fixtures" / "streams" / "helm4.yaml").read_bytes()
URL = "https://o11y.astronomer.io"
ARGS = ["--method", "vault-injector", "--url", URL, "--namespace", "ultraviolet-corona-6870", "--vault-role",
        "astro-agent", "--vault-secret-path", "secret/data/openlineage/api-key", "--vault-secret-field", "key"]
TEMPLATE = "vault.hashicorp.com/agent-inject-template-openlineage.yml"
TRIGGERER = b"      serviceAccountName: astro-agent-triggerer\n"
NO_TOKEN = STREAM.replace(TRIGGERER, TRIGGERER + b"      automountServiceAccountToken: false\n")


def method(options: dict[str, Any], values: dict[str, Any] | None = None, check: bool = False) -> Any:
    """The method a configuration resolves to."""
    settings, _ = resolve(options, {"openLineage": values or {}}, {}, lambda _: "", check=check)
    return method_for(settings.openlineage)


def components(output: bytes) -> list[dict[str, Any]]:
    """The agent component Deployments of an output stream."""
    docs = [d for d in yaml.safe_load_all(output) if d]
    return [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["labels"].get("component") != "sentinel"]


def test_the_vault_settings_are_shared_not_duplicated() -> None:
    """Each Vault option is declared once, listed once in --help, in the vault method's group."""
    assert all(s in METHODS["vault"].settings for s in VaultInjectorMethod.settings)
    flags = [decl for spec in OPTIONS for decl in spec.decls]
    assert len(flags) == len(set(flags))
    listed = [name for _, names in GROUPS for name in names]
    assert len(listed) == len(set(listed)) and "vault_role" in dict(GROUPS)["Vault method"]


def test_every_problem_in_one_error_and_the_address_is_optional() -> None:
    """Role, path and field missing and the URL absent: one error naming the method; no --vault-addr needed."""
    with pytest.raises(ConfigError) as caught:
        method({"method": "vault-injector"})
    message = str(caught.value)
    assert "4 Vault settings" in message and "--vault-addr" not in message
    assert all(f in message for f in ("the vault-injector method needs --vault-role", "--vault-secret-path",
                                      "--vault-secret-field", "needs the OpenLineage URL"))
    with pytest.raises(ConfigError, match="did you mean secret/data/openlineage"):
        method({"method": "vault-injector", "url": URL, "vault_role": "r", "vault_secret_path": "secret/openlineage",
                "vault_secret_field": "key"})
    assert method({"method": "vault-injector"}, check=True).name == "vault-injector"


@pytest.mark.parametrize(("values", "chosen"), [
    ({"vaultInjector": True, "vault": {"role": "r", "secretPath": "kv/x", "secretField": "k", "kvVersion": 1}},
     "vault-injector"),
    ({"vaultInjector": False, "vault": {"addr": "https://v:8200", "role": "r", "secretPath": "kv/x",
                                        "secretField": "k", "kvVersion": 1}}, "vault"),
    ({"vault": {"addr": "https://v:8200", "role": "r", "secretPath": "kv/x", "secretField": "k", "kvVersion": 1}},
     "vault"),
])
def test_selected_from_values(values: dict[str, Any], chosen: str) -> None:
    """openLineage.vaultInjector: true selects it over the vault block that holds the shared settings."""
    assert method({}, {"url": URL, **values}).name == chosen


def test_settings_only_the_vault_method_uses_are_warned_about() -> None:
    """--vault-image and a values delivery go unused: a warning names them."""
    _, warnings = resolve({"method": "vault-injector", "url": URL, "vault_role": "r", "vault_secret_path": "kv/x",
                           "vault_secret_field": "k", "vault_kv_version": "1", "vault_image": "vault:1"},
                          {"openLineage": {"vault": {"delivery": "config-file"}}}, {}, lambda _: "")
    assert any("--vault-image, --vault-delivery ignored" in w for w in warnings)


def test_render_is_valid_idempotent_and_check_passes() -> None:
    """Strict Kubernetes 1.35 schema on every changed workload; a second run changes nothing; --check passes it."""
    first = run_in_process(ARGS, STREAM)
    assert first.returncode == 0, first.stderr.decode()
    changed = components(first.stdout)
    assert len(changed) == 4
    for doc in changed:
        kubernetes_validate.validate(doc, "1.35", strict=True)
        env = {e["name"]: e.get("value") for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["OPENLINEAGE_CONFIG"] == env["AIRFLOW__OPENLINEAGE__CONFIG_PATH"] == CONFIG_PATH
    again = run_in_process(ARGS, first.stdout)
    assert (again.returncode, again.stdout) == (0, first.stdout)
    check = run_in_process(["--check", "--method", "vault-injector"], first.stdout)
    assert check.returncode == 0, check.stderr.decode()
    assert run_in_process(["--check", "--method", "vault-injector"], STREAM).returncode == 6


def test_check_knows_the_webhook_rejects_a_pod_without_its_token() -> None:
    """Annotated and configured, but the token is off: --check fails with the injector's finding."""
    rendered = run_in_process(ARGS, STREAM).stdout
    broken = rendered.replace(TRIGGERER, TRIGGERER + b"      automountServiceAccountToken: false\n")
    check = run_in_process(["--check"], broken)
    assert check.returncode == 6
    assert b"Deployment/astro-agent-triggerer" in check.stderr
    assert b"Vault Agent Injector webhook rejects" in check.stderr


def test_a_pod_without_its_token_is_refused_in_every_mode() -> None:
    """Render, --emit-patches and --diff: exit 4 naming the document; nothing on stdout."""
    for extra in ([], ["--emit-patches"], ["--diff"], ["--emit-kustomize-patches"]):
        ran = run_in_process([*ARGS, *extra], NO_TOKEN)
        assert (ran.returncode, ran.stdout) == (4, b""), extra
        assert b"Deployment/astro-agent-triggerer): the pod sets automountServiceAccountToken: false" in ran.stderr


def test_patches_and_report_name_the_method(tmp_path: Path) -> None:
    """--emit-patches adds the annotations and variables; the JSON report names the method and the annotations."""
    patches = run_in_process([*ARGS, "--emit-patches"], STREAM)
    assert patches.returncode == 0
    text = patches.stdout.decode()
    assert "agent-inject-template-openlineage.yml" in text and CONFIG_PATH in text
    report = tmp_path / "report.json"
    assert run_in_process([*ARGS, "--report", str(report), "--report-format", "json"], STREAM).returncode == 0
    found = json.loads(report.read_text())
    assert found["method"] == "vault-injector"
    added = {a["name"] for w in found["workloads"] if w["component"] for a in w["actions"] if a["what"] == "annotation"}
    assert TEMPLATE in added and "vault.hashicorp.com/agent-inject" in added


def test_rotation_hooks() -> None:
    """The reference holds the template, so a new URL changes it; no Secret to reload, and why."""
    chosen = method({"method": "vault-injector", "url": URL, "vault_role": "r", "vault_secret_path": "kv/x",
                     "vault_secret_field": "k", "vault_kv_version": "1"})
    other = method({"method": "vault-injector", "url": "https://other.example", "vault_role": "r",
                    "vault_secret_path": "kv/x", "vault_secret_field": "k", "vault_kv_version": "1"})
    assert TEMPLATE in chosen.reference() and chosen.reference() != other.reference()
    assert chosen.reload_secret() is None and "once, at pod start" in chosen.reload_reason
