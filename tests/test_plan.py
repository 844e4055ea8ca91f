"""Tests for postrenderer.inject.plan: operations, idempotency, conflicts, redaction."""

from __future__ import annotations

import base64
from typing import Any

import jsonpatch

from postrenderer.config.settings import ApiKey, OpenLineageConfig, Settings
from postrenderer.inject.methods import method_for
from postrenderer.inject.plan import build_plan, describe
from tests.manifests import analysed

KEY = "sk-test-plan-0001"


def worker(env: list[dict[str, Any]] | None = None, namespace: str | None = None) -> dict[str, Any]:
    """A worker Deployment as the chart renders it."""
    container: dict[str, Any] = {"name": "agent", "image": "agent:1"}
    if env is not None:
        container["env"] = env
    meta: dict[str, Any] = {"name": "astro-agent-worker-default-worker"}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
        "spec": {"template": {
            "metadata": {"labels": {"app": "astro-agent", "component": "worker"}},
            "spec": {"containers": [container, {"name": "vector-logging-sidecar"}]}}},
    }


def settings(**kw: Any) -> Settings:
    """Secret-method settings with URL and namespace."""
    overwrite = kw.pop("overwrite", False)
    cfg = OpenLineageConfig(api_key=ApiKey(KEY), url="https://o11y.example", namespace="ns-1", **kw)
    return Settings(openlineage=cfg, overwrite=overwrite)


def plan_for(*docs: Any, s: Settings | None = None) -> Any:
    """Plan for documents numbered from 1."""
    s = s or settings()
    return build_plan(analysed(dict(enumerate(docs, 1)), s.rules), s, method_for(s.openlineage))


def test_missing_env_list_is_created_in_one_operation() -> None:
    """A container without env gets one add of the whole list."""
    plan = plan_for(worker())
    ops = plan.ops[1]
    assert ops[0]["op"] == "add"
    assert ops[0]["path"] == "/spec/template/spec/containers/0/env"
    assert [e["name"] for e in ops[0]["value"]] == ["OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_API_KEY"]
    assert ops[1]["path"] == "/spec/template/metadata/annotations"
    assert list(ops[1]["value"]) == ["checksum/openlineage-api-key"]
    assert len(plan.new_documents) == 1


def test_existing_env_gets_appends_and_sidecars_nothing() -> None:
    """Entries are appended to the main container only."""
    doc = worker([{"name": "A", "value": "1"}])
    plan = plan_for(doc)
    patched = jsonpatch.apply_patch(doc, plan.ops[1])
    containers = patched["spec"]["template"]["spec"]["containers"]
    names = [e["name"] for e in containers[0]["env"]]
    assert names == ["A", "OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_API_KEY"]
    assert containers[1] == {"name": "vector-logging-sidecar"}


def test_applying_the_plan_twice_is_a_no_op() -> None:
    """Planning on patched output yields no operations and no new Secret."""
    doc = worker()
    plan = plan_for(doc)
    patched = jsonpatch.apply_patch(doc, plan.ops[1])
    secret = plan.new_documents[0].doc
    again = plan_for(patched, secret)
    assert again.ops == {} and again.new_documents == [] and again.conflicts == []


def test_identical_chart_entries_are_kept() -> None:
    """An env entry the chart already rendered identically is not duplicated."""
    plan = plan_for(worker([{"name": "OPENLINEAGE_URL", "value": "https://o11y.example"}]))
    added = [op["value"]["name"] for op in plan.ops[1] if op["path"].endswith("/env/-")]
    assert "OPENLINEAGE_URL" not in added
    assert "kept env OPENLINEAGE_URL (already present)" in [str(action) for action in plan.reports[0].actions]


def test_different_value_is_a_conflict_naming_everything() -> None:
    """A different value for the same variable is a conflict naming document, container and variable."""
    plan = plan_for(worker([{"name": "OPENLINEAGE_URL", "value": "https://other"}]))
    (conflict,) = plan.conflicts
    assert "document 1 (Deployment/astro-agent-worker-default-worker), container 'agent'" in conflict
    assert "env OPENLINEAGE_URL is already set (value 'https://other')" in conflict
    assert "--overwrite" in conflict


