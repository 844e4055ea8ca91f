"""The generated Vault Agent configuration, run by the real agent (OpenBao 2.7.2) in a simulated pod.

olrender renders the chart's worker with Vault settings pointing at a real dev
server; the init container's command then runs with the generated ``agent.hcl``
byte for byte (see ``pod``). Success must write exactly the bytes the main
container gets; every failure must end non-zero well within 30 s and leave no key
file behind. The key never appears in the agent's log. All scenarios start
together when the module's first test asks for one (their waits overlap); each
test checks one or a few of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
import yaml

from postrenderer.inject.methods.vault_settings import CONFIG_FILE, ENV_FILE
from tests.realagent.envfile import kubelet_value
from tests.realagent.pod import AGENT_TIMEOUT_S, PodRun
from tests.realagent.scenario import (
    ABSENT,
    KEY,
    SECRETS,
    URL,
    Scenario,
    Vault,
    olrender,
    start_all,
    vault_args,
    worker,
)
from tests.realagent.server import free_port
from tests.realagent.tokenreview import service_account_jwt

CONFIG_PATH = f"/vault/secrets/{CONFIG_FILE}"
FAILS_WITHIN_S = 30
OLD_K8S = ("--kube-version", "1.33")
REFUSED_KEYS = [("quote", "1.35"), ("newline", "1.35"), ("non-ascii", "1.35"), ("empty", "1.35"),
                ("newline", "1.33"), ("non-ascii", "1.33"), ("empty", "1.33")]
pytestmark = pytest.mark.realagent
FAILURES = ["unreachable Vault", "refused login", "unknown role", "no token", "missing path", "403", "missing field"]


def without_fs_group(doc: dict[str, Any], run_as_user: int | None = 50000) -> dict[str, Any]:
    """The worker with a pod securityContext that has no fsGroup (and maybe no runAsUser)."""
    context: dict[str, Any] = {"runAsNonRoot": True}
    if run_as_user is not None:
        context["runAsUser"] = run_as_user
    doc["spec"]["template"]["spec"]["securityContext"] = context
    return doc


def no_automount(doc: dict[str, Any]) -> dict[str, Any]:
    """The worker with automountServiceAccountToken: false."""
    doc["spec"]["template"]["spec"]["automountServiceAccountToken"] = False
    return doc


def as_image_user(pod: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> None:
    """Run the agent as the image's vault user (100:1000), as olrender did before."""
    pod["spec"]["initContainers"][0]["securityContext"].update(runAsUser=100, runAsGroup=1000)


def without_exit_on_err(pod: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> None:
    """Drop exit_on_err from the generated agent.hcl, as olrender rendered it before."""
    (data,) = config_maps.values()
    assert "    exit_on_err = true\n" in data["agent.hcl"]
    data["agent.hcl"] = data["agent.hcl"].replace("    exit_on_err = true\n", "")


def scenarios(addr: str) -> dict[str, Scenario]:
    """Every agent run of the tier, by the name the summary shows."""
    good = SECRETS["good"]
    other_token = service_account_jwt("astro", "astro-agent-worker-default-worker", "another-uid")
    found = {
        "success, file-key-ref, KV v2": Scenario(worker(), vault_args(addr, good)),
        "success, file-key-ref, KV v1 mount": Scenario(worker(), vault_args(addr, SECRETS["kv1"])),
        "success, file-key-ref, nested KV v2 mount": Scenario(worker(), vault_args(addr, SECRETS["nested"])),
        "success, config-file, fsGroup 50000": Scenario(worker(), vault_args(addr, good, *OLD_K8S)),
        "success, config-file, no fsGroup": Scenario(without_fs_group(worker()), vault_args(addr, good, *OLD_K8S)),
        "success, config-file, key with quotes": Scenario(worker(), vault_args(addr, SECRETS["symbols"], *OLD_K8S)),
        "control: config-file as 100:1000, no fsGroup": Scenario(
            without_fs_group(worker()), vault_args(addr, good, *OLD_K8S), edit=as_image_user),
        "failure: unreachable Vault": Scenario(worker(), vault_args(f"http://127.0.0.1:{free_port()}", good)),
        "failure: refused login": Scenario(worker(), vault_args(addr, good), token=other_token),
        "failure: unknown role": Scenario(worker(), vault_args(addr, good, role="no-such-role")),
        "failure: no token": Scenario(no_automount(worker()), vault_args(addr, good)),
        "failure: missing path": Scenario(worker(), vault_args(addr, ABSENT)),
        "failure: 403": Scenario(worker(), vault_args(addr, SECRETS["forbidden"])),
        "failure: missing field": Scenario(worker(), vault_args(addr, good, field="nosuchfield")),
        "control: unreachable Vault without exit_on_err": Scenario(
            worker(), vault_args(f"http://127.0.0.1:{free_port()}", good), edit=without_exit_on_err, timeout=3),
    }
    for secret, kube in REFUSED_KEYS:
        found[f"refused key: {secret}, Kubernetes {kube}"] = Scenario(
            worker(), vault_args(addr, SECRETS[secret], "--kube-version", kube))
    return found


@pytest.fixture(scope="module")
def runs(vault: Vault, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[PodRun]]]:
    """Every scenario, started at once; a test waits for the ones it checks."""
    yield from start_all(scenarios(vault.server.addr), vault, tmp_path_factory.mktemp("pods"))


