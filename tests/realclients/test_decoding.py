"""Kubernetes reads exactly what olrender meant: the real kubectl decoder as the oracle.

For every document olrender changes, kubectl's decoding of the output equals
kubectl's decoding of the input with exactly the operations of
``--emit-patches`` applied (by jsonpatch, to kubectl's JSON); every document
olrender does not change is byte-identical; every added document decodes to
what ``--emit-patches`` lists; and olrender's own reading of each input
document equals kubectl's. The corpus holds scalars Kubernetes and PyYAML read
differently (``y``, ``12:30``, ``1e3``, ``0o17``, ``08``, ``=``, ``<<``, …),
plain and quoted, in flow and block collections, block scalars, comments and
anchors off the edited path, for every method; a hypothesis property generates
more. Documents are batched so that kubectl runs a few times per test.

kubectl refuses ``.inf`` and ``.nan`` unquoted (no JSON number holds them), so
they appear only quoted here: no stream Kubernetes accepts holds them plain.
"""

from __future__ import annotations

import os
from typing import Any

import jsonpatch
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postrenderer.config import settings as config
from postrenderer.errors import InputError
from postrenderer.read import stream
from postrenderer.write import report
from tests import programs
from tests.realclients.decoder import KUBECTL_TOOL, as_json, decode, normalise
from tests.tools.pytest_realtools import RealTool

KEY = "sk-test-decoding-0001"
URL = "https://o11y.astronomer.io"
NAMESPACE = "ultraviolet-corona-6870"
VAULT = {"method": "vault", "vault_addr": "https://vault.example.com:8200", "vault_role": "astro-agent",
         "vault_secret_path": "secret/data/openlineage/api-key", "vault_secret_field": "key"}
METHODS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {  # name -> (options, values)
    "secret": ({}, {}),
    "existing-secret": ({"api_key_secret": "team-openlineage-key"}, {}),
    "vault": (VAULT, {}),
    "vault-config-file": ({**VAULT, "kube_version": "1.33"}, {}),
    "vault-1.30": ({**VAULT, "kube_version": "1.30"}, {}),
    "disabled": ({}, {"openLineage": {"enabled": False}}),
    "external-secret": ({}, {"openLineage": {"externalSecret": {"store": "vault", "key": "openlineage/api-key",
                                                                "property": "key"}}}),
    "vault-injector": ({"method": "vault-injector", "url": URL, "vault_addr": "https://vault.example.com:8200",
                        "vault_role": "astro-agent", "vault_secret_path": "secret/data/openlineage/api-key",
                        "vault_secret_field": "key", "vault_auth_path": "auth/k8s-eu"}, {}),
    # --restart-on-change reloader: Reloader's annotation on the workload's own metadata
    "secret-reloader": ({"restart_on_change": "reloader"}, {}),
    "existing-secret-reloader": ({"api_key_secret": "team-openlineage-key", "restart_on_change": "reloader"}, {}),
    "airflow-connection": ({"method": "airflow-connection", "airflow_conn_id": "openlineage_api_key"}, {}),
}

# plain scalars whose meaning differs between YAML readers, or that look like YAML syntax
HOSTILE = [
    "y", "Y", "n", "N", "yes", "No", "on", "OFF", "true", "False", "yEs", "oN", "1e3", "1E3", "1e+3", "1.5e3", "0o17",
    "0O17", "08", "09", "017", "0x1F", "0X1f", "0b101", "-0b101", "1_000", "1__0", "0x_1F", "+12", ".5", "+.5", "-.5",
    "1.", "0.", "-0", "12:30", "1:20:30", "1:30.5", "2001-12-14", "2001-12-14 21:59:43.10 -5",
    "2001-12-14T21:59:43.10-05:00", "~", "null", "Null", "NULL", "=", "<<", "0", "00", "1_", "99999999999999999999",
    "+0x1F", "0x", "0b", "-", "+", ".", ".e3", "1.e3", "e3", "a=b", "%x", "@x", "`x", "x#y", "x: ", "",
]
QUOTED_ONLY = [".inf", "-.Inf", ".NaN", "!x", "&a", "*a", "|", ">", "#", "[a]", "{a}", "a, b", "- a"]


