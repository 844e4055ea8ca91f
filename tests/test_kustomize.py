"""Tests for postrenderer.write.kustomize: applied by the real kustomize, the patches give olrender's own output.

The oracle is kustomize v5.8.1 as embedded in kubectl 1.37.1 (``kubectl kustomize``, from the real-tools
cache): kustomize's own engine, which Flux's helm-controller builds in to apply ``postRenderers``. A
kustomization holds the stream olrender got, the objects ``--emit-kustomize-patches`` generated and,
verbatim, its patch list; what kustomize builds must be the objects olrender renders. Both sides are decoded by kubectl
(``label --local ... -o json``, which also adds an empty ``labels`` map to both and takes a List's items
as objects, as kustomize does) and compared by (apiVersion, kind, namespace, name), because kustomize
reorders documents and keys. One difference is normalised: on the objects olrender adds to a Helm 4
stream, Helm 4's ``postrenderer.helm.sh/postrender-filename`` annotation, which Helm removes from every
document it gets back and which the printed objects (never sent through Helm) leave out.
"""

from __future__ import annotations

import base64
import copy
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml

from postrenderer.errors import InputError
from postrenderer.read.stream import HELM4_FILENAME
from postrenderer.write import edit, kustomize
from tests.golden import Case, cases
from tests.kustomize_proof import (
    ROOT,
    clean_env,
    decode,
    identity,
    kustomize_build,
    merge_order,
    olrender,
    split_emitted,
    without_helm4_filename,
)
from tests.tools.pytest_realtools import RealTool

STREAMS = ROOT / "fixtures" / "streams"
KUBECTL = "kubectl-1.37.1"
KEY = "sk-test-kustomize-0001"
NAMESPACE = "ultraviolet-corona-6870"
VAULT = ["--method", "vault", "--vault-addr", "https://vault.example.com:8200", "--vault-role", "astro-agent",
         "--vault-secret-path", "secret/data/openlineage/api-key", "--vault-secret-field", "key"]
# Every method (and both Vault deliveries, openLineage.enabled: false, reloader mode) on both Helm fixture streams.
METHODS: dict[str, tuple[list[str], dict[str, str]]] = {
    "secret": (["--namespace", NAMESPACE], {"OPENLINEAGE_API_KEY": KEY}),
    "existing-secret": (["--namespace", NAMESPACE, "--api-key-secret", "team-openlineage-key"], {}),
    "vault-file-key-ref": ([*VAULT, "--namespace", NAMESPACE], {}),
    "vault-config-file": ([*VAULT, "--namespace", NAMESPACE, "--url", "https://o11y.astronomer.io",
                           "--kube-version", "1.33"], {}),
    "disabled": (["-f", str(ROOT / "fixtures" / "cases" / "disabled-helm3" / "values.yaml")], {}),
    "external-secret": (["--namespace", NAMESPACE, "--method", "external-secret"],
                        {"OLRENDER_EXTERNAL_SECRET_STORE": "vault",
                         "OLRENDER_EXTERNAL_SECRET_KEY": "openlineage/api-key"}),
    "vault-injector": (["--method", "vault-injector", "--namespace", NAMESPACE, "--url", "https://o11y.astronomer.io",
                        "--vault-role", "astro-agent", "--vault-secret-path", "secret/data/openlineage/api-key",
                        "--vault-secret-field", "key"], {}),
    # --restart-on-change reloader: Reloader's annotation on each workload's own metadata
    "secret-reloader": (["--namespace", NAMESPACE, "--restart-on-change", "reloader"], {"OPENLINEAGE_API_KEY": KEY}),
    "existing-secret-reloader": (["--namespace", NAMESPACE, "--api-key-secret", "team-openlineage-key",
                                  "--restart-on-change", "reloader"], {}),
    "airflow-connection": (["--namespace", NAMESPACE, "--method", "airflow-connection", "--airflow-conn-id",
                            "openlineage_api_key", "--url", "https://o11y.astronomer.io"], {}),
}
MODE_OPTIONS = {"--check", "--diff", "--emit-patches"}  # cases of another mode render nothing to compare with
SUCCEEDING = [case for case in cases() if (case.path / "expected.yaml").exists() and case.input().strip()
              and not MODE_OPTIONS & set(case.args())]


@pytest.fixture(scope="module")
def kubectl(real_tool: RealTool) -> Path:
    """The real kubectl 1.37.1 (kustomize v5.8.1 inside)."""
    return real_tool(KUBECTL)