def assert_failed_cleanly(result: PodRun, secret_value: str = KEY) -> None:
    """Non-zero within the limit, on its own (not killed by the timeout), no key file, no key in the log."""
    assert result.exit_code != 0, result.log
    assert not result.timed_out, f"the agent hung and was killed after {AGENT_TIMEOUT_S} s:\n{result.log}"
    assert result.seconds < FAILS_WITHIN_S
    assert not set(result.files) & {ENV_FILE, CONFIG_FILE}, sorted(result.files)
    assert secret_value not in result.log


def test_success_writes_the_exact_env_file(runs: dict[str, Future[PodRun]]) -> None:
    """KV v2, fileKeyRef delivery, the chart's fsGroup: exit 0, the exact bytes the kubelet reads, 0400."""
    result = runs["success, file-key-ref, KV v2"].result()
    assert result.exit_code == 0, result.log
    assert list(result.files) == [ENV_FILE]
    seen = result.files[ENV_FILE]
    assert seen.data == f"OPENLINEAGE_API_KEY='{KEY}'\n".encode()
    assert (seen.mode, seen.uid, seen.gid) == (0o400, 100, 50000)
    assert kubelet_value(seen.data, "OPENLINEAGE_API_KEY") == KEY
    assert KEY not in result.log
    assert result.client == {"kind": "http", "url": URL, "bearer": f"Bearer {KEY}"}


def test_logins_went_through_the_token_review(runs: dict[str, Future[PodRun]], vault: Vault) -> None:
    """The auth method really asked the TokenReview stand-in: it accepted the pod's token and refused the other."""
    for future in runs.values():
        future.result()
    assert True in vault.double.reviews and False in vault.double.reviews


@pytest.mark.parametrize("mount", ["KV v1 mount", "nested KV v2 mount"])
def test_success_on_other_mounts(runs: dict[str, Future[PodRun]], mount: str) -> None:
    """A KV version 1 mount and a nested KV version 2 mount (team/kv/data/...) are read with the right field."""
    result = runs[f"success, file-key-ref, {mount}"].result()
    assert result.exit_code == 0, result.log
    assert result.files[ENV_FILE].data == f"OPENLINEAGE_API_KEY='{KEY}'\n".encode()
    assert result.client is not None and result.client["bearer"] == f"Bearer {KEY}"


def test_config_file_with_fs_group(runs: dict[str, Future[PodRun]]) -> None:
    """Kubernetes 1.33: the whole transport in a file the main container reads through the fsGroup."""
    result = runs["success, config-file, fsGroup 50000"].result()
    assert result.exit_code == 0, result.log
    seen = result.files[CONFIG_FILE]
    assert (seen.mode, seen.uid, seen.gid) == (0o440, 100, 50000)
    assert result.main_reads[CONFIG_PATH] == (0, seen.data, "")
    assert yaml.safe_load(seen.data) == {"transport": {
        "type": "http", "url": URL, "auth": {"type": "api_key", "apiKey": KEY}}}
    assert result.client == {"kind": "http", "url": URL, "bearer": f"Bearer {KEY}"}


