"""``--method vault-injector`` against the real consumers: the agent renders the rendered annotation, both clients send.

olrender renders the Helm 4 stream; from each case's worker the test takes the
annotations exactly as written. The real OpenBao agent runs the template of
``agent-inject-template-openlineage.yml`` with the injector's init-agent
configuration (role and auth path from the annotations); openlineage-python reads
the file through ``OPENLINEAGE_CONFIG`` and the Airflow provider through
``AIRFLOW__OPENLINEAGE__CONFIG_PATH``, each with the container's rendered
environment, and each must send ``Bearer <key>`` to the configured endpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.inprocess import run_in_process
from tests.oracles.consumers import BACKEND, CWD, Case, Sent, send
from tests.realagent.injector import EXAMPLE_SECRETS, Injection, InjectorVault, Rendered, annotation_problems
from tests.realagent.server import Secret

ROOT = Path(__file__).resolve().parents[2]
STREAM = (ROOT / "fixtures" / "streams" / "helm4.yaml").read_bytes()
PREFIX = "vault.hashicorp.com/"
FILE = "openlineage.yml"
IN_POD = f"/vault/secrets/{FILE}"
CONFIG = f"{CWD}/{FILE}"
GOOD, NON_ASCII, KV1 = EXAMPLE_SECRETS
# what breaks a bare YAML scalar or a template: ", :, #, \, {{ and }} (printable ASCII: a header carries it)
HOSTILE = Secret("secret", "openlineage/hostile-ascii",
                 {"key": "sk-test-injector-0004 \"q\" a: b #c 'd \\e <&> {{x}} }} - [y]"})
CASES: dict[str, tuple[Secret, list[str]]] = {  # name -> (the secret, olrender's arguments)
    "kv2": (GOOD, []),
    "kv1": (KV1, ["--vault-kv-version", "1", "--endpoint", "api/v2/lineage"]),
    "hostile": (HOSTILE, []),
    "non-ascii": (NON_ASCII, []),
}
SENDS = ["kv2", "kv1", "hostile"]


def render(secret: Secret, extra: list[str]) -> dict[str, Any]:
    """The worker Deployment olrender renders for this secret (the URL is the consumers' backend)."""
    args = ["--method", "vault-injector", "--url", BACKEND, "--namespace", "ultraviolet-corona-6870",
            "--vault-role", "astro-agent", "--vault-secret-path", secret.read_path, "--vault-secret-field", "key",
            *extra]
    ran = run_in_process(args, STREAM)
    assert ran.returncode == 0, ran.stderr.decode()
    docs = list(yaml.safe_load_all(ran.stdout))
    return next(d for d in docs if d and d["kind"] == "Deployment"
                and d["metadata"]["name"] == "astro-agent-worker-default-worker")


@pytest.fixture(scope="module")
def workers() -> dict[str, dict[str, Any]]:
    """Each case's rendered worker."""
    return {name: render(secret, extra) for name, (secret, extra) in CASES.items()}


def annotations(worker: dict[str, Any]) -> dict[str, Any]:
    """The pod template's annotations."""
    return dict(worker["spec"]["template"]["metadata"]["annotations"])


def environment(worker: dict[str, Any]) -> dict[str, str]:
    """The main container's literal variables, with the pod's file path moved to the case's directory."""
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "agent"
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    return {k: CONFIG if v == IN_POD else v for k, v in env.items()}


@pytest.fixture(scope="module")
def rendered(workers: dict[str, dict[str, Any]], injector_vault: InjectorVault) -> dict[str, Rendered]:
    """The real agent run on each worker's template annotation, with its role and auth path."""
    injector_vault.server.write(HOSTILE)
    injections = []
    for worker in workers.values():
        found = annotations(worker)
        injections.append(Injection(found[f"{PREFIX}agent-inject-template-{FILE}"], role=found[f"{PREFIX}role"],
                                    file=FILE, auth_path=found.get(f"{PREFIX}auth-path", "auth/kubernetes")))
    return dict(zip(CASES, injector_vault.render_all(injections), strict=True))


@pytest.fixture(scope="module")
def consumed(workers: dict[str, dict[str, Any]], rendered: dict[str, Rendered], airflow_python: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Sent]]:
    """What each real consumer sent with each worker's environment and rendered file."""
    cases = [Case(environment(workers[name]), {CONFIG: (rendered[name].data or b"").decode()}) for name in SENDS]
    found = send(cases, tmp_path_factory.mktemp("vault-injector-consumers"), airflow=airflow_python)
    return {consumer: dict(zip(SENDS, sent, strict=True)) for consumer, sent in found.items()}


@pytest.mark.parametrize(("name", "path"), [("kv2", "/api/v1/lineage"), ("kv1", "/api/v2/lineage"),
                                            ("hostile", "/api/v1/lineage")])
@pytest.mark.parametrize("consumer", ["client", "airflow"])
def test_each_consumer_sends_the_key_the_agent_rendered(rendered: dict[str, Rendered],
                                                        consumed: dict[str, dict[str, Sent]], name: str, path: str,
                                                        consumer: str) -> None:
    """The agent exits 0 on the rendered template; each consumer sends Bearer <key> to the endpoint."""
    assert rendered[name].exit_code == 0, rendered[name].log
    request = consumed[consumer][name].only
    assert (request.path, request.authorization) == (path, f"Bearer {CASES[name][0].fields['key']}")


def test_a_key_no_header_can_carry_stops_the_agent(rendered: dict[str, Rendered]) -> None:
    """A key with a non-ASCII character: the agent exits non-zero, writes no file, and its log has no key."""
    run = rendered["non-ascii"]
    assert run.exit_code != 0 and run.data is None, run.log
    assert "an HTTP header cannot carry" in run.log and NON_ASCII.fields["key"] not in run.log


@pytest.mark.parametrize("name", list(CASES))
def test_the_annotations_are_the_injectors(workers: dict[str, dict[str, Any]], name: str) -> None:
    """Every annotation name is one vault-k8s 1.7.6 knows, every value a string; the secret path is the one read."""
    found = annotations(workers[name])
    assert annotation_problems(found) == []
    assert found[f"{PREFIX}agent-inject-secret-{FILE}"] == CASES[name][0].read_path
    env = environment(workers[name])
    assert (env["OPENLINEAGE_CONFIG"], env["AIRFLOW__OPENLINEAGE__CONFIG_PATH"]) == (CONFIG, CONFIG)
