"""Tests for postrenderer.inject.rotation: --restart-on-change checksum|reloader|none, per method.

Reloader cannot run here (no cluster), so its contract is tested: the annotation name is
Reloader's own (``SecretUpdateOnChangeAnnotation`` in stakater/Reloader
``internal/pkg/options/flags.go``, read at commit 655a2b3814baadb69d3d1e105242d6cc8875d7cb), it sits on
the workload's metadata, which Reloader reads first (``pkg/common/common.go``, ``ShouldReload``), and
its value names the Secret the pod's ``secretKeyRef`` actually reads, matched as ``ShouldReload``
matches it (``reloader_matches`` below: a stand-in for Reloader's Go code, named as such).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from postrenderer.cli import scrub
from postrenderer.config import settings as config
from postrenderer.errors import ConfigError
from postrenderer.inject.contract import (
    REFERENCE_ANNOTATION,
    RELOADER_ANNOTATION,
    Method,
    OpenLineageConfig,
    sha256_hex,
)
from postrenderer.inject.methods import CHECKSUM_ANNOTATION, METHODS, method_for
from postrenderer.inject.methods.vault import CHECKSUM_ANNOTATION as VAULT_CHECKSUM
from postrenderer.inject.plan import build_plan
from postrenderer.inject.rotation import rotation
from tests.inprocess import run_in_process
from tests.manifests import analysed

ROOT = Path(__file__).resolve().parent.parent
STREAM = (ROOT / "fixtures" / "streams" / "helm3.yaml").read_bytes()
KEY = "sk-test-rotation-0001"
NAMESPACE = "ultraviolet-corona-6870"
VAULT = {"method": "vault", "vault_addr": "https://vault.example.com:8200", "vault_role": "astro-agent",
         "vault_secret_path": "secret/data/openlineage/api-key", "vault_secret_field": "key"}
VAULT_ARGS = [arg for name, value in VAULT.items() for arg in (f"--{name.replace('_', '-')}", value)]
GIVEN: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {  # method -> (options, values)
    "secret": ({}, {}),
    "existing-secret": ({"api_key_secret": "team-openlineage-key"}, {}),
    "vault": (VAULT, {}),
    "disabled": ({}, {"openLineage": {"enabled": False}}),
}
# Every annotation name of stakater/Reloader's internal/pkg/options/flags.go (commit 655a2b3), as written there.
RELOADER_FLAGS = {
    "ConfigmapUpdateOnChangeAnnotation": "configmap.reloader.stakater.com/reload",
    "SecretUpdateOnChangeAnnotation": "secret.reloader.stakater.com/reload",
    "SecretProviderClassUpdateOnChangeAnnotation": "secretproviderclass.reloader.stakater.com/reload",
    "ReloaderAutoAnnotation": "reloader.stakater.com/auto",
    "SecretReloaderAutoAnnotation": "secret.reloader.stakater.com/auto",
}
COMPONENTS = {"astro-agent-dag-processor", "astro-agent-triggerer", "astro-agent-worker-default-worker",
              "astro-agent-worker-gpu-worker"}


def resolved(method: str, mode: str | None = None, overwrite: bool = False) -> config.Settings:
    """The method's settings as the command line gives them, with --restart-on-change mode."""
    options, values = GIVEN[method]
    given = {**options, "url": "https://o11y.astronomer.io", "namespace": NAMESPACE, "restart_on_change": mode,
             "overwrite": overwrite or None}
    settings, _ = config.resolve(given, values, {"OPENLINEAGE_API_KEY": KEY}, lambda path: "")
    return settings


def reloader_matches(annotation: str, secret: str) -> bool:
    """Stand-in for Reloader's ShouldReload: comma-separated entries, trimmed, each an anchored regex."""
    return any(re.fullmatch(entry.strip(), secret) for entry in annotation.split(","))


