"""Properties that hold for every manifest stream and every configuration (hypothesis).

Generated streams mix agent components (every workload kind, found by labels
or by name, one to three containers with random env entries) with documents
olrender must leave alone (ConfigMaps with awkward text, Services, other
workloads, Secrets), in Helm 3, Helm 4 or plain form, LF or CRLF. For each:

- the output parses, and every document in it is a mapping;
- documents that are not components come out byte for byte;
- running olrender on its own output changes nothing;
- the ``--emit-patches`` operations applied to the input documents give the output;
- every component's target container ends with exactly one ``OPENLINEAGE_API_KEY``, no other container has one.

The budget (PROPERTY_SETTINGS) is fixed and derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import Any

import jsonpatch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postrenderer import program as pipeline
from postrenderer.config import settings as config
from postrenderer.read import stream
from postrenderer.read.workloads import POD_TEMPLATE_PATHS
from postrenderer.write import edit
from postrenderer.write.report import patches
from tests import programs
from tests.budget import examples
from tests.manifests import with_template

MAX_EXAMPLES = examples(150)
PROPERTY_SETTINGS = settings(
    max_examples=MAX_EXAMPLES, deadline=2000, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
KEY = "sk-test-properties-0001"
ROLES = {"worker": "{release}-worker-{pool}", "dag-processor": "{release}-dag-processor",
         "triggerer": "{release}-triggerer"}
WORKLOAD_KINDS = sorted(POD_TEMPLATE_PATHS)

def word(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    """A short identifier: one character of first, then up to max_size of rest."""
    return st.builds(str.__add__, st.sampled_from(first), st.text(rest, max_size=max_size))


LOWER, UPPER, DIGITS = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
names = word(LOWER, LOWER + DIGITS, 8)
env_names_strategy = word(UPPER, UPPER + DIGITS + "_", 10)
data_keys = word(LOWER, LOWER + ".", 8)
# text that YAML must quote or escape: quotes, colons, hashes, unicode, leading spaces, line breaks
awkward = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t:#'\"-{}[]&*!|>%@`"),
                  max_size=40)


@dataclass
class Generated:
    """A generated stream and what the test knows about it."""

    data: bytes
    components: set[int] = field(default_factory=set)  # 1-based document indices


def pod_spec(draw: Any, role: str | None) -> dict[str, Any]:
    """A pod spec with one to three containers and random env entries (never OpenLineage ones)."""
    count = draw(st.integers(1, 3))
    container_names = draw(st.lists(st.sampled_from([role or "main", "agent", "sidecar", "vector-logging-sidecar",
                                                     "dogstatsd", "app"]), min_size=count, max_size=count,
                                     unique=True))
    containers = []
    for name in container_names:
        container: dict[str, Any] = {"name": name, "image": f"registry.example/{name}:1"}
        env = draw(st.lists(st.tuples(env_names_strategy, awkward), max_size=3, unique_by=lambda pair: pair[0]))
        if env or draw(st.booleans()):
            container["env"] = [{"name": k, "value": v} for k, v in env if not k.startswith("OPENLINEAGE")]
        containers.append(container)
    spec: dict[str, Any] = {"containers": containers}
    if draw(st.booleans()):
        spec["initContainers"] = [{"name": "init", "image": "busybox"}]
    return spec


def workload(draw: Any, kind: str, name: str, labels: dict[str, str], role: str | None) -> dict[str, Any]:
    """A workload of kind whose pod template carries labels."""
    template: dict[str, Any] = {"metadata": {"labels": labels}, "spec": pod_spec(draw, role)}
    if draw(st.booleans()):
        template["metadata"]["annotations"] = {"note": draw(awkward)}
    return with_template({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}}, template)


@st.composite
def streams(draw: Any) -> Generated:
    """A manifest stream as Helm 3, Helm 4 or kubectl would pipe it."""
    fmt = draw(st.sampled_from(["helm3", "helm4", "plain"]))
    release = draw(names)
    parts: list[str] = []
    components: set[int] = set()
    for index in range(1, draw(st.integers(1, 7)) + 1):
        what = draw(st.sampled_from(["component", "component", "configmap", "service", "other-workload", "secret"]))
        if what == "component":
            role = draw(st.sampled_from(sorted(ROLES)))
            name = ROLES[role].format(release=release, pool=draw(names))
            by_labels = draw(st.booleans())
            labels = {"app": "astro-agent", "component": role} if by_labels else {"app": "x"}
            if not by_labels:
                name = ROLES[role].format(release=release, pool=draw(names))
            doc = workload(draw, draw(st.sampled_from(WORKLOAD_KINDS)), name, labels, role)
            components.add(index)
        elif what == "other-workload":
            doc = workload(draw, draw(st.sampled_from(WORKLOAD_KINDS)), f"{release}-web-{index}", {"app": "web"},
                           None)
        elif what == "configmap":
            doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{index}"},
                   "data": draw(st.dictionaries(data_keys, awkward, max_size=4))}
        elif what == "service":
            doc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{index}"},
                   "spec": {"ports": [{"port": draw(st.integers(1, 65535))}]}}
        else:
            doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"other-{index}"},
                   "type": "Opaque", "data": {"token": "c2VjcmV0"}}
        if fmt == "helm4":
            doc["metadata"].setdefault("annotations", {})[stream.HELM4_FILENAME] = f"chart/templates/t{index}.yaml"
        body = yaml.safe_dump(doc, sort_keys=draw(st.booleans()), allow_unicode=draw(st.booleans()),
                              default_flow_style=False, width=draw(st.sampled_from([80, 10_000])))
        if draw(st.booleans()):
            body = "# a comment the template left\n" + body
        header = f"---\n# Source: chart/templates/t{index}.yaml\n" if fmt == "helm3" else "---\n"
        parts.append(header + body)
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return Generated(text.encode(), components)


@st.composite
def configurations(draw: Any) -> config.Settings:
    """Settings read from a generated values file (any method) and the key in the environment."""
    block: dict[str, Any] = {
        key: draw(st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/?=._-", min_size=1,
                          max_size=30))
        for key in draw(st.lists(st.sampled_from(["url", "namespace", "endpoint"]), unique=True))
    }
    method = draw(st.sampled_from(["secret", "existing-secret", "vault", "disabled"]))
    if method == "existing-secret":
        block["apiKeySecret"] = draw(names)
    elif method == "vault":
        block["vault"] = {"addr": "https://vault.example:8200", "role": draw(names),
                          "secretPath": "secret/data/openlineage", "secretField": "key"}
    elif method == "disabled":
        block["enabled"] = False
    values = config.load_values([("values.yaml", edit.document({"openLineage": block}))])  # (quoted as Helm needs)
    settings_, _ = config.resolve(  # (a stream may hold no component)
        {"allow_no_match": True}, values, {"OPENLINEAGE_API_KEY": KEY}, lambda path: "")
    return settings_


def render(data: bytes, settings_: config.Settings) -> pipeline.Result:
    """The whole post-renderer, in process."""
    return programs.render(data, settings_)


@PROPERTY_SETTINGS
@given(streams(), configurations())
def test_output_parses_and_leaves_other_documents_alone(generated: Generated, settings_: config.Settings) -> None:
    """The output is YAML made of mappings, and every non-component document is byte-identical."""
    result = render(generated.data, settings_)
    out = result.output.decode()
    assert all(isinstance(doc, dict) for doc in yaml.safe_load_all(out) if doc is not None)
    before = stream.split(generated.data.decode())
    after = stream.split(out)
    assert len(after) == len(before) + len(result.plan.new_documents)
    for old, new in zip(before, after, strict=False):
        if old.index not in generated.components:
            assert new.text == old.text


@PROPERTY_SETTINGS
@given(streams(), configurations())
def test_second_run_changes_nothing(generated: Generated, settings_: config.Settings) -> None:
    """Running on its own output gives the same bytes."""
    once = render(generated.data, settings_).output
    assert render(once, settings_).output == once


@PROPERTY_SETTINGS
@given(streams(), configurations())
def test_patches_applied_to_the_input_give_the_output(generated: Generated, settings_: config.Settings) -> None:
    """``--emit-patches`` (unredacted) is exactly what rendering does."""
    result = render(generated.data, settings_)
    emitted = patches(result, redact=False)
    before = [yaml.safe_load(s.text) for s in stream.split(generated.data.decode())]
    after = list(yaml.safe_load_all(result.output))
    after = [doc for doc in after if doc is not None]
    expected = copy.deepcopy([doc for doc in before if doc is not None])
    for entry in emitted["documents"]:
        expected[entry["index"] - 1] = jsonpatch.apply_patch(expected[entry["index"] - 1], entry["patch"])
    expected += [added["document"] for added in emitted["added"]]
    assert after == expected


def env_names(container: dict[str, Any]) -> list[str]:
    """The env variable names of a container."""
    return [entry["name"] for entry in container.get("env") or []]


@PROPERTY_SETTINGS
@given(streams(), configurations())
def test_every_component_gets_exactly_one_key(generated: Generated, settings_: config.Settings) -> None:
    """Each component's target container has OPENLINEAGE_API_KEY once; no other container has it.

    With ``openLineage.enabled: false`` it is OPENLINEAGE_DISABLED instead, and no container has the key.
    """
    variable = "OPENLINEAGE_API_KEY" if settings_.openlineage.enabled else "OPENLINEAGE_DISABLED"
    result = render(generated.data, settings_)
    targets = {(r.index, r.container) for r in result.plan.components}
    assert {index for index, _ in targets} == generated.components
    docs = [yaml.safe_load(s.text) for s in stream.split(result.output.decode())]
    for index, doc in enumerate(docs, start=1):
        path = POD_TEMPLATE_PATHS.get(doc.get("kind"), None) if isinstance(doc, dict) else None
        if path is None:
            continue
        template = doc
        for part in path:
            template = template[part]
        for container in template["spec"]["containers"]:
            wanted = 1 if (index, container["name"]) in targets else 0
            assert env_names(container).count(variable) == wanted
            if variable != "OPENLINEAGE_API_KEY":
                assert "OPENLINEAGE_API_KEY" not in env_names(container)


def depth_of(value: Any) -> int:
    """Nesting levels of a parsed value (a scalar is 0)."""
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


@st.composite
def nested_documents(draw: Any) -> str:
    """A document nested close to MAX_DEPTH, in block, flow or mixed style."""
    value: Any = draw(st.sampled_from(["x", 1, None]))
    shape = random.Random(draw(st.integers(0, 2**32)))  # one draw for the whole shape keeps generation fast
    for _ in range(draw(st.integers(stream.MAX_DEPTH - 15, stream.MAX_DEPTH + 5))):
        value = {shape.choice(["a", "key", "x.y"]): value} if shape.random() < 0.5 else [value]
    flow = draw(st.sampled_from([False, True, None]))
    return yaml.dump({"kind": "ConfigMap", "data": value}, Dumper=yaml.CSafeDumper, default_flow_style=flow,
                     width=draw(st.sampled_from([20, 80, 10_000])), indent=draw(st.sampled_from([2, 4])))


@settings(max_examples=MAX_EXAMPLES, deadline=2000, derandomize=True, database=None)
@given(nested_documents())
def test_depth_limit_is_exact(text: str) -> None:
    """The cheap nesting pre-check never lets a document deeper than MAX_DEPTH through, nor refuses a shallower one."""
    depth = depth_of(yaml.load(text, Loader=yaml.CSafeLoader))
    try:
        stream.load(text)
    except stream.TooLarge:
        assert depth > stream.MAX_DEPTH
    else:
        assert depth <= stream.MAX_DEPTH