def prove(kubectl: Path, workdir: Path, args: list[str], data: bytes, env: dict[str, str], cwd: Path = ROOT,
          rendered: bytes | None = None) -> str:
    """Check that kustomize with the emitted patches builds olrender's output; return the emitted text.

    ``rendered``: olrender's output when already known (a golden case's reviewed expected.yaml).
    """
    emitted = olrender([*args, "--emit-kustomize-patches"], data, env, cwd)
    assert emitted.returncode == 0, emitted.stderr.decode()
    if rendered is None:
        render = olrender(args, data, env, cwd)
        assert render.returncode == 0, render.stderr.decode()
        rendered = render.stdout
    text = emitted.stdout.decode()
    built = kustomize_build(kubectl, workdir, data, text)
    assert built.returncode == 0, built.stderr
    added = {identity(doc) for doc in yaml.safe_load_all(split_emitted(text)[1]) if doc}
    expected = without_helm4_filename(decode(kubectl, rendered.decode(), workdir), added)
    got = decode(kubectl, built.stdout, workdir)
    assert got.keys() == expected.keys()
    for key, obj in expected.items():  # (kustomize puts the entries a patch names first)
        assert merge_order(got[key]) == merge_order(obj), key
    return text


@pytest.fixture(scope="module")
def proofs(kubectl: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[str]]]:
    """Every proof of this module, started at once on two threads (each is a few processes)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        started: dict[str, Future[str]] = {}
        for stream in ("helm3", "helm4"):
            for method, (args, env) in METHODS.items():
                started[f"matrix {method} {stream}"] = pool.submit(
                    prove, kubectl, tmp_path_factory.mktemp(f"{method}-{stream}"), args,
                    (STREAMS / f"{stream}.yaml").read_bytes(), clean_env(env))
        for case in SUCCEEDING:
            started[case.name] = pool.submit(
                prove, kubectl, tmp_path_factory.mktemp(case.name), case.args(), case.input(), case.env(),
                case.path, (case.path / "expected.yaml").read_bytes())
        yield started


@pytest.mark.parametrize("stream", ["helm3", "helm4"])
@pytest.mark.parametrize("method", METHODS)
def test_patches_reproduce_the_render(proofs: dict[str, Future[str]], method: str, stream: str) -> None:
    """Every method on both Helm streams: kustomize with the patches builds exactly what olrender renders."""
    text = proofs[f"matrix {method} {stream}"].result()
    patch_list = yaml.safe_load(split_emitted(text)[0])
    targets = {(p["target"]["kind"], p["target"]["name"]) for p in patch_list}
    assert targets == {("Deployment", f"astro-agent-{name}") for name in
                       ("dag-processor", "triggerer", "worker-default-worker", "worker-gpu-worker")}
    assert all(not isinstance(yaml.safe_load(p["patch"]), list) for p in patch_list), "strategic merge patches"


@pytest.mark.parametrize("case", SUCCEEDING, ids=[c.name for c in SUCCEEDING])
def test_patches_reproduce_every_golden_case(proofs: dict[str, Future[str]], case: Case) -> None:
    """The same proof on every golden case that renders (Lists, CronJobs, repairs, --overwrite, CRLF, ...)."""
    proofs[case.name].result()


def test_cases_to_prove_exist() -> None:
    """Guard: the golden cases above were found."""
    assert len(SUCCEEDING) >= 10


DUPLICATES = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: astro-agent-triggerer
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: busybox
      - name: triggerer
        image: agent
        env:
        - name: OPENLINEAGE_URL
          value: https://old.example
        - name: TZ
          value: UTC
        - name: OPENLINEAGE_URL
          value: https://older.example
"""


def test_duplicate_names_fall_back_to_guarded_json_patches(kubectl: Path, tmp_path: Path) -> None:
    """Two env entries with one name: RFC 6902 operations with test guards, which kustomize applies alike."""
    args = ["--api-key-secret", "team-key", "--url", "https://o11y.example", "--namespace", "ns", "--overwrite"]
    text = prove(kubectl, tmp_path / "proof", args, DUPLICATES, clean_env({}))
    ops = yaml.safe_load(yaml.safe_load(split_emitted(text)[0])[0]["patch"])
    assert isinstance(ops, list)
    tests = [op for op in ops if op["op"] == "test"]
    assert {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "triggerer"} in tests
    assert ops[: len(tests)] == tests, "every guard comes before the changes"
    moved = DUPLICATES.replace(b"- name: sidecar\n        image: busybox\n      ", b"").replace(
        b"        - name: OPENLINEAGE_URL\n          value: https://older.example\n",
        b"        - name: OPENLINEAGE_URL\n          value: https://older.example\n      - name: sidecar\n"
        b"        image: busybox\n")
    refused = kustomize_build(kubectl, tmp_path / "moved", moved, text)
    assert refused.returncode != 0, "a chart that moved the container must make kustomize fail"
    assert "test" in refused.stderr.lower()