def test_overwrite_replaces() -> None:
    """--overwrite replaces the conflicting entry in place."""
    doc = worker([{"name": "OPENLINEAGE_URL", "value": "https://other"}])
    plan = plan_for(doc, s=settings(overwrite=True))
    patched = jsonpatch.apply_patch(doc, plan.ops[1])
    env = patched["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "OPENLINEAGE_URL", "value": "https://o11y.example"}
    assert [e["name"] for e in env].count("OPENLINEAGE_URL") == 1


def test_conflict_never_shows_a_literal_key() -> None:
    """A literal OPENLINEAGE_API_KEY value in the chart is described, not printed."""
    plan = plan_for(worker([{"name": "OPENLINEAGE_API_KEY", "value": "sk-literal-in-chart"}]))
    assert "sk-literal-in-chart" not in plan.conflicts[0]
    assert "a literal value (redacted)" in plan.conflicts[0]


def secret(data: dict[str, str], namespace: str | None = None) -> dict[str, Any]:
    """A Secret named like the generated one."""
    meta: dict[str, Any] = {"name": "openlineage-api-key-secret"}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": data}


def test_chart_rendered_identical_secret_is_reused() -> None:
    """The chart's own openlineage-api-key-secret with the same key is not emitted twice."""
    plan = plan_for(worker(), secret({"api-key": base64.b64encode(KEY.encode()).decode()}))
    assert plan.new_documents == [] and plan.conflicts == []


def test_chart_rendered_different_secret_conflicts() -> None:
    """A same-named Secret with another key is a conflict that does not print either key."""
    other = base64.b64encode(b"sk-other").decode()
    plan = plan_for(worker(), secret({"api-key": other}))
    (conflict,) = plan.conflicts
    assert "document 2 (Secret/openlineage-api-key-secret)" in conflict
    assert other not in conflict and "sk-other" not in conflict


def test_overwrite_patches_the_secret() -> None:
    """With --overwrite the existing Secret's data is replaced."""
    doc = secret({"api-key": base64.b64encode(b"sk-other").decode()})
    plan = plan_for(worker(), doc, s=settings(overwrite=True))
    patched = jsonpatch.apply_patch(doc, plan.ops[2])
    assert base64.b64decode(patched["data"]["api-key"]).decode() == KEY


def test_one_secret_per_namespace() -> None:
    """Components in two namespaces get a Secret in each."""
    plan = plan_for(worker(namespace="a"), worker(namespace="b"))
    assert [d.doc["metadata"]["namespace"] for d in plan.new_documents] == ["a", "b"]


def test_reports_cover_skipped_workloads() -> None:
    """Workloads that are not components are reported with the reason."""
    other = worker()
    other["metadata"]["name"] = "web"
    other["spec"]["template"]["metadata"]["labels"] = {"app": "web"}
    plan = plan_for(other)
    (report,) = plan.reports
    assert not report.component and report.reason.startswith("no match for labels")


def test_describe_sources() -> None:
    """Env entries are described by source; sensitive literals are hidden."""
    assert describe({"name": "A", "value": "x"}) == "value 'x'"
    assert describe({"name": "A_TOKEN", "value": "x"}) == "a literal value (redacted)"
    ref = {"name": "K", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    assert describe(ref) == "secretKeyRef s/k"


def test_repairable_items_are_replaced_and_removed_in_a_valid_order() -> None:
    """Repairs replace and remove without --overwrite, removals descend and precede appends, each warns."""
    from postrenderer.inject.plan import WorkloadReport, ensure_items

    current = [{"name": "A", "v": 0}, {"name": "B", "v": 1}, {"name": "C", "v": 2}, {"name": "D", "v": 3}]
    wanted = [{"name": "E", "v": 4}, {"name": "C", "v": 9}, {"name": "B", "v": 1}]

    def repairable(what: str, item: dict[str, Any]) -> str | None:
        return f"{item['name']} is broken" if item["name"] in ("A", "C", "D") else None

    report = WorkloadReport(1, _component_class())
    report.container = "agent"
    conflicts: list[str] = []
    warnings: list[str] = []
    ops = ensure_items(("list",), current, wanted, "name", "env", "document 1", False, report, conflicts,
                       repairable, warnings)
    assert [(op["op"], op["path"]) for op in ops] == [
        ("replace", "/list/2"), ("remove", "/list/3"), ("remove", "/list/0"), ("add", "/list/-")]
    assert jsonpatch.apply_patch({"list": current}, ops)["list"] == [
        {"name": "B", "v": 1}, {"name": "C", "v": 9}, {"name": "E", "v": 4}]
    assert conflicts == []
    assert warnings == [
        "document 1, container 'agent': replaced env C: C is broken",
        "document 1, container 'agent': removed env A: A is broken",
        "document 1, container 'agent': removed env D: D is broken",
    ]


def _component_class() -> Any:
    """A Deployment ``w`` classified as a worker, for the report of a planning step."""
    from postrenderer.read.analysis import Classified
    from postrenderer.read.workloads import iter_workloads

    doc = {"kind": "Deployment", "metadata": {"name": "w"}, "spec": {"template": {"spec": {"containers": []}}}}
    return Classified(next(iter_workloads(1, doc)), 0, "worker", "test")


def test_without_repairs_a_difference_stays_a_conflict() -> None:
    """A predicate that declines leaves the difference a conflict (and the other methods have none)."""
    from postrenderer.inject.plan import WorkloadReport, ensure_items

    report = WorkloadReport(1, _component_class())
    report.container = "agent"
    conflicts: list[str] = []
    ops = ensure_items(("list",), [{"name": "C", "v": 2}], [{"name": "C", "v": 9}], "name", "env", "document 1",
                       False, report, conflicts, lambda what, item: None, [])
    assert ops == [] and len(conflicts) == 1
    assert method_for(settings().openlineage).injection(None).repairable is None  # type: ignore[arg-type]


def test_a_chart_secret_in_a_namespace_meets_components_without_one() -> None:
    """Components without a namespace land in the release's: a same-named chart Secret there is the same object."""
    doc = worker()
    secret = plan_for(doc).new_documents[0].doc
    in_default = {**secret, "metadata": {**secret["metadata"], "namespace": "default"}}
    plan = plan_for(doc, in_default)
    assert plan.new_documents == [] and plan.conflicts == []
    other = {**in_default, "data": {"api-key": base64.b64encode(b"another-key-0123456789").decode()}}
    assert plan_for(doc, other).conflicts, "a different key in it is a conflict, not a second Secret"


def test_plan_descriptions_redact_by_the_one_sensitivity_rule() -> None:
    from postrenderer.inject.plan import describe
    from postrenderer.read.variables import is_sensitive

    for name in ("AIRFLOW__OPENLINEAGE__TRANSPORT", "AIRFLOW_CONN_OPENLINEAGE", "OPENLINEAGE__TRANSPORT__AUTH__APIKEY",
                 "OPENLINEAGE_API_KEY"):
        assert is_sensitive(name)
        assert describe({"name": name, "value": '{"type": "http", "auth": {"apiKey": "k3y"}}'}) == (
            "a literal value (redacted)"
        )
    assert describe({"name": "OPENLINEAGE__TRANSPORT__URL", "value": "https://x"}) == "value 'https://x'"