def plain_ok(value: str) -> bool:
    """Whether value can be written as a plain scalar in block context (libyaml reads it back as is)."""
    try:
        events = list(yaml.parse(f"k: {value}\n", Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return False
    scalars = [e for e in events if isinstance(e, yaml.ScalarEvent)]
    return len(scalars) == 2 and scalars[1].value == value.rstrip(" ") and not scalars[1].style


def spellings(value: str) -> list[str]:
    """The ways to write value: plain (when possible), single- and double-quoted."""
    out = [value] if plain_ok(value) and value == value.strip() else []
    return [*out, "'" + value.replace("'", "''") + "'", '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"']


def configmap(n: int, values: list[str]) -> str:
    """An untouched ConfigMap holding every spelling, in block and flow style."""
    lines = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: spellings-{n}\ndata:\n"]
    lines += [f"  k{i}: {s}   # spelled {i}\n" for i, s in enumerate(values)]
    lines.append("  flow: {" + ", ".join(f"f{i}: {s}" for i, s in enumerate(values) if s[:1] in "'\"") + "}\n")
    return "".join(lines)


def component(n: int, values: list[str], compact: bool) -> str:
    """A worker Deployment whose env, labels, annotations, args and sidecars hold the spellings."""
    c = "      " + ("" if compact else "  ")  # container dashes
    k = c + "  "  # container keys
    e = k + ("" if compact else "  ")  # env dashes
    env = "".join(f"{e}- name: V{i}\n{e}  value: {s}  # keep me\n" for i, s in enumerate(values))
    flow_env = ", ".join(f"{{name: F{i}, value: {s}}}" for i, s in enumerate(values) if s[:1] in "'\"")
    quoted = next((s for s in values if s[:1] in "'\""), "'x'")
    return (
        "apiVersion: apps/v1\n"
        "kind: Deployment   # a component\n"
        "metadata:\n"
        f"  name: agent-{n}-worker-default\n"
        "  labels: {app: astro-agent, component: worker, tier: 'y'}\n"
        "  annotations:\n"
        f"    quoted: {quoted}\n"
        "    time: 12:30\n"
        "spec:\n"
        "  replicas: 0o1\n"
        "  template:\n"
        "    metadata:\n"
        "      labels:\n"
        "        app: astro-agent\n"
        "        component: worker\n"
        "    spec:\n"
        "      securityContext: {runAsUser: 50000, fsGroup: 50000}\n"
        "      containers:\n"
        f"{c}- name: agent\n"
        f"{k}image: \"img:1\"   # pinned\n"
        f"{k}args: [--x, 1e3, 'on']\n"
        f"{k}command:\n"
        f"{e}- sh\n"
        f"{e}- |\n"
        f"{e}  echo 12:30\n"
        f"{e}  exit 0\n"
        f"{k}env:\n"
        f"{env}"
        f"{c}- name: sidecar\n"
        f"{k}image: side:1\n"
        f"{k}resources: &limits {{limits: {{cpu: 1e3m}}}}\n"
        f"{k}env: [{flow_env}]\n"
        f"{c}- name: sidecar2\n"
        f"{k}image: side:2\n"
        f"{k}resources: *limits\n"
    )


def settings_for(method: str, overwrite: bool = False, namespace: str = NAMESPACE,
                 endpoint: str | None = None) -> config.Settings:
    """The method's settings, as the command line would give them (values olrender writes can be hostile too)."""
    options, values = METHODS[method]
    given = {**options, "url": URL, "namespace": namespace, "endpoint": endpoint, "overwrite": overwrite or None}
    resolved, _ = config.resolve(given, values, {"OPENLINEAGE_API_KEY": KEY}, lambda path: "")
    return resolved


class Run:
    """One stream through olrender, and what kubectl must see."""

    def __init__(self, text: str, settings_: config.Settings) -> None:
        self.text = text
        self.result = programs.render(text.encode(), settings_)
        self.patches = report.patches(self.result, redact=False)
        self.before = stream.split(text)
        self.after = stream.split(self.result.output.decode())

    def documents(self) -> tuple[list[str], list[str]]:
        """The input and output documents kubectl decodes (those holding content)."""
        before = [s.text for s in self.before if s.has_document]
        after = [s.text for s in self.after if s.has_document]
        return before, after


def check_runs(kubectl: Any, runs: list[Run]) -> None:
    """Every run's output decodes, through kubectl, to the input plus the patch; all runs in two kubectl calls."""
    inputs: list[str] = []
    outputs: list[str] = []
    spans = []
    for run in runs:
        before, after = run.documents()
        spans.append((len(inputs), len(before), len(outputs), len(after)))
        inputs += before
        outputs += after
    decoded_in, decoded_out = decode(kubectl, inputs), decode(kubectl, outputs)
    assert len(decoded_in) == len(inputs) and len(decoded_out) == len(outputs), "one object per document"
    for run, (i0, n_in, o0, n_out) in zip(runs, spans, strict=True):
        check_run(run, decoded_in[i0 : i0 + n_in], decoded_out[o0 : o0 + n_out])


def check_run(run: Run, decoded_in: list[Any], decoded_out: list[Any]) -> None:
    """One run: changed documents as patched, untouched ones byte-identical, added ones as listed."""
    patched = {entry["index"]: entry["patch"] for entry in run.patches["documents"]}
    content = [s for s in run.before if s.has_document]
    assert len(decoded_out) == len(content) + len(run.patches["added"])
    for position, segment in enumerate(content):
        out_segment = run.after[segment.index - 1]
        ops = patched.get(segment.index)
        if ops is None:
            assert out_segment.text == segment.text, f"document {segment.index} changed although untouched"
            continue
        expected = jsonpatch.apply_patch(decoded_in[position], ops)
        assert decoded_out[position] == normalise(expected), f"document {segment.index} reads differently"
        assert_only_inserted(segment.text, out_segment.text, ops, decoded_in[position])
    for offset, added in enumerate(run.patches["added"]):
        assert decoded_out[len(content) + offset] == normalise(added["document"])


def assert_only_inserted(before: str, after: str, ops: list[dict[str, Any]], doc: Any) -> None:
    """A changed document is its input with text inserted (a replaced or removed value, or a null, may go)."""
    replacing = any(op["op"] in ("replace", "remove") or _exists(doc, op["path"]) for op in ops)
    assert replacing or _subsequence(before, after), "the input's text is not kept whole: more than insertions"


def _exists(doc: Any, path: str) -> bool:
    """Whether a JSON pointer names a member already present (an ``add`` there replaces it: a null, say)."""
    node = doc
    for raw in path.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _subsequence(before: str, after: str) -> bool:
    """Whether every character of before is in after, in order (after = before with insertions)."""
    rest = iter(after)
    return all(char in rest for char in before)


def check_reading(kubectl: Any, texts: list[str]) -> None:
    """olrender reads each document exactly as kubectl does."""
    decoded = decode(kubectl, texts)
    for text, obj in zip(texts, decoded, strict=True):
        assert normalise(as_json(stream.load(text)[0])) == obj, text


@pytest.fixture(scope="module")
def kubectl(real_tool: RealTool) -> Any:
    """The real kubectl 1.37.1."""
    return real_tool(KUBECTL_TOOL)


def corpus() -> list[str]:
    """Every hostile value, spelled every way."""
    values = [spelled for value in HOSTILE for spelled in spellings(value)]
    return values + [spelled for value in QUOTED_ONLY for spelled in spellings(value)[-2:]]


def test_olrender_reads_scalars_as_kubernetes_does(kubectl: Any) -> None:
    """Every spelling in the corpus means the same to olrender as to Kubernetes (plain, quoted, keys, flow)."""
    values = corpus()
    texts = [configmap(0, values)]
    texts += [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: key-{i}\n{s}: as-key\n"
              for i, s in enumerate(values) if s not in ("", "~", "null", "Null", "NULL", "<<", "''", '""')]
    texts.append("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: merge\ndata:\n  <<: {a: 1}\n  b: <<\n")
    check_reading(kubectl, texts)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_changed_documents_read_as_input_plus_patch(kubectl: Any, method: str) -> None:
    """Each method, both sequence styles: kubectl reads the output as the input plus the emitted patch."""
    values = corpus()
    half = len(values) // 2
    docs = [configmap(1, values), component(1, values[:half], compact=True),
            component(2, values[half:], compact=False)]
    text = "".join("---\n" + d for d in docs)
    runs = [Run(text, settings_for(method)), Run(text, settings_for(method, namespace="y", endpoint="1e3")),
            Run(text, settings_for(method, namespace="12:30", endpoint="0o17"))]
    check_runs(kubectl, runs)
    check_reading(kubectl, docs)


def test_overwrite_replaces_only_what_it_must(kubectl: Any) -> None:
    """--overwrite over a chart that rendered other values: still the input plus the patch, as kubectl reads it."""
    old = "- name: OPENLINEAGE_URL\n          value: 'https://old.example'  # old\n        - name: V0\n"
    doc = component(3, ["'y'", "12:30"], compact=True).replace("- name: V0\n", old, 1)
    secret = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: openlineage-api-key-secret\n"
              "stringData: {api-key: old}\ndata:\n  other: eQ==\n")
    run = Run("---\n" + doc + "---\n" + secret, settings_for("secret", overwrite=True))
    assert run.patches["documents"], "the chart's values were replaced"
    check_runs(kubectl, [run])


def test_kind_list_items_are_patched_one_by_one(kubectl: Any) -> None:
    """A List's items come out of kubectl one by one; each reads as its part of the patch says."""
    item = component(4, ["'on'", "0o17"], compact=True)
    inner = "".join("    " + line + "\n" if line else "\n" for line in item.splitlines())
    text = "apiVersion: v1\nkind: List\nitems:\n  -\n" + inner
    run = Run(text, settings_for("existing-secret"))
    (entry,) = run.patches["documents"]
    decoded_in, decoded_out = decode(kubectl, [text]), decode(kubectl, [run.result.output.decode()])
    ops = [{**op, "path": op["path"].removeprefix("/items/0")} for op in entry["patch"]]
    assert all(op["path"].startswith("/items/0/") for op in entry["patch"])
    assert decoded_out[0] == normalise(jsonpatch.apply_patch(decoded_in[0], ops))


def test_anchor_on_the_edited_path_is_refused_with_its_name() -> None:
    """Kubernetes expands anchors: an edit through one would reach the sidecar too, so olrender refuses."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x-worker-a\nspec:\n  containers:\n"
            "    - &main {name: agent, image: i, env: [{name: A, value: 'y'}]}\n    - {<<: *main, name: sidecar}\n")
    with pytest.raises(InputError, match=r"document 1 \(Pod/x-worker-a\) at line 1: .*anchor &main, .*\(line 7\)"):
        programs.render(text.encode(), settings_for("existing-secret"))


@pytest.mark.parametrize(("text", "expected"), [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {sep: =, merge: <<}\n", None),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\ufeffapiVersion: v1\nkind: ConfigMap\n"
     "metadata:\n  name: b\n", None),
])
def test_valid_input_kubectl_accepts_is_accepted(kubectl: Any, text: str, expected: None) -> None:
    """``=`` and ``<<`` values and a byte order mark after ``---`` pass through, as kubectl reads them."""
    settings_ = settings_for("existing-secret")
    settings_.allow_no_match = True
    result = programs.render(text.encode(), settings_)
    assert result.output == text.encode()
    assert len(decode(kubectl, [text])) == text.count("kind:")


VALUE = st.sampled_from(corpus())
ENTRY = st.tuples(st.sampled_from(["A", "B", "OPENLINEAGE_ENDPOINT", "TZ"]), VALUE, st.booleans())


@st.composite
def streams(draw: st.DrawFn) -> str:
    """A stream of generated components and ConfigMaps with hostile values in every style."""
    docs = []
    for n in range(draw(st.integers(min_value=3, max_value=8))):
        values = draw(st.lists(VALUE, min_size=1, max_size=8))
        if draw(st.booleans()):
            docs.append(configmap(100 + n, values))
        docs.append(component(100 + n, values, compact=draw(st.booleans())))
    return "".join("---\n" + d for d in docs)


@settings(max_examples=int(os.environ.get("OLRENDER_DECODING_EXAMPLES", "6")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(streams(), st.sampled_from(sorted(METHODS)), st.sampled_from(HOSTILE[:-1])),
                min_size=4, max_size=6))
def test_generated_streams_read_as_input_plus_patch(real_tool: RealTool, batch: list[tuple[str, str, str]]) -> None:
    """Property: generated streams, any method, hostile values to write: kubectl reads input plus patch."""
    kubectl = real_tool(KUBECTL_TOOL)
    runs = [Run(text, settings_for(method, namespace=value, endpoint=value)) for text, method, value in batch]
    check_runs(kubectl, runs)