def workloads(output: bytes) -> dict[str, dict[str, Any]]:
    """The Deployments of an output stream, by name."""
    docs = [d for d in yaml.safe_load_all(output) if isinstance(d, dict)]
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}


def annotated(line: str) -> bytes:
    """The Helm 3 stream with one annotation on the triggerer Deployment's own metadata."""
    marker = "  name: astro-agent-triggerer\n  labels:\n    app: astro-agent\n    component: triggerer\nspec:\n"
    text = STREAM.decode()
    assert text.count(marker) == 1
    return text.replace(marker, marker.replace("spec:", f"  annotations:\n    {line}\nspec:")).encode()


def render(args: list[str], env: dict[str, str] | None = None, data: bytes = STREAM) -> Any:
    """olrender in this process on the Helm 3 stream."""
    return run_in_process(["--namespace", NAMESPACE, *args], data, {"OPENLINEAGE_API_KEY": KEY, **(env or {})})


@pytest.mark.parametrize(("method", "pod"), [
    ("secret", {CHECKSUM_ANNOTATION}), ("existing-secret", set()), ("vault", {VAULT_CHECKSUM}), ("disabled", set()),
])
def test_checksum_mode_is_the_default_and_adds_only_pod_checksums(method: str, pod: set[str]) -> None:
    """checksum (the default): each method's checksums on the pod template, nothing on the workload, no warning."""
    settings = resolved(method)
    assert settings.restart_on_change == "checksum"
    rolling = rotation(method_for(settings.openlineage), settings.restart_on_change)
    assert set(rolling.pod) == pod and rolling.workload == {} and rolling.warnings == []


def test_vault_checksum_is_the_digest_of_its_reference() -> None:
    """The vault method's reference is the agent configuration it generates; its checksum digests exactly that."""
    method = method_for(resolved("vault").openlineage)
    reference = method.reference()
    assert reference is not None and reference == method.agent_hcl()  # type: ignore[attr-defined]
    assert method.checksums() == {VAULT_CHECKSUM: sha256_hex(reference.encode())}


def test_existing_secret_reference_is_in_the_pod_template_itself() -> None:
    """existing-secret: a changed reference changes the secretKeyRef, so the pods roll without a checksum."""
    one, two = resolved("existing-secret"), resolved("existing-secret")
    two.openlineage.secret_name = "rotated-key"
    assert method_for(one.openlineage).reference() == "team-openlineage-key/api-key"
    assert method_for(one.openlineage).checksums() == {}
    assert render(["--api-key-secret", "team-openlineage-key"]).stdout != render(
        ["--api-key-secret", "rotated-key"]).stdout


def test_the_default_checksum_is_the_references_digest() -> None:
    """A method that only names a reference (a test double) gets checksum/openlineage-reference of it."""
    class Referencing(Method):
        name = "referencing-double"

        def reference(self) -> str:
            return "store/key"

    method = Referencing(OpenLineageConfig())
    assert method.checksums() == {REFERENCE_ANNOTATION: sha256_hex(b"store/key")}
    assert rotation(method, "checksum").pod == method.checksums()
    assert rotation(method, "none").pod == {}


@pytest.mark.parametrize(("method", "secret"), [("secret", "openlineage-api-key-secret"),
                                                 ("existing-secret", "team-openlineage-key")])
def test_reloader_mode_annotates_the_workload_instead_of_the_pods(method: str, secret: str) -> None:
    """reloader: the Secret on the workload's metadata and no checksum (Reloader rolls, a checksum would again)."""
    rolling = rotation(method_for(resolved(method, "reloader").openlineage), "reloader")
    assert rolling.pod == {} and rolling.workload == {RELOADER_ANNOTATION: secret} and rolling.warnings == []


@pytest.mark.parametrize(("method", "reason"), [("vault", "reads the key once, at pod start"),
                                                ("disabled", "there is no key to reload")])
