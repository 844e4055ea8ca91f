"""The tier's world: the secrets in Vault, the pod olrender renders, and one call that runs it.

``render`` feeds one workload document (the chart's worker from
``fixtures/streams/helm3.yaml``, possibly changed by a test) to the real
``olrender`` process with Vault settings pointing at the dev server, and returns
the rendered pod template and ConfigMaps. A ``Scenario`` is one such render and
one run of the pod's init container with the real agent; ``start_all`` runs
them concurrently and records each exit status and time for the summary.
"""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from postrenderer.inject.methods.vault_settings import CONFIG_FILE, ENV_FILE
from tests.realagent.envfile import kubelet_value
from tests.realagent.pod import AGENT_TIMEOUT_S, PodRun, run_pod
from tests.realagent.server import ROLE, DevServer, Secret
from tests.realagent.tokenreview import TokenReviewDouble

ROOT = Path(__file__).resolve().parent.parent.parent
CA_PEM = ROOT / "fixtures" / "realagent" / "tokenreview-ca.pem"
STREAM = ROOT / "fixtures" / "streams" / "helm3.yaml"
BAO_TOOL = "bao-2.7.2"
NAMESPACE = "astro"
WORKER = "astro-agent-worker-default-worker"
SERVICE_ACCOUNT = WORKER  # the worker's serviceAccountName in the chart
SERVICE_ACCOUNTS = [SERVICE_ACCOUNT, "astro-agent-dag-processor", "astro-agent-triggerer"]
URL = "https://o11y.astronomer.io"
OL_NAMESPACE = "ultraviolet-corona-6870"
KEY = "sk-test-agent-0001.Zm9vYmFy-_~+/="  # a test key with the characters of a JWT and of base64
SECRETS = {
    "good": Secret("secret", "openlineage/api-key", {"key": KEY}),
    "quote": Secret("secret", "openlineage/quote", {"key": "sk-test-agent-0002' #x"}),
    "newline": Secret("secret", "openlineage/newline", {"key": "sk-test-agent\n0003"}),
    "non-ascii": Secret("secret", "openlineage/non-ascii", {"key": "sk-test-agent-0004-\u00e9"}),
    "empty": Secret("secret", "openlineage/empty", {"key": ""}),
    "symbols": Secret("secret", "openlineage/symbols", {"key": "sk-test\"agent\\0005 '$x #y `z`"}),
    "forbidden": Secret("secret", "forbidden/api-key", {"key": KEY}),
    "kv1": Secret("kv1", "openlineage/api-key", {"key": KEY}, kv_version=1),
    "nested": Secret("team/kv", "openlineage/api-key", {"key": KEY}),
}
ABSENT = "secret/data/openlineage/absent"  # readable by the policy, never written
READABLE = [s.read_path for name, s in SECRETS.items() if name != "forbidden"] + [ABSENT]
TIMINGS: list[tuple[str, int, float]] = []  # (scenario, exit status, seconds) of every agent run
WORKERS = 4  # agent runs at a time


@dataclass
class Vault:
    """The running dev server, the TokenReview test double, the pod's token and the real binary."""

    server: DevServer
    double: TokenReviewDouble
    token: str
    bao: Path


def worker() -> dict[str, Any]:
    """A fresh copy of the chart's worker Deployment."""
    docs = [d for d in yaml.safe_load_all(STREAM.read_text()) if isinstance(d, dict)]
    (doc,) = [d for d in docs if d.get("kind") == "Deployment" and d["metadata"]["name"] == WORKER]
    return copy.deepcopy(doc)