UPGRADED_WORKER = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: astro-agent-worker-default-worker
spec:
  template:
    metadata:
      labels: {app: astro-agent, component: worker}
    spec:
      containers:
      - name: new-sidecar
        image: busybox
      - name: agent
        image: agent:next
        env:
        - name: ADDED_BY_THE_NEW_CHART
          value: "1"
        - name: OPENLINEAGE_URL
          value: https://o11y.astronomer.io
        - name: OPENLINEAGE_NAMESPACE
          value: ultraviolet-corona-6870
"""


def test_strategic_merge_patches_survive_a_chart_upgrade(kubectl: Path, tmp_path: Path) -> None:
    """Patches made from one chart version, applied to a worker whose containers and env changed since."""
    args = ["--api-key-secret", "team-openlineage-key", "--namespace", NAMESPACE]
    emitted = olrender([*args, "--emit-kustomize-patches"], (STREAMS / "helm3.yaml").read_bytes(), clean_env({}))
    assert emitted.returncode == 0, emitted.stderr.decode()
    patch_list, _ = split_emitted(emitted.stdout.decode())
    worker = [p for p in yaml.safe_load(patch_list) if p["target"]["name"] == "astro-agent-worker-default-worker"]
    built = kustomize_build(kubectl, tmp_path, UPGRADED_WORKER, yaml.safe_dump(worker))
    assert built.returncode == 0, built.stderr
    (obj,) = decode(kubectl, built.stdout, tmp_path).values()
    containers = {c["name"]: c for c in obj["spec"]["template"]["spec"]["containers"]}
    assert containers["new-sidecar"] == {"name": "new-sidecar", "image": "busybox"}
    env = {entry["name"]: entry for entry in containers["agent"]["env"]}
    assert env["OPENLINEAGE_API_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "team-openlineage-key", "key": "api-key"}}
    assert env["ADDED_BY_THE_NEW_CHART"] == {"name": "ADDED_BY_THE_NEW_CHART", "value": "1"}
    assert len(containers["agent"]["env"]) == len(env), "no entry twice"
    checked = olrender(["--check"], built.stdout.encode(), clean_env({}))
    assert checked.returncode == 0, checked.stderr.decode()


# Strings a YAML 1.1 resolver (PyYAML's or Kubernetes') reads as something else when written plain.
AMBIGUOUS = ["y", "N", "yes", "off", "true", "null", "~", "1e3", "0o17", "08", "+.5", "12:30", "0x1F", "=",
             "-", "- x", "a: b", "a #b", "*x", "&a", "!t", "%p", "@x", "'q'", '"d"', "[x]", "{x}", "", " x"]


def test_patch_values_are_read_back_as_written(kubectl: Path, tmp_path: Path) -> None:
    """Ambiguous strings written by the compiler reach kustomize's output as the same strings, as kubectl decodes."""
    before = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "values"}, "data": {"kept": "x"}}
    after = {**before, "data": {"kept": "x", **{f"v{i}": value for i, value in enumerate(AMBIGUOUS)}}}
    patch = kustomize.object_patch(0, before, after, [])
    built = kustomize_build(kubectl, tmp_path, yaml.safe_dump(before).encode(), edit.document([patch]))
    assert built.returncode == 0, built.stderr
    (obj,) = decode(kubectl, built.stdout, tmp_path).values()
    assert obj["data"] == after["data"]


# ----------------------------------------------------------------------------- the compiler, without kustomize