def test_reloader_mode_says_why_it_does_not_apply(method: str, reason: str) -> None:
    """reloader for a method without a Secret: a warning naming the method and why; its checksums stay."""
    instance = method_for(resolved(method, "reloader").openlineage)
    rolling = rotation(instance, "reloader")
    (warning,) = rolling.warnings
    assert f"does not apply to method {method}" in warning and reason in warning
    assert rolling.workload == {} and rolling.pod == instance.checksums()


@pytest.mark.parametrize("method", sorted(GIVEN))
def test_none_adds_neither(method: str) -> None:
    """none: no checksum, no Reloader annotation, no warning."""
    rolling = rotation(method_for(resolved(method, "none").openlineage), "none")
    assert (rolling.pod, rolling.workload, rolling.warnings) == ({}, {}, [])


def test_every_method_answers_the_hooks() -> None:
    """Every registered method has a reload reason and answers reference() and reload_secret() (None or text)."""
    for name, cls in METHODS.items():
        assert cls.reload_reason, name
        instance = method_for(resolved(name).openlineage) if name in GIVEN else None
        if instance is not None:
            assert isinstance(instance.reference(), str | None) and isinstance(instance.reload_secret(), str | None)


@pytest.mark.parametrize("method", ["secret", "existing-secret"])
def test_reloader_annotation_names_the_secret_the_pod_reads(method: str) -> None:
    """Contract with Reloader: its annotation, on each component's own metadata, matches the secretKeyRef's Secret."""
    args = ["--restart-on-change", "reloader"] + (["--api-key-secret", "team-openlineage-key"]
                                                  if method == "existing-secret" else [])
    ran = render(args)
    assert ran.returncode == 0, ran.stderr.decode()
    found = workloads(ran.stdout)
    assert set(found) >= COMPONENTS
    for name in COMPONENTS:
        deployment = found[name]
        env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        (ref,) = [e["valueFrom"]["secretKeyRef"]["name"] for e in env if e["name"] == "OPENLINEAGE_API_KEY"]
        annotation = deployment["metadata"]["annotations"][RELOADER_ANNOTATION]
        assert reloader_matches(annotation, ref), (annotation, ref)
        assert annotation == ref
        template_annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
        assert RELOADER_ANNOTATION not in template_annotations and CHECKSUM_ANNOTATION not in template_annotations


def test_reloader_annotation_is_reloaders_own_name() -> None:
    """The name is Reloader's SecretUpdateOnChangeAnnotation, the one it reads on a workload for a Secret."""
    assert RELOADER_FLAGS["SecretUpdateOnChangeAnnotation"] == RELOADER_ANNOTATION
    assert not RELOADER_ANNOTATION.startswith(("reloader.", "configmap.")), "watches Secrets by name, not auto"
    assert reloader_matches("other, openlineage-api-key-secret", "openlineage-api-key-secret")
    assert not reloader_matches("openlineage-api-key", "openlineage-api-key-secret")


def test_a_second_run_changes_nothing() -> None:
    """Idempotent: the reloader render of a reloader render is the same bytes."""
    first = render(["--restart-on-change", "reloader"])
    second = render(["--restart-on-change", "reloader"], data=first.stdout)
    assert first.returncode == second.returncode == 0
    assert second.stdout == first.stdout


def test_a_different_reload_annotation_is_a_conflict_unless_overwrite() -> None:
    """A chart-rendered reload annotation naming another Secret: exit 4, or replaced under --overwrite."""
    data = annotated(f"{RELOADER_ANNOTATION}: other-secret")
    refused = render(["--restart-on-change", "reloader"], data=data)
    assert refused.returncode == 4
    assert f"annotation {RELOADER_ANNOTATION} is already 'other-secret'" in refused.stderr.decode()
    replaced = render(["--restart-on-change", "reloader", "--overwrite"], data=data)
    assert replaced.returncode == 0
    assert workloads(replaced.stdout)["astro-agent-triggerer"]["metadata"]["annotations"][RELOADER_ANNOTATION] == \
        "openlineage-api-key-secret"


