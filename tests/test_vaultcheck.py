"""Tests for postrenderer.lint.vaultagent: --check fails a component whose Vault Agent cannot log in or hand over
the key.

Each rule mirrors a run of the real agent in tests/realagent: without a token the
agent exits 1 (``failure: no token``), and a config file owned by 100:1000 in a pod
without fsGroup is "Permission denied" for the main container (the control run).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from postrenderer.config.settings import OpenLineageConfig, Settings
from postrenderer.errors import CheckFailed, ConfigError
from postrenderer.lint import verdict as check
from postrenderer.lint.container import lint_container, no_objects
from postrenderer.lint.vaultagent import agent_problems, key_file_readable, run_as
from postrenderer.read.discovery import ComponentRules
from tests import programs
from tests.manifests import VAULT, VAULT_CONFIG_FILE

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "fixtures" / "streams" / "helm3.yaml"
URL = "https://o11y.astronomer.io"
NAMESPACE = "ultraviolet-corona-6870"
WORKER = "astro-agent-worker-default-worker"


def chart_docs() -> list[dict[str, Any]]:
    """The documents of the Helm 3 fixture stream."""
    return [d for d in yaml.safe_load_all(STREAM.read_text()) if isinstance(d, dict)]


def rendered(docs: list[dict[str, Any]], vault: Any = VAULT) -> bytes:
    """The stream as the vault method renders it."""
    config = OpenLineageConfig(method="vault", url=URL, namespace=NAMESPACE, method_settings=vault)
    result = programs.render(yaml.safe_dump_all(docs).encode(), Settings(openlineage=config))
    return programs.output(result)


def codes(data: bytes) -> dict[str, list[str]]:
    """Finding codes by failing component name, from --check."""
    result = programs.check(data, ComponentRules())
    return {c.report.name or "": [f.code for f in (c.evaluation.findings if c.evaluation else [])]
            for c in result.failures}


def pod_of(docs: list[dict[str, Any]], name: str = WORKER) -> dict[str, Any]:
    """The pod spec of a Deployment (itself: changes reach the document)."""
    (doc,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def test_a_rendered_chart_passes() -> None:
    """Both deliveries on the chart's pods (fsGroup 50000, automounted tokens): nothing to report."""
    for vault in (VAULT, VAULT_CONFIG_FILE):
        assert codes(rendered(chart_docs(), vault)) == {}


def test_pod_without_a_token_fails_check() -> None:
    """automountServiceAccountToken: false on the pod: --check fails, naming the component and the setting."""
    docs = chart_docs()
    pod_of(docs)["automountServiceAccountToken"] = False
    data = rendered(docs)
    assert codes(data) == {WORKER: ["vault-agent-no-token"]}
    with pytest.raises(CheckFailed) as caught:
        check.verdict(programs.check(data, ComponentRules()))
    message = str(caught.value)
    assert f"(Deployment/{WORKER}): container 'agent': automountServiceAccountToken: the pod sets" in message
    assert "no service-account token to log in to Vault with" in message


def test_service_account_without_a_token_fails_check() -> None:
    """A ServiceAccount of the stream with automountServiceAccountToken: false counts when the pod is silent."""
    docs = chart_docs()
    (account,) = [d for d in docs if d["kind"] == "ServiceAccount" and d["metadata"]["name"] == WORKER]
    account["automountServiceAccountToken"] = False
    assert codes(rendered(docs)) == {WORKER: ["vault-agent-no-token"]}
    pod_of(docs)["automountServiceAccountToken"] = True  # the pod overrides its ServiceAccount
    assert codes(rendered(docs)) == {}