def container(env: list[dict[str, Any]]) -> dict[str, Any]:
    """A Deployment whose second container has env."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n.s"},
            "spec": {"template": {"spec": {"containers": [{"name": "side"}, {"name": "main", "env": env}]}}}}


def test_appended_entries_name_nothing_else() -> None:
    """An append names only the added entry and the container it goes into: nothing the chart may drop later."""
    before = container([{"name": "A", "value": "a"}, {"name": "B", "value": "b"}])
    ops = [{"op": "add", "path": "/spec/template/spec/containers/1/env/-", "value": {"name": "C", "value": "c"}},
           {"op": "add", "path": "/spec/template/spec/containers/1/env/-", "value": {"name": "D", "value": "d"}}]
    (patch,) = kustomize.document_patches(0, before, ops)
    assert patch["target"] == {"group": "apps", "version": "v1", "kind": "Deployment", "name": "d",
                               "namespace": r"n\.s"}
    assert yaml.safe_load(patch["patch"]) == {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n.s"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "main", "env": [{"name": "C", "value": "c"}, {"name": "D", "value": "d"}]},
        ]}}},
    }
    reordered = container([{"name": "B", "value": "b"}, {"name": "Z", "value": "z"}])
    (again,) = kustomize.document_patches(0, reordered, ops)
    assert again["patch"] == patch["patch"], "what a patch adds does not depend on the chart's entries"


def test_replacements_and_removals_are_merges_and_deletions() -> None:
    """A replaced entry loses its old fields (null); a removed one is a ``$patch: delete``; others are not named."""
    before = container([{"name": "A", "value": "a"}, {"name": "B", "value": "b"}, {"name": "C", "value": "c"}])
    ops = [{"op": "replace", "path": "/spec/template/spec/containers/1/env/0",
            "value": {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}},
           {"op": "remove", "path": "/spec/template/spec/containers/1/env/1"}]
    (patch,) = kustomize.document_patches(0, before, ops)
    (main,) = yaml.safe_load(patch["patch"])["spec"]["template"]["spec"]["containers"]
    env = main["env"]
    assert env == [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}, "value": None},
                   {"name": "B", "$patch": "delete"}]


def test_a_list_without_a_merge_key_falls_back_to_json_patches() -> None:
    """A changed list kustomize would replace whole (here imagePullSecrets) becomes guarded RFC 6902 operations."""
    before = container([])
    before["spec"]["template"]["spec"]["imagePullSecrets"] = [{"name": "a"}]
    ops = [{"op": "add", "path": "/spec/template/spec/imagePullSecrets/-", "value": {"name": "b"}}]
    (patch,) = kustomize.document_patches(0, before, ops)
    assert yaml.safe_load(patch["patch"]) == ops


def test_a_changed_object_without_a_name_is_an_error() -> None:
    """kustomize selects objects by name: a changed one without metadata.name is refused, naming the document."""
    before = container([])
    del before["metadata"]["name"]
    with pytest.raises(InputError, match=r"document 7 \(Deployment/\?\).*metadata\.name"):
        kustomize.document_patches(7, before, [{"op": "add", "path": "/spec/replicas", "value": 1}])


def test_list_items_get_patches_of_their_own() -> None:
    """kustomize takes a List's items as objects: one patch per changed item, paths relative to it."""
    item = container([{"name": "A", "value": "a"}])
    doc = {"apiVersion": "v1", "kind": "List", "items": [{**copy.deepcopy(item), "metadata": {"name": "x"}}, item]}
    ops = [{"op": "add", "path": "/items/1/spec/template/spec/containers/1/env/-", "value": {"name": "B"}}]
    (patch,) = kustomize.document_patches(3, doc, ops)
    assert patch["target"]["name"] == "d"


# ----------------------------------------------------------------------------- the command line


def test_generated_secret_is_printed_once_and_stderr_stays_clean() -> None:
    """The secret method's Secret (with the key, as the user must apply it) follows the list; nothing else has it."""
    proc = olrender(["--namespace", NAMESPACE, "--emit-kustomize-patches", "--debug"],
                    (STREAMS / "helm4.yaml").read_bytes(), clean_env({"OPENLINEAGE_API_KEY": KEY}))
    assert proc.returncode == 0, proc.stderr.decode()
    patch_list, generated = split_emitted(proc.stdout.decode())
    encoded = base64.b64encode(KEY.encode()).decode()
    assert KEY not in proc.stdout.decode() and encoded not in patch_list
    (secret,) = yaml.safe_load_all(generated)
    assert secret["kind"] == "Secret" and secret["data"] == {"api-key": encoded}
    assert HELM4_FILENAME not in generated
    assert "encrypt it" in generated
    stderr = proc.stderr.decode()
    assert KEY not in stderr and encoded not in stderr


