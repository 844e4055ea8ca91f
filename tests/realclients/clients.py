"""Real helm 4, helm 3 and helmfile calling olrender: running them, reading what they print.

Each client gets its own temporary Helm homes (``HELM_CACHE_HOME``, ``HELM_CONFIG_HOME``,
``HELM_DATA_HOME``; ``HELM_PLUGINS`` and every other ``HELM_*``, ``OLRENDER_*`` and
``OPENLINEAGE_*`` variable removed), an empty working directory, and a ``PATH`` that starts
with a ``bin/`` holding ``helm`` (and ``helmfile``) and then the ``olrender`` console script
of this interpreter — the way a user's shell finds them. Commands are started on a small
thread pool as soon as a session fixture knows them; tests wait for the ones they check and
assert on what the client printed, never on olrender's own stdout.

Example::

    runs.submit("secret", "template", RELEASE, str(CHART), "--post-renderer", "olrender",
                *methods["secret"].post_renderer_args())
    docs = parse_documents(runs["secret"].ok().stdout)
    assert_injected(docs, parse_documents(runs["baseline"].ok().stdout), "secret")
"""
from __future__ import annotations

import base64
import copy
import functools
import json
import os
import re
import subprocess
import sys
from collections.abc import Hashable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tools.pytest_realtools import RealTool
from tests.tools.realtools import helm_env

REPO = Path(__file__).resolve().parents[2]
HELM_DOC = REPO / "docs" / "helm.md"
CHART = REPO / "fixtures" / "chart" / "astro-agent"
EMPTY_CHART = REPO / "fixtures" / "chart" / "empty"
RELEASE = "astro-agent"

HELM4_VERSIONS = ("4.3.1", "4.1.4")
HELM3_TOOL = "helm-3.17.2"
HELMFILE_TOOL = "helmfile-0.166.0"
HELMFILE_HELM_TOOL = "helm-3.15.3"  # the helm that ships next to helmfile 0.166.0
CLIENT_TIMEOUT_S = 180

API_KEY = "sk-test-realclient-0001"
OL_NAMESPACE = "ultraviolet-corona-6870"
CHART_URL = "https://o11y.astronomer.io"  # the chart's own openLineage.url default
EXISTING_SECRET = "team-openlineage-key"
VAULT_ADDR = "https://vault.example.com:8200"
VAULT_ROLE = "astro-agent"
VAULT_PATH = "secret/data/openlineage/api-key"
ES_KEY = "openlineage/api-key"  # the external-secret golden cases' remote key

COMPONENTS = frozenset({
    "astro-agent-dag-processor",
    "astro-agent-triggerer",
    "astro-agent-worker-default-worker",
    "astro-agent-worker-gpu-worker",
})
SENTINEL = "astro-agent-sentinel"
MAIN_CONTAINER = "agent"
HOOKS = frozenset({("Job", "astro-agent-post-install"), ("Pod", "astro-agent-test-connection")})
SECRET_SOURCE = "olrender/openlineage-api-key-secret.yaml"
# What `--show-only templates/worker-deployment.yaml` plus the generated Secret's file must print, in order.
_WORKER_TEMPLATE = "astro-remote-execution-agent/templates/worker-deployment.yaml"
SHOW_ONLY_WORKERS = [
    (_WORKER_TEMPLATE, ("Deployment", "astro-agent-worker-default-worker")),
    (_WORKER_TEMPLATE, ("Deployment", "astro-agent-worker-gpu-worker")),
    (SECRET_SOURCE, ("Secret", "openlineage-api-key-secret")),
]
VAULT_SOURCE = "olrender/vault-agent-config.yaml"

# What each method adds to the stream: (kind, name) -> the `# Source:` Helm prints for it.
GENERATED: dict[str, dict[tuple[str, str], str]] = {
    "secret": {("Secret", "openlineage-api-key-secret"): SECRET_SOURCE},
    "existing-secret": {},
    "vault": {("ConfigMap", "vault-agent-config"): VAULT_SOURCE},
    "external-secret": {("ExternalSecret", "openlineage-api-key-secret"):
                        "olrender/openlineage-api-key-secret-externalsecret.yaml"},
    "vault-injector": {},
    "airflow-connection": {},
}
# The pod annotation each method sets so that a new key or agent config rolls the pods.
CHECKSUM_ANNOTATION = {"secret": "checksum/openlineage-api-key", "vault": "checksum/vault-agent-config",
                       "external-secret": "checksum/openlineage-reference"}
