"""Tests for postrenderer.workloads: one table of pod-template locations."""

from __future__ import annotations

import pytest

from postrenderer.workloads import POD_TEMPLATE_PATHS, iter_workloads, pointer


def holder(kind: str) -> dict:
    """A minimal object of the given kind with a pod template where that kind keeps it."""
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}
    doc: dict = {"kind": kind, "metadata": {"name": "x", "namespace": "ns"}}
    path = POD_TEMPLATE_PATHS[kind]
    if not path:
        doc["metadata"]["labels"] = template["metadata"]["labels"]
        doc["spec"] = template["spec"]
        return doc
    node = doc
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = template
    return doc


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