def test_an_explicit_token_volume_satisfies_the_agent() -> None:
    """A projected token mounted into the init container at the default path replaces the automounted one."""
    spec = pod_of(list(yaml.safe_load_all(rendered(chart_docs()))))
    spec["automountServiceAccountToken"] = False
    spec["initContainers"][0]["volumeMounts"].append(
        {"name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    assert agent_problems(spec["containers"][0], spec, no_objects) == []


def without_fs_group(docs: list[dict[str, Any]], run_as_user: int | None = 50000) -> list[dict[str, Any]]:
    """The chart's worker without an fsGroup (and maybe without runAsUser)."""
    context: dict[str, Any] = {"runAsNonRoot": True}
    if run_as_user is not None:
        context["runAsUser"] = run_as_user
    pod_of(docs)["securityContext"] = context
    return docs


def test_config_file_without_fs_group_is_rendered_readable() -> None:
    """Rendering runs the agent as the container's runAsUser; --check agrees that the file can be read."""
    data = rendered(without_fs_group(chart_docs()), VAULT_CONFIG_FILE)
    spec = pod_of(list(yaml.safe_load_all(data)))
    assert spec["initContainers"][0]["securityContext"]["runAsUser"] == 50000
    assert codes(data) == {}


def test_config_file_the_container_cannot_read_fails_check() -> None:
    """The agent as 100:1000 without fsGroup (olrender's earlier output): --check names the file and the fix."""
    docs = list(yaml.safe_load_all(rendered(without_fs_group(chart_docs()), VAULT_CONFIG_FILE)))
    pod_of(docs)["initContainers"][0]["securityContext"].update(runAsUser=100, runAsGroup=1000)
    data = yaml.safe_dump_all(docs).encode()
    assert codes(data) == {WORKER: ["vault-key-unreadable"]}
    evaluation = programs.check(data, ComponentRules()).failures[0].evaluation
    assert evaluation is not None
    (finding,) = evaluation.findings
    assert finding.variable == "OPENLINEAGE_CONFIG"
    assert "points at /vault/secrets/openlineage.yml, which Vault Agent init container 'vault-openlineage'" in (
        finding.problem)
    assert "fsGroup" in finding.fix


def test_config_file_without_any_identity_is_refused_when_rendering() -> None:
    """No fsGroup, no runAsUser: rendering stops with a configuration error naming the document."""
    with pytest.raises(ConfigError, match=r"document \d+ \(Deployment/astro-agent-worker-default-worker\): "
                                          r"--vault-delivery config-file: the pod has no securityContext.fsGroup"):
        rendered(without_fs_group(chart_docs(), run_as_user=None), VAULT_CONFIG_FILE)


def test_file_key_ref_needs_no_readable_file() -> None:
    """The kubelet reads a fileKeyRef env file itself: no fsGroup is needed there."""
    assert codes(rendered(without_fs_group(chart_docs(), run_as_user=None))) == {}


@pytest.mark.parametrize(
    ("pod", "main", "agent", "readable"),
    [
        ({"fsGroup": 1}, {}, (100, 1000), True),  # setgid emptyDir: the file has the pod's fsGroup
        ({"runAsUser": 50000}, {}, (50000, 1000), True),  # the owner reads
        ({"runAsUser": 50000}, {}, (100, 1000), False),
        ({"runAsUser": 50000, "runAsGroup": 1000}, {}, (100, 1000), True),  # the group reads
        ({"supplementalGroups": [1000]}, {"runAsUser": 5}, (100, 1000), True),
        ({}, {"runAsUser": 0}, (100, 1000), True),  # root with CAP_DAC_OVERRIDE
        ({}, {"runAsUser": 0, "capabilities": {"drop": ["ALL"]}}, (100, 1000), False),
        ({}, {}, (100, 1000), False),  # the image decides: nothing shows it can read
    ],
)
def test_key_file_readable(pod: dict[str, Any], main: dict[str, Any], agent: tuple[int, int],
                           readable: bool) -> None:
    """Owner- and group-readable file of the agent, the main container's ids and groups."""
    spec = {"securityContext": pod}
    assert key_file_readable(*agent, {"securityContext": main}, spec) is readable


def test_run_as_prefers_the_container() -> None:
    """A container's runAsUser/runAsGroup beat the pod's; unset stays None (the image decides)."""
    spec = {"securityContext": {"runAsUser": 1, "runAsGroup": 2}}
    assert run_as({"securityContext": {"runAsUser": 3}}, spec) == (3, 2)
    assert run_as({}, {}) == (None, None)
    assert run_as({"securityContext": {"runAsUser": True}}, {}) == (None, None)


def test_lint_container_reports_them_as_findings() -> None:
    """lint_container turns the problems into findings with the container's name (render mode warns with them)."""
    docs = chart_docs()
    pod_of(docs)["automountServiceAccountToken"] = False
    spec = pod_of(list(yaml.safe_load_all(rendered(docs))))
    evaluation = lint_container(copy.deepcopy(spec["containers"][0]), spec)
    assert [(f.code, f.container, f.variable) for f in evaluation.findings] == [
        ("vault-agent-no-token", "agent", "automountServiceAccountToken")]
