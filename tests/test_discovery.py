"""Tests for postrenderer.read.discovery: which workloads are components, which container gets the key."""

from __future__ import annotations

from typing import Any

import pytest

from postrenderer.errors import ConfigError, InputError
from postrenderer.read.discovery import ComponentRules, find_component, parse_selector
from postrenderer.read.workloads import iter_workloads


def deployment(name: str, pod_labels: dict[str, str] | None = None, containers: Any = None,
               annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """A Deployment with the given pod labels and containers."""
    template: dict[str, Any] = {"metadata": {"labels": pod_labels or {}}}
    if annotations:
        template["metadata"]["annotations"] = annotations
    template["spec"] = {"containers": containers if containers is not None else [
        {"name": "agent"}, {"name": "vector-logging-sidecar"}]}
    return {"kind": "Deployment", "metadata": {"name": name}, "spec": {"template": template}}


def find(doc: dict[str, Any], rules: ComponentRules | None = None) -> Any:
    """Classify the single workload in doc."""
    (workload,) = iter_workloads(1, doc)
    return find_component(workload, rules or ComponentRules())


@pytest.mark.parametrize("role", ["worker", "dag-processor", "triggerer"])
def test_labels_make_a_component(role: str) -> None:
    """app=astro-agent plus a component label selects the workload."""
    component, reason = find(deployment("anything", {"app": "astro-agent", "component": role}))
    assert component.role == role
    assert "pod labels match app=astro-agent" in reason


@pytest.mark.parametrize(
    ("name", "role"),
    [("astro-agent-worker-default-worker", "worker"), ("p-dag-processor", "dag-processor"),
     ("p-triggerer", "triggerer")],
)
def test_names_are_the_fallback(name: str, role: str) -> None:
    """Without labels, the chart's name patterns select components."""
    component, reason = find(deployment(name))
    assert component.role == role
    ending = "-worker-<name>" if role == "worker" else f"-{role}"
    assert reason == f"name {name} ends in {ending}"


@pytest.mark.parametrize(
    "doc",
    [
        deployment("astro-agent-sentinel", {"app": "astro-agent", "component": "sentinel"}),
        deployment("web", {"app": "web"}),
        deployment("x", {"component": "worker"}),  # no app=astro-agent
    ],
)
def test_other_workloads_are_left_alone(doc: dict[str, Any]) -> None:
    """Sentinel and unrelated workloads are not components, and the reason says what was looked for."""
    component, reason = find(doc)
    assert component is None
    assert reason.startswith("no match for labels app=astro-agent")


def test_hooks_are_never_components() -> None:
    """A Helm hook is left alone even if it looks like a component."""
    doc = deployment("x-triggerer", {"app": "astro-agent", "component": "triggerer"})
    doc["metadata"]["annotations"] = {"helm.sh/hook": "pre-install"}
    component, reason = find(doc)
    assert component is None and "hook" in reason


def test_container_rule_order() -> None:
    """--container, then the default-container annotation, then the role name, then the first."""
    labels = {"app": "astro-agent", "component": "worker"}
    containers = [{"name": "sidecar"}, {"name": "worker"}, {"name": "main"}]
    assert find(deployment("w", labels, containers))[0].container_name == "worker"
    annotated = deployment("w", labels, containers, {"kubectl.kubernetes.io/default-container": "main"})
    assert find(annotated)[0].container_name == "main"
    rules = ComponentRules(container="sidecar")
    assert find(annotated, rules)[0].container_name == "sidecar"
    first = deployment("w", labels, [{"name": "a"}, {"name": "b"}])
    component = find(first)[0]
    assert (component.container_name, component.container_reason) == ("a", "first container")


def test_unknown_container_is_a_config_error() -> None:
    """--container naming no container fails and lists the containers there are."""
    doc = deployment("w", {"app": "astro-agent", "component": "worker"})
    with pytest.raises(ConfigError, match=r"--container nope: document 1 \(Deployment/w\) .*agent, vector"):
        find(doc, ComponentRules(container="nope"))


@pytest.mark.parametrize(
    ("containers", "message"),
    [(None, r"must be a non-empty list of containers \(it is missing\)"), ({"name": "a"}, r"got a mapping"),
     ("agent", r"got a string"), ([], r"got an empty list"),
     ([{"image": "x"}], "has no name"), ([{"name": "a", "env": {"A": "1"}}], "env must be a list")],
)
def test_malformed_containers_name_the_document(containers: Any, message: str) -> None:
    """A component whose containers are malformed is an input error naming the document."""
    doc = deployment("w", {"app": "astro-agent", "component": "worker"}, containers)
    if containers is None:
        del doc["spec"]["template"]["spec"]["containers"]
    with pytest.raises(InputError, match=message):
        find(doc)


def test_selector_override_replaces_defaults() -> None:
    """A custom selector is the only rule; names no longer match."""
    rules = ComponentRules.build("team=data,tier in (batch,stream)", None, None)
    assert find(deployment("x", {"team": "data", "tier": "batch"}), rules)[0] is not None
    assert find(deployment("x-triggerer"), rules)[0] is None


def test_name_override() -> None:
    """A custom name pattern is the only rule."""
    rules = ComponentRules.build(None, r"^lineage-", None)
    assert find(deployment("lineage-job"), rules)[0] is not None
    assert find(deployment("x-triggerer", {"app": "astro-agent", "component": "triggerer"}), rules)[0] is None


@pytest.mark.parametrize(
    ("text", "labels", "matches"),
    [
        ("a=b", {"a": "b"}, True),
        ("a==b", {"a": "c"}, False),
        ("a!=b", {}, True),
        ("a in (b, c)", {"a": "c"}, True),
        ("a notin (b,c)", {"a": "c"}, False),
        ("a", {"a": ""}, True),
        ("!a", {"a": ""}, False),
        ("a=b,!c", {"a": "b"}, True),
    ],
)
def test_selector_syntax(text: str, labels: dict[str, str], matches: bool) -> None:
    """The Kubernetes label selector forms behave as kubectl's."""
    assert all(r.matches(labels) for r in parse_selector(text)) is matches


def test_the_default_rules_are_the_default_selector_as_parsed() -> None:
    """The default requirements, written out as data, are what parse_selector makes of DEFAULT_SELECTOR."""
    from postrenderer.read import discovery

    def terms(requirements: tuple[discovery.Requirement, ...]) -> list[tuple[str, str, frozenset[str]]]:
        return [(r.key, r.op, r.values) for r in requirements]

    assert terms(discovery._DEFAULT_REQUIREMENTS) == terms(parse_selector(discovery.DEFAULT_SELECTOR))
    assert ComponentRules().selector is discovery._DEFAULT_REQUIREMENTS


@pytest.mark.parametrize("text", ["", "a in b", "=b", "a=b,,"])
def test_bad_selectors_are_config_errors(text: str) -> None:
    """A selector that cannot be parsed is reported with the option name."""
    with pytest.raises(ConfigError, match="--component-selector"):
        parse_selector(text)


def test_bad_name_regex() -> None:
    """An invalid regular expression is a config error."""
    with pytest.raises(ConfigError, match="--component-name"):
        ComponentRules.build(None, "(", None)