# The env entries olrender adds to a main container (the chart already renders OPENLINEAGE_URL).
_KEY_ENV = frozenset({"OPENLINEAGE_API_KEY", "OPENLINEAGE_NAMESPACE"})
ADDED_ENV = {"vault-injector": frozenset({"OPENLINEAGE_CONFIG", "AIRFLOW__OPENLINEAGE__CONFIG_PATH",
                                          "OPENLINEAGE_NAMESPACE"}),
             "airflow-connection": frozenset({"AIRFLOW__OPENLINEAGE__TRANSPORT", "OPENLINEAGE_NAMESPACE"})}
INJECTOR_FILE = "/vault/secrets/openlineage.yml"
AIRFLOW_CONN_ID = "openlineage_api_key"
METHODS = tuple(GENERATED)

_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HELM_HOMES = frozenset({"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"})


# --------------------------------------------------------------------------- running clients


@dataclass(frozen=True)
class Run:
    """One finished client command: what it printed and how it exited."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def ok(self) -> Run:
        """Return the run, or fail the test with the command and its stderr."""
        if self.returncode != 0:
            pytest.fail(f"{' '.join(self.argv)} exited {self.returncode}:\n{self.stderr}", pytrace=False)
        return self

    def failed(self) -> Run:
        """Return the run, or fail the test because the command succeeded."""
        if self.returncode == 0:
            pytest.fail(f"{' '.join(self.argv)} succeeded but should have failed", pytrace=False)
        return self


@dataclass(frozen=True)
class Client:
    """A real helm or helmfile binary with isolated homes and the user's PATH layout."""

    tool: str
    home: Path
    env: Mapping[str, str]

    @property
    def name(self) -> str:
        """The program name, ``helm`` or ``helmfile``."""
        return self.tool.split("-", 1)[0]

    @property
    def workdir(self) -> Path:
        """An empty working directory: nothing resolves relative to the repository."""
        return self.home / "work"

    def run(self, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
            program: str | None = None) -> Run:
        """Run the client (or a companion ``program``) by its name on PATH, as a shell would."""
        return self._spawn((program or self.name, *args), cwd, env)

    def shell(self, script: str, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
        """Run documented shell commands (``sh -e``) with this client on PATH."""
        return self._spawn(("sh", "-ec", script), cwd, env)

    def bash(self, script: str, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
        """Run documented bash commands (``bash -e``: they use ``set -o pipefail``) with this client on PATH."""
        return self._spawn(("bash", "-ec", script), cwd, env)

    def _spawn(self, argv: tuple[str, ...], cwd: Path | None, env: Mapping[str, str] | None) -> Run:
        """Run ``argv`` in the client's environment (plus ``env``) and collect its output."""
        proc = subprocess.run(
            argv, cwd=cwd or self.workdir, env={**self.env, **(env or {})}, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S, check=False,
        )
        return Run(argv, proc.returncode, proc.stdout, proc.stderr)


class Runs:
    """Client commands started on a thread pool and awaited by key."""

    def __init__(self, client: Client, pool: ThreadPoolExecutor) -> None:
        self.client = client
        self._pool = pool
        self._futures: dict[Hashable, Future[Run]] = {}

    def submit(self, key: Hashable, *args: str, env: Mapping[str, str] | None = None,
               cwd: Path | None = None, program: str | None = None) -> None:
        """Start ``client args...`` in the background under ``key``."""
        assert key not in self._futures, f"duplicate run key {key!r}"
        self._futures[key] = self._pool.submit(self.client.run, *args, env=env, cwd=cwd, program=program)

    def __getitem__(self, key: Hashable) -> Run:
        """Wait for the run started under ``key``."""
        return self._futures[key].result()


def olrender_script() -> Path:
    """Return the ``olrender`` console script installed next to this interpreter."""
    script = Path(sys.executable).parent / "olrender"
    if not os.access(script, os.X_OK):
        pytest.fail(f"no olrender console script at {script}: run `python -m pip install -e .` first",
                    pytrace=False)
    return script


def make_client(real_tool: RealTool, home: Path, tool: str, *companions: str) -> Client:
    """Prepare ``tool`` (plus companion binaries, e.g. helmfile's helm) in fresh homes."""
    bindir = home / "bin"
    bindir.mkdir(parents=True)
    for each in (tool, *companions):
        (bindir / each.split("-", 1)[0]).symlink_to(real_tool(each))
    env = {
        var: value for var, value in helm_env(home / "helm").items()
        if not var.startswith(("OLRENDER_", "OPENLINEAGE_"))
        and not (var.startswith("HELM_") and var not in _HELM_HOMES)
    }
    env["PATH"] = os.pathsep.join([str(bindir), str(olrender_script().parent), os.environ.get("PATH", "")])
    env["KUBECONFIG"] = str(home / "no-kubeconfig")  # never the user's cluster
    (home / "work").mkdir()
    return Client(tool, home, env)


def install_plugin(client: Client) -> Client:
    """Install the olrender plugin from the repository directory (``helm plugin install .``)."""
    installed = client.run("plugin", "install", ".", cwd=REPO).ok()
    assert "Installed plugin: olrender" in installed.stdout, installed.stdout + installed.stderr
    return client


def doc_block(marker: str, doc: Path = HELM_DOC) -> str:
    """Return the fenced code block that follows ``<!-- marker -->`` in docs/helm.md (or another page)."""
    match = re.search(rf"^<!-- {re.escape(marker)} -->\n```[a-z]*\n(.*?)^```$", doc.read_text(),
                      re.MULTILINE | re.DOTALL)
    assert match, f"{doc.relative_to(REPO)} has no code block marked <!-- {marker} -->"
    return match.group(1)


# --------------------------------------------------------------------------- configuring olrender


@dataclass(frozen=True)
class MethodCase:
    """One olrender configuration, given as arguments or as ``OLRENDER_*`` variables."""

    name: str
    options: tuple[tuple[str, str], ...]

    def args(self) -> list[str]:
        """The renderer's arguments, each as one ``--option=value`` word."""
        return [f"{option}={value}" for option, value in self.options]

    def post_renderer_args(self) -> list[str]:
        """The Helm flags that pass the arguments (``--post-renderer-args=--option=value``)."""
        return [f"--post-renderer-args={arg}" for arg in self.args()]

    def environment(self) -> dict[str, str]:
        """The same configuration as ``OLRENDER_*`` variables."""
        return {
            "OLRENDER_" + option.removeprefix("--").upper().replace("-", "_"): value
            for option, value in self.options
        }


# --------------------------------------------------------------------------- reading what Helm printed


@dataclass(frozen=True)
class Doc:
    """One YAML document Helm printed, with its ``# Source:`` line."""

    source: str | None
    obj: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        """``(kind, metadata.name)``."""
        return self.obj["kind"], self.obj["metadata"]["name"]

    @property
    def is_hook(self) -> bool:
        """Tell whether the document is a Helm hook."""
        return "helm.sh/hook" in (self.obj["metadata"].get("annotations") or {})


def parse_documents(text: str) -> list[Doc]:
    """Split Helm's output on ``---`` lines; read each document and its ``# Source:`` header."""
    return list(_parse_documents(text))


@functools.lru_cache(maxsize=64)
def _parse_documents(text: str) -> tuple[Doc, ...]:
    """Parse once per distinct output (callers never mutate the documents)."""
    docs = []
    for chunk in re.split(r"(?m)^---[ \t]*$", text):
        obj = yaml.load(chunk, Loader=_SAFE_LOADER)  # the safe loader, in C when available
        if obj is None:
            continue
        assert isinstance(obj, dict), f"not a mapping: {chunk[:200]!r}"
        first = next((line for line in chunk.splitlines() if line.strip()), "")
        source = first.removeprefix("# Source: ").strip() if first.startswith("# Source: ") else None
        docs.append(Doc(source, obj))
    return tuple(docs)


def install_sections(text: str) -> tuple[str, str]:
    """Split ``helm install --dry-run`` output into its HOOKS and MANIFEST sections."""
    match = re.search(r"(?ms)^HOOKS:\n(.*?)^MANIFEST:\n(.*?)(?:^NOTES:\n.*)?\Z", text)
    assert match, f"no HOOKS:/MANIFEST: sections in:\n{text[:2000]}"
    return match.group(1), match.group(2)


def by_key(docs: list[Doc]) -> dict[tuple[str, str], Doc]:
    """Index documents by (kind, name), refusing duplicates."""
    index: dict[tuple[str, str], Doc] = {}
    for doc in docs:
        assert doc.key not in index, f"{doc.key} printed twice"
        index[doc.key] = doc
    return index


def in_namespace(docs: list[Doc], namespace: str) -> list[Doc]:
    """Keep the documents in ``namespace`` and drop their namespace field (helmfile releases)."""
    kept = []
    for doc in docs:
        if doc.obj["metadata"].get("namespace") == namespace:
            obj = copy.deepcopy(doc.obj)
            del obj["metadata"]["namespace"]
            kept.append(Doc(doc.source, obj))
    return kept


# --------------------------------------------------------------------------- the checks


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A container's env entries by name (names are unique)."""
    entries = container.get("env") or []
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), f"duplicate env names in {container['name']}: {names}"
    return {entry["name"]: entry for entry in entries}


def _check_keyless(method: str, env: dict[str, Any], annotations: dict[str, Any], where: str) -> None:
    """Check the methods whose key is not in the pod spec: the injector's file, the Airflow connection."""
    if method == "vault-injector":
        assert env["OPENLINEAGE_CONFIG"]["value"] == INJECTOR_FILE, where
        assert env["AIRFLOW__OPENLINEAGE__CONFIG_PATH"]["value"] == INJECTOR_FILE, where
        assert annotations["vault.hashicorp.com/agent-inject"] == "true", where
        assert annotations["vault.hashicorp.com/agent-inject-containers"] == MAIN_CONTAINER, where
    else:
        transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"]["value"])
        assert transport["auth"] == {"type": "airflow_connection_api_key", "conn_id": AIRFLOW_CONN_ID}, where
        assert transport["url"] == CHART_URL, where


def _check_key_reference(method: str, entry: dict[str, Any], pod: dict[str, Any], where: str) -> None:
    """Check that OPENLINEAGE_API_KEY comes from where ``method`` puts it."""
    value_from = entry.get("valueFrom")
    if method in ("secret", "external-secret"):
        assert value_from == {"secretKeyRef": {"name": "openlineage-api-key-secret", "key": "api-key"}}, where
    elif method == "existing-secret":
        assert value_from == {"secretKeyRef": {"name": EXISTING_SECRET, "key": "api-key"}}, where
    else:
        assert value_from is not None and set(value_from) == {"fileKeyRef"}, where
        ref = value_from["fileKeyRef"]
        assert ref["key"] == "OPENLINEAGE_API_KEY", where
        volumes = {volume["name"]: volume for volume in pod.get("volumes") or []}
        assert volumes[ref["volumeName"]].get("emptyDir", {}).get("medium") == "Memory", where
        agent = {c["name"]: c for c in pod.get("initContainers") or []}["vault-openlineage"]
        assert ref["volumeName"] in {mount["name"] for mount in agent["volumeMounts"]}, where
        assert _env(agent)["VAULT_ADDR"] == {"name": "VAULT_ADDR", "value": VAULT_ADDR}, where
    assert "value" not in entry, f"{where}: the key itself is in the manifest"


def _check_component(method: str, doc: Doc, base: Doc) -> None:
    """Check one agent component against the same workload rendered without olrender."""
    where = f"{doc.source}: {doc.key}"
    template, base_template = doc.obj["spec"]["template"], base.obj["spec"]["template"]
    pod, base_pod = template["spec"], base_template["spec"]

    # The main container: every entry the chart rendered, plus the key and the namespace.
    main = next(c for c in pod["containers"] if c["name"] == MAIN_CONTAINER)
    base_main = next(c for c in base_pod["containers"] if c["name"] == MAIN_CONTAINER)
    env, base_env = _env(main), _env(base_main)
    assert all(env.get(name) == entry for name, entry in base_env.items()), f"{where}: chart env changed"
    assert set(env) - set(base_env) == ADDED_ENV.get(method, _KEY_ENV), where
    assert env["OPENLINEAGE_NAMESPACE"] == {"name": "OPENLINEAGE_NAMESPACE", "value": OL_NAMESPACE}, where
    assert env["OPENLINEAGE_URL"] == {"name": "OPENLINEAGE_URL", "value": CHART_URL}, where
    annotations = template["metadata"].get("annotations") or {}
    if method in ADDED_ENV:
        _check_keyless(method, env, annotations, where)
    else:
        _check_key_reference(method, env["OPENLINEAGE_API_KEY"], pod, where)

    # Sidecars (vector-logging-sidecar, dogstatsd, ...) got nothing.
    sidecars = [c for c in pod["containers"] if c["name"] != MAIN_CONTAINER]
    assert sidecars == [c for c in base_pod["containers"] if c["name"] != MAIN_CONTAINER], where
    assert [c["name"] for c in pod["containers"]] == [c["name"] for c in base_pod["containers"]], where
    assert not any(name.startswith("OPENLINEAGE") for c in sidecars for name in _env(c)), where

    # The chart's own init containers, volumes and annotations are still there.
    for field in ("initContainers", "volumes"):
        assert all(item in (pod.get(field) or []) for item in base_pod.get(field) or []), f"{where}: {field}"
    base_annotations = base_template["metadata"].get("annotations") or {}
    assert base_annotations.items() <= annotations.items(), where
    if method in CHECKSUM_ANNOTATION:
        assert re.fullmatch(r"[0-9a-f]{64}", annotations[CHECKSUM_ANNOTATION[method]]), where

    # Nothing else in the workload changed.
    def rest(obj: dict[str, Any]) -> dict[str, Any]:
        """The workload without the parts olrender may touch."""
        trimmed = copy.deepcopy(obj)
        trimmed["spec"]["template"]["metadata"].pop("annotations", None)
        spec = trimmed["spec"]["template"]["spec"]
        for field in ("initContainers", "volumes"):
            spec.pop(field, None)
        for container in spec["containers"]:
            if container["name"] == MAIN_CONTAINER:
                container.pop("env", None)
                container.pop("volumeMounts", None)
        return trimmed

    assert rest(doc.obj) == rest(base.obj), f"{where}: more than the injection changed"


def _check_generated(method: str, doc: Doc) -> None:
    """Check a document olrender added to the stream."""
    if method == "secret":
        assert doc.obj["type"] == "Opaque"
        assert doc.obj["data"] == {"api-key": base64.b64encode(API_KEY.encode()).decode()}
    elif method == "external-secret":
        assert doc.obj["apiVersion"] == "external-secrets.io/v1"
        assert doc.obj["spec"]["target"] == {"name": "openlineage-api-key-secret", "creationPolicy": "Owner"}
        assert doc.obj["spec"]["data"][0]["remoteRef"] == {"key": ES_KEY}
    elif method == "vault":
        hcl = doc.obj["data"]["agent.hcl"]
        assert "exit_after_auth = true" in hcl
        assert f'role = "{VAULT_ROLE}"' in hcl and VAULT_PATH in hcl


def assert_injected(docs: list[Doc], baseline: list[Doc], method: str) -> None:
    """Check Helm's final output against the same chart rendered without olrender.

    Every agent component's main container gets OPENLINEAGE_API_KEY from the method's
    source; every other document (Sentinel, hooks, Secrets, ...) comes back unchanged with
    its ``# Source:``; the only added documents are the method's, with olrender's source.
    """
    printed, expected = by_key(docs), by_key(baseline)
    assert expected.keys() <= printed.keys(), f"documents lost: {sorted(expected.keys() - printed.keys())}"
    added = {key: printed[key].source for key in printed.keys() - expected.keys()}
    assert added == GENERATED[method], f"added documents and their sources: {added}"
    for key in added:
        _check_generated(method, printed[key])
    assert {name for kind, name in expected if kind == "Deployment"} >= COMPONENTS
    for key, base in expected.items():
        doc = printed[key]
        assert doc.source == base.source, f"{key}: # Source: {doc.source!r}, rendered as {base.source!r}"
        if key[0] == "Deployment" and key[1] in COMPONENTS:
            _check_component(method, doc, base)
        else:
            assert doc.obj == base.obj, f"{key} ({doc.source}) changed"
    sentinel = printed["Deployment", SENTINEL].obj["spec"]["template"]["spec"]["containers"]
    assert not any(name.startswith("OPENLINEAGE") for c in sentinel for name in _env(c))
    assert {doc.key for doc in docs if doc.is_hook} == HOOKS


def assert_key_not_leaked(*texts: str) -> None:
    """Check that the plaintext key (or its base64 form) appears in none of the texts."""
    encoded = base64.b64encode(API_KEY.encode()).decode()
    for text in texts:
        assert API_KEY not in text and encoded not in text