def test_config_file_without_fs_group_runs_the_agent_as_the_reader(runs: dict[str, Future[PodRun]]) -> None:
    """No fsGroup: the agent runs as the main container's runAsUser, so the main container owns and reads the file."""
    result = runs["success, config-file, no fsGroup"].result()
    assert result.exit_code == 0, result.log
    seen = result.files[CONFIG_FILE]
    assert (seen.mode, seen.uid) == (0o440, 50000)
    status, _, error = result.main_reads[CONFIG_PATH]
    assert (status, error) == (0, "")
    assert result.client is not None and result.client["bearer"] == f"Bearer {KEY}"


def test_control_unreadable_config_file_is_caught(runs: dict[str, Future[PodRun]]) -> None:
    """Control: the agent as the image's user (100:1000) without fsGroup leaves the main container unable to read."""
    result = runs["control: config-file as 100:1000, no fsGroup"].result()
    assert result.exit_code == 0, result.log
    assert (result.files[CONFIG_FILE].uid, result.files[CONFIG_FILE].gid) == (100, 1000)
    status, data, error = result.main_reads[CONFIG_PATH]
    assert status != 0 and data == b"" and "Permission denied" in error


def test_config_file_without_any_identity_is_refused() -> None:
    """No fsGroup and no runAsUser: olrender refuses to render rather than write a file nobody can read."""
    proc = olrender(without_fs_group(worker(), run_as_user=None),
                    *vault_args("http://127.0.0.1:8200", SECRETS["good"], *OLD_K8S))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "document 1 (Deployment/astro-agent-worker-default-worker): --vault-delivery config-file" in proc.stderr
    assert "fsGroup" in proc.stderr and "runAsUser" in proc.stderr


def test_config_file_carries_quotes_and_backslashes(runs: dict[str, Future[PodRun]]) -> None:
    """A key with ' " \\ $ # ` is written as a JSON string the OpenLineage client reads back exactly."""
    result = runs["success, config-file, key with quotes"].result()
    assert result.exit_code == 0, result.log
    assert result.client is not None and result.client["bearer"] == f"Bearer {SECRETS['symbols'].fields['key']}"


@pytest.mark.parametrize(("secret", "kube"), REFUSED_KEYS)
def test_a_key_the_format_cannot_carry_fails_the_agent(runs: dict[str, Future[PodRun]], secret: str,
                                                       kube: str) -> None:
    """' in an env file, a line break, non-ASCII, nothing: the agent exits non-zero instead of writing it."""
    result = runs[f"refused key: {secret}, Kubernetes {kube}"].result()
    assert_failed_cleanly(result, SECRETS[secret].fields["key"] or KEY)
    assert "olrender: the OpenLineage API key at" in result.log


@pytest.mark.parametrize("failure", FAILURES)
def test_every_failure_exits_non_zero_quickly_without_a_key_file(runs: dict[str, Future[PodRun]],
                                                                 failure: str) -> None:
    """Unreachable Vault, refused login, unknown role, no token, missing path, 403, missing field."""
    assert_failed_cleanly(runs[f"failure: {failure}"].result())


def test_control_without_exit_on_err_the_agent_hangs(runs: dict[str, Future[PodRun]]) -> None:
    """Control: the same configuration without exit_on_err never exits when Vault is unreachable."""
    result = runs["control: unreachable Vault without exit_on_err"].result()
    assert result.timed_out and result.files == {}


def test_every_scenario_is_checked(runs: dict[str, Future[PodRun]]) -> None:
    """Guard: each scenario has a test (none runs for nothing) and each one ran to an exit status."""
    checked = {"success, file-key-ref, KV v2", "success, file-key-ref, KV v1 mount",
               "success, file-key-ref, nested KV v2 mount", "success, config-file, fsGroup 50000",
               "success, config-file, no fsGroup", "success, config-file, key with quotes",
               "control: config-file as 100:1000, no fsGroup", "control: unreachable Vault without exit_on_err",
               *(f"failure: {f}" for f in FAILURES), *(f"refused key: {s}, Kubernetes {k}" for s, k in REFUSED_KEYS)}
    assert set(runs) == checked
    assert all(isinstance(future.result().exit_code, int) for future in runs.values())