def olrender(doc: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real olrender process on a one-document stream."""
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", "postrenderer", *args], input=yaml.safe_dump(doc), text=True,
                          capture_output=True, env=env, cwd=ROOT, timeout=60, check=False)


def vault_args(addr: str, secret: Secret | str, *extra: str, field: str = "key", role: str = ROLE) -> list[str]:
    """olrender's Vault settings for a secret (or a read path) on the dev server."""
    path = secret if isinstance(secret, str) else secret.read_path
    kv = [] if isinstance(secret, str) else ["--vault-kv-version", str(secret.kv_version)]
    return ["--method", "vault", "--vault-addr", addr, "--vault-role", role, "--vault-secret-path", path,
            "--vault-secret-field", field, *kv, "--url", URL, "--namespace", OL_NAMESPACE, *extra]


def render(doc: dict[str, Any], args: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """olrender's output for doc: the Deployment's pod template and the ConfigMaps' data, by name (fresh copies)."""
    return copy.deepcopy(_rendered(yaml.safe_dump(doc), tuple(args)))


@functools.cache
def _rendered(text: str, args: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """One olrender run per distinct input and arguments."""
    proc = olrender(yaml.safe_load(text), *args)
    assert proc.returncode == 0, proc.stderr
    out = [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict)]
    (deployment,) = [d for d in out if d["kind"] == "Deployment"]
    config_maps = {d["metadata"]["name"]: d["data"] for d in out if d["kind"] == "ConfigMap"}
    template = deployment["spec"]["template"]
    template.setdefault("metadata", {})["namespace"] = NAMESPACE
    return template, config_maps


CLIENT = """\
import json
from openlineage.client import OpenLineageClient
transport = OpenLineageClient().transport
auth = getattr(getattr(transport, "config", None), "auth", None)
print(json.dumps({"kind": transport.kind, "url": getattr(transport, "url", None),
                  "bearer": auth.get_bearer() if auth is not None else None}))
"""


def openlineage_client(env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """The transport the real OpenLineage client (openlineage-python) builds from exactly this environment."""
    proc = subprocess.run([sys.executable, "-c", CLIENT], capture_output=True, text=True, cwd=workdir, timeout=60,
                          env={**env, "PATH": "/usr/bin:/bin", "HOME": str(workdir)}, check=True)
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


@dataclass
class Scenario:
    """One agent run: the workload olrender renders, its arguments, and how the pod differs from the render."""

    doc: dict[str, Any]
    args: list[str]
    token: str | None = None  # None: the pod's own service-account token
    edit: Callable[[dict[str, Any], dict[str, dict[str, str]]], None] | None = None  # (pod, ConfigMaps) -> None
    timeout: float = AGENT_TIMEOUT_S


def run(name: str, scenario: Scenario, vault: Vault, workdir: Path) -> PodRun:
    """Render the scenario, run the pod's Vault Agent init container for real, record the figures."""
    pod, config_maps = render(scenario.doc, scenario.args)
    if scenario.edit is not None:
        scenario.edit(pod, config_maps)
    result = run_pod(pod, config_maps, bao=vault.bao, token=vault.token if scenario.token is None else scenario.token,
                     workdir=workdir, timeout=scenario.timeout)
    TIMINGS.append((name, result.exit_code, result.seconds))
    result.client = client_view(result, Path(tempfile.mkdtemp(prefix="client-", dir=workdir)))
    return result


def client_view(result: PodRun, workdir: Path) -> dict[str, Any] | None:
    """The real client's transport with the main container's env and the key as it gets it (None: no key file)."""
    if ENV_FILE in result.files:
        key = kubelet_value(result.files[ENV_FILE].data, "OPENLINEAGE_API_KEY")
        return openlineage_client({**result.main_env, "OPENLINEAGE_API_KEY": key}, workdir)
    read = result.main_reads.get(f"/vault/secrets/{CONFIG_FILE}")
    if read is None or read[0] != 0:
        return None
    config = workdir / CONFIG_FILE
    config.write_bytes(read[1])
    return openlineage_client({**result.main_env, "OPENLINEAGE_CONFIG": str(config)}, workdir)


def start_all(scenarios: dict[str, Scenario], vault: Vault, workdir: Path) -> Iterator[dict[str, Future[PodRun]]]:
    """Run every scenario concurrently (most of an agent run is waiting); yield their futures by name."""
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="agent") as pool:
        yield {name: pool.submit(run, name, scenario, vault, workdir) for name, scenario in scenarios.items()}