def test_forbid_plaintext_refuses_the_secret_method() -> None:
    """With --forbid-plaintext no Secret holding the key is ever printed: the secret method is refused (exit 2)."""
    proc = olrender(["--emit-kustomize-patches", "--forbid-plaintext"], (STREAMS / "helm3.yaml").read_bytes(),
                    clean_env({"OPENLINEAGE_API_KEY": KEY}))
    assert proc.returncode == 2 and proc.stdout == b""
    assert "--forbid-plaintext refuses the secret method" in proc.stderr.decode()


def test_mode_is_exclusive() -> None:
    """--emit-kustomize-patches is a mode like --emit-patches: combining them is a usage error."""
    proc = olrender(["--emit-kustomize-patches", "--emit-patches", "--api-key-secret", "k"],
                    (STREAMS / "helm3.yaml").read_bytes(), clean_env({}))
    assert proc.returncode == 2 and proc.stdout == b""
    assert "--emit-patches and --emit-kustomize-patches cannot be combined" in proc.stderr.decode()


def test_empty_stream_is_refused() -> None:
    """An empty stream (what a failed helm template sends without pipefail) is exit 3, not an empty list."""
    proc = olrender(["--api-key-secret", "k", "--emit-kustomize-patches"], b"", clean_env({}))
    assert proc.returncode == 3 and proc.stdout == b""
    assert "stream on stdin is empty" in proc.stderr.decode()


def test_kustomize_refuses_an_object_twice(kubectl: Path, tmp_path: Path) -> None:
    """What docs/flux.md says of a hook and a template of one name: kustomize cannot build such a stream."""
    doc = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\n"
    built = kustomize_build(kubectl, tmp_path, doc + b"---\n" + doc, "[]\n")
    assert built.returncode != 0 and "already registered id" in built.stderr


def test_kubectl_kustomize_cannot_run_exec_functions(kubectl: Path, tmp_path: Path) -> None:
    """Why no KRM-function mode is offered: ``kubectl kustomize`` has no --enable-exec (kubernetes/kubectl#1498)."""
    (tmp_path / "kustomization.yaml").write_text("resources: []\n")
    proc = subprocess.run([str(kubectl), "kustomize", "--enable-exec", str(tmp_path)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode != 0 and "unknown flag: --enable-exec" in proc.stderr


def test_emitted_patches_are_read_back_and_applied_before_printing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Patches that would not give the verified documents are exit 3 naming the document, before any output."""
    from postrenderer import program as pipeline
    from tests.test_pipeline import SETTINGS

    data = (STREAMS / "helm3.yaml").read_bytes()
    result = pipeline.program(data, SETTINGS, "emit_kustomize_patches")
    assert result.failure is None and result.parts, "the real patches pass the check"
    emitted = kustomize.patches
    monkeypatch.setattr(kustomize, "patches", lambda result: emitted(result)[:-1])
    failed = pipeline.program(data, SETTINGS, "emit_kustomize_patches")
    assert isinstance(failed.failure, InputError) and failed.parts == []
    assert re.match(r"document 16 \(Deployment/astro-agent-worker-gpu-worker\): the kustomize patches would not "
                    r"give what olrender renders: kustomize would read /spec/template/\S+ so that it ",
                    str(failed.failure))


def test_the_check_applies_each_patch_kind_as_kustomize_does() -> None:
    """Merges by name (replaced entries, nulls, deletions) and guarded RFC 6902 operations give the planned object."""
    before = container([{"name": "A", "value": "a"}, {"name": "B", "value": "b"}, {"name": "C", "value": "c"}])
    before["spec"]["template"]["spec"]["imagePullSecrets"] = [{"name": "a"}]
    for ops in (
        [{"op": "replace", "path": "/spec/template/spec/containers/1/env/0",
          "value": {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}},
         {"op": "remove", "path": "/spec/template/spec/containers/1/env/1"},
         {"op": "add", "path": "/spec/template/spec/containers/1/env/-", "value": {"name": "D", "value": "d"}}],
        [{"op": "add", "path": "/spec/template/spec/imagePullSecrets/-", "value": {"name": "b"}}],
    ):
        after = jsonpatch.apply_patch(before, ops)
        (patch,) = kustomize.document_patches(0, before, ops, after)
        applied = (jsonpatch.apply_patch(before, yaml.safe_load(patch["patch"])) if patch["patch"].startswith("-")
                   else kustomize._strategic(before, yaml.safe_load(patch["patch"])))
        assert kustomize.merge_order(applied) == kustomize.merge_order(after)
        assert kustomize._selects(patch["target"], before)
