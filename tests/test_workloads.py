"""Tests for postrenderer.read.workloads: one table of pod-template locations."""

from __future__ import annotations

import pytest

from postrenderer.read.workloads import POD_TEMPLATE_PATHS, iter_workloads, kind_may_hold_workloads, outline, pointer
from tests.manifests import with_template


def holder(kind: str) -> dict:
    """A minimal object of the given kind with a pod template where that kind keeps it."""
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}
    return with_template({"kind": kind, "metadata": {"name": "x", "namespace": "ns"}}, template)


@pytest.mark.parametrize("kind", sorted(POD_TEMPLATE_PATHS))
def test_every_kind_yields_its_template(kind: str) -> None:
    """Each kind in the table is found, with the right template path."""
    (workload,) = iter_workloads(4, holder(kind))
    assert workload.kind == kind
    assert workload.template_path == POD_TEMPLATE_PATHS[kind]
    assert workload.template["spec"]["containers"] == [{"name": "c"}]
    assert (workload.name, workload.namespace, workload.doc_index) == ("x", "ns", 4)


def test_cronjob_path() -> None:
    """CronJob templates sit under the job template."""
    (workload,) = iter_workloads(1, holder("CronJob"))
    assert pointer(*workload.pod_spec_path) == "/spec/jobTemplate/spec/template/spec"


def test_list_items_are_addressed_by_index() -> None:
    """Items of a List are found with their position in the path."""
    doc = {"kind": "List", "items": [{"kind": "Service"}, holder("Deployment")]}
    (workload,) = iter_workloads(2, doc)
    assert pointer(*workload.template_path) == "/items/1/spec/template"


@pytest.mark.parametrize("doc", [None, "text", [1, 2], {"kind": "Service"}, {"kind": 3}])
def test_non_workloads_yield_nothing(doc: object) -> None:
    """Scalars, sequences and other kinds hold no workload."""
    assert list(iter_workloads(1, doc)) == []


def test_pointer_escapes() -> None:
    """JSON Pointer escaping of ``~`` and ``/``."""
    assert pointer("metadata", "annotations", "checksum/a~b") == "/metadata/annotations/checksum~1a~0b"


def test_hook_detection() -> None:
    """Objects annotated as Helm hooks say so."""
    doc = holder("Job")
    doc["metadata"]["annotations"] = {"helm.sh/hook": "post-install"}
    (workload,) = iter_workloads(1, doc)
    assert workload.is_hook


def seen_by_discovery(doc: object) -> list[tuple[object, ...]]:
    """Everything of a document's workloads that discovery reads."""
    return [(w.doc_index, w.base, w.kind, w.name, w.namespace, w.metadata, w.template_path,
             (w.template.get("metadata") or {}).get("labels"), w.is_hook) for w in iter_workloads(1, doc)]


@pytest.mark.parametrize("kind", sorted(POD_TEMPLATE_PATHS))
def test_outline_keeps_what_discovery_reads(kind: str) -> None:
    """Kind, metadata and the template's labels survive; the pod spec and template annotations do not."""
    doc = holder(kind)
    doc["metadata"]["annotations"] = {"helm.sh/hook": "test"}
    small = outline(doc)
    assert seen_by_discovery(small) == seen_by_discovery(doc)
    assert "containers" not in str(small)


def test_outline_of_a_list_keeps_item_positions() -> None:
    """Items keep their index; items that are not mappings stay placeholders."""
    doc = {"kind": "List", "items": ["junk", {"kind": "ConfigMap"}, holder("Deployment")]}
    small = outline(doc)
    assert seen_by_discovery(small) == seen_by_discovery(doc)
    assert small["items"][0] is None
    assert [w.base for w in iter_workloads(1, small)] == [("items", 2)]


def test_outline_of_odd_shapes() -> None:
    """A template that is missing or not a mapping outlines to the same (empty) template."""
    for doc in ({"kind": "Deployment"}, {"kind": "Deployment", "spec": {"template": "x"}}, {"kind": 3}, [1]):
        assert seen_by_discovery(outline(doc)) == seen_by_discovery(doc)


def test_kind_may_hold_workloads() -> None:
    """Workload kinds and lists may; anything else may not."""
    assert kind_may_hold_workloads("CronJob") and kind_may_hold_workloads("DeploymentList")
    assert not kind_may_hold_workloads("ConfigMap")


def test_the_one_container_walker_covers_init_containers_lists_and_skips_malformed() -> None:
    from postrenderer.read.workloads import containers, env_entries, workload_containers

    pod = {"initContainers": [{"name": "init"}, "junk"], "containers": [{"name": "main", "env": [{"name": "A"}, 3]}]}
    assert [c["name"] for c in containers(pod)] == ["init", "main"]
    assert [c["name"] for c in containers(pod, ("initContainers",))] == ["init"]
    assert list(containers("not a spec")) == []
    assert list(env_entries(pod["containers"][0])) == [{"name": "A"}]
    doc = {"kind": "List", "items": [{"kind": "CronJob", "metadata": {"name": "c"},
                                      "spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}}}]}
    found = [(w.label, c["name"]) for w, c in workload_containers(0, doc)]
    assert found == [("CronJob/c", "init"), ("CronJob/c", "main")]