def test_a_reload_list_that_names_the_secret_is_kept() -> None:
    """Reloader reads a comma-separated list: one that already names the Secret is left as it is."""
    ran = render(["--restart-on-change", "reloader", "--emit-patches"],
                 data=annotated(f"{RELOADER_ANNOTATION}: 'other, openlineage-api-key-secret'"))
    assert ran.returncode == 0, ran.stderr.decode()
    annotating = [doc for doc in json.loads(ran.stdout)["documents"]
                  if any(op["path"].startswith("/metadata/annotations") for op in doc["patch"])]
    assert len(annotating) == len(COMPONENTS) - 1, "all but the triggerer, which already names the Secret"


def test_a_pod_gets_one_metadata_operation_and_a_warning() -> None:
    """A bare Pod's metadata is both template and workload: one operation; Reloader restarts no Pod, so a warning."""
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "astro-agent-worker-x", "labels": {"app": "astro-agent", "component": "worker"}},
           "spec": {"containers": [{"name": "agent", "image": "a:1"}]}}
    settings = resolved("secret", "reloader")
    plan = build_plan(analysed({1: pod}, settings.rules), settings, method_for(settings.openlineage))
    meta_ops = [op for op in plan.ops[1] if op["path"].startswith("/metadata")]
    assert meta_ops == [{"op": "add", "path": "/metadata/annotations",
                         "value": {RELOADER_ANNOTATION: "openlineage-api-key-secret"}}]
    assert any("not a Pod" in warning for warning in plan.warnings)


def test_strict_fails_where_reloader_does_not_apply() -> None:
    """--strict with reloader and the vault method: exit 8, the reason on stderr, nothing on stdout."""
    ran = render(["--restart-on-change", "reloader", "--strict", *VAULT_ARGS])
    assert ran.returncode == 8 and ran.stdout == b""
    assert "reads the key once, at pod start" in ran.stderr.decode()


def test_values_key_and_variable_select_the_mode() -> None:
    """openLineage.restartOnChange and OLRENDER_RESTART_ON_CHANGE; an unknown mode names the values key."""
    settings, _ = config.resolve({}, {"openLineage": {"restartOnChange": "none"}}, {"OPENLINEAGE_API_KEY": KEY},
                                 lambda path: "")
    assert settings.restart_on_change == "none"
    with pytest.raises(ConfigError, match=r"openLineage.restartOnChange: 'roll' is not one of checksum, reloader"):
        config.resolve({}, {"openLineage": {"restartOnChange": "roll"}}, {"OPENLINEAGE_API_KEY": KEY}, lambda p: "")
    by_variable = render([], env={"OLRENDER_RESTART_ON_CHANGE": "reloader"})
    assert by_variable.stdout == render(["--restart-on-change", "reloader"]).stdout
    assert RELOADER_ANNOTATION.encode() in by_variable.stdout


def test_diff_shows_the_rotation_annotations_unredacted() -> None:
    """--diff shows the reload annotation and the vault checksum; only the key's own checksum is redacted."""
    reloader = render(["--restart-on-change", "reloader", "--diff"]).stdout.decode()
    assert f"+    {RELOADER_ANNOTATION}: openlineage-api-key-secret" in reloader
    vault = render(["--diff", "--url", "https://o11y.astronomer.io", *VAULT_ARGS]).stdout.decode()
    digest = method_for(resolved("vault").openlineage).checksums()[VAULT_CHECKSUM]
    assert f'{VAULT_CHECKSUM}: "{digest}"' in vault
    reference = f"{REFERENCE_ANNOTATION}: {sha256_hex(b'store/key')}"
    assert scrub.Scrubber().scrub(reference) == reference  # not a function of the key: nothing to hide
    assert scrub.REDACTED in scrub.Scrubber().scrub(f"{CHECKSUM_ANNOTATION}: {sha256_hex(b'x')}")
