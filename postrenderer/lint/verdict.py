"""``--check``: prove that every agent component will report lineage with working auth.

The check reads a stream as it is (rendered by Helm, with or without olrender),
finds the components with the same discovery rules as rendering (labels, names,
``--container``), and lints each target container (see ``lint``). It needs no
key configuration and changes nothing:

    $ helm template astro-agent chart | olrender --check > /dev/null
    olrender: error: --check failed: 4 of 4 agent component(s) would run without working OpenLineage auth
      document 10 (Deployment/astro-agent-dag-processor): container 'agent': OPENLINEAGE_API_KEY: is not set ...

Render mode runs the same evaluation over the documents it produced
(``lint_rendered``, which returns its findings), so its warnings and the check's
failures never disagree. Both take the analysis' classification of each workload
(``Analysis.classified``) and classify nothing themselves; what a component must
carry comes from its method (``Method.expected``), resolved like rendering's settings.
``plaintext_findings`` is the ``--forbid-plaintext`` policy: no OpenLineage key
may sit in a Secret, ConfigMap or literal env value of the stream.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from postrenderer.errors import CheckFailed, InputError, NoMatchError, where
from postrenderer.inject.plan import WorkloadReport
from postrenderer.lint.container import Unreadable, lint_container
from postrenderer.lint.evaluation import Expected
from postrenderer.lint.vaultagent import service_account_keys
from postrenderer.read.discovery import HOOKS_ONLY, hooks_only
from postrenderer.read.variables import AUTH_KEY_VAR, KEY_VAR, TRANSPORT_JSON_VAR
from postrenderer.read.workloads import env_entries, iter_workloads, workload_containers

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from postrenderer.lint.evaluation import Evaluation, Finding, Lookup
    from postrenderer.read.analysis import Analysis, Classified
    from postrenderer.read.discovery import ComponentRules
    from postrenderer.read.objects import Objects

KEY_NAME_RE = re.compile(r"openlineage", re.IGNORECASE)


class CheckedWorkload:
    """A workload of the stream, whether it is a component, and its evaluation if so."""

    __slots__ = ("evaluation", "report")

    def __init__(self, report: WorkloadReport, evaluation: Evaluation | None = None) -> None:
        self.report, self.evaluation = report, evaluation

    @property
    def ok(self) -> bool:
        """Whether a component passes (non-components always do)."""
        return self.evaluation is None or self.evaluation.ok


class CheckResult:
    """The verdict over a whole stream."""

    __slots__ = ("format", "has_documents", "policy", "workloads")

    def __init__(self, format: str, has_documents: bool) -> None:
        self.format, self.has_documents = format, has_documents
        self.workloads: list[CheckedWorkload] = []
        self.policy: list[str] = []

    @property
    def components(self) -> list[CheckedWorkload]:
        """The workloads treated as components."""
        return [w for w in self.workloads if w.evaluation is not None]

    @property
    def failures(self) -> list[CheckedWorkload]:
        """Components that would run without working OpenLineage auth."""
        return [w for w in self.components if not w.ok]

    @property
    def ok(self) -> bool:
        """Whether the stream passes."""
        return not self.failures and not self.policy


def lookup(objects: Objects, namespace: str | None) -> Lookup:
    """The lint's view of the kept ConfigMaps and Secrets for workloads in one namespace: their keys.

    Secret values are never handed on (None); ConfigMap values are, since envFrom can set variables from them.
    """
    def find(kind: str, name: str) -> Mapping[str, str | None] | None:
        if kind == "ServiceAccount":  # for vaultcheck: does it mount a token the Vault Agent logs in with
            doc = objects.get(kind, name, namespace)
            return None if doc is None else service_account_keys(doc)
        return objects.content(kind, name, namespace)  # (built once per run, with the files read from it)

    return find


def evaluate_document(
    index: int, doc: Any, classified: list[Classified], rules: ComponentRules, objects: Objects,
    expected: Expected | None = None,
) -> list[CheckedWorkload]:
    """Evaluate each component's target container in one document (doc: as read, or as rendering leaves it)."""
    checked = []
    workloads = list(iter_workloads(index, doc)) if any(known.role is not None for known in classified) else []
    for known in classified:
        report = WorkloadReport(index, known)
        if known.role is None:
            checked.append(CheckedWorkload(report))
            continue
        workload = workloads[known.position]
        component = known.component(rules, workload)
        report.role = component.role
        report.container = component.container_name
        report.container_reason = component.container_reason
        spec = workload.template["spec"]
        container = spec["containers"][component.container_index]
        try:
            metadata = workload.template.get("metadata")
            annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
            evaluation = lint_container(container, spec, lookup(objects, workload.namespace), expected,
                                        annotations if isinstance(annotations, dict) else None)
        except Unreadable as exc:
            raise InputError(f"{where(index, workload.kind, workload.name)}: {exc}") from None
        report.findings.extend(evaluation.findings)
        checked.append(CheckedWorkload(report, evaluation))
    return checked


def evaluate(
    analysis: Analysis, rules: ComponentRules, expected: Expected | None = None, forbid_plaintext: bool = False
) -> CheckResult:
    """Evaluate a stream as read, without changing it."""
    result = CheckResult(analysis.format, analysis.has_documents)
    objects = analysis.objects()
    for index, known in analysis.classified.items():  # (an unread workload has no document: it is no component)
        result.workloads.extend(evaluate_document(index, analysis.documents.get(index), known, rules, objects,
                                                  expected))
    if forbid_plaintext:
        result.policy.extend(plaintext_findings(analysis.documents.items()))
    return result


def verdict(result: CheckResult, allow_no_match: bool = False) -> str:
    """A one-line summary of a passing check; raises CheckFailed or NoMatchError otherwise."""
    components = result.components
    if result.has_documents and not components and not allow_no_match and not hooks_only(
            [w.report.reason for w in result.workloads]):
        looked = "; ".join(sorted({w.report.reason for w in result.workloads})) or "no workloads in the stream"
        raise NoMatchError(
            "--check: no agent component (Worker, DAG processor, Triggerer) found in the stream "
            f"({len(result.workloads)} workload(s) examined: {looked}). "
            "Check --component-selector/--component-name, or pass --allow-no-match"
        )
    if not result.ok:
        lines = []
        failures = result.failures
        if failures:
            lines.append(
                f"--check failed: {len(failures)} of {len(components)} agent component(s) would run without "
                "working OpenLineage authentication:"
            )
        for checked in failures:
            report = checked.report
            place = where(report.index, report.kind, report.name)
            lines.extend(f"  - {place}: {finding}" for finding in report.findings)
        if result.policy:
            lines.append("--forbid-plaintext: the stream holds the OpenLineage key in plain text:")
            lines.extend(f"  - {item}" for item in result.policy)
        raise CheckFailed("\n".join(lines))
    if not components and hooks_only([w.report.reason for w in result.workloads]):
        return f"check passed: {HOOKS_ONLY}"
    if not components:
        what = "holds no documents" if not result.has_documents else "holds no agent component (--allow-no-match)"
        return f"check passed: the {result.format} stream {what}"
    return (
        f"check passed: {len(components)} agent component(s) will report lineage with an OpenLineage API key, "
        f"URL and namespace ({result.format} stream)"
    )


def lint_rendered(
    analysis: Analysis, patched: Mapping[int, Any], added: list[Any], rules: ComponentRules
) -> dict[tuple[int, int], list[Finding]]:
    """Lint the components as rendering leaves them: findings by (document, workload position)."""
    components = {i: known for i, known in analysis.classified.items() if any(k.role is not None for k in known)}
    if not components:
        return {}
    objects = analysis.objects()
    for doc in added:
        objects.add(doc)
    found: dict[tuple[int, int], list[Finding]] = {}
    for index, known in components.items():
        doc = patched.get(index, analysis.documents[index])
        for checked in evaluate_document(index, doc, known, rules, objects):
            if checked.evaluation is not None:
                found[(index, checked.report.position)] = list(checked.evaluation.findings)
    return found


def _looks_like_key(name: object) -> bool:
    """Whether a data key or object name suggests an OpenLineage key."""
    return isinstance(name, str) and bool(KEY_NAME_RE.search(name))


def _references(docs: Iterable[tuple[int, Any]]) -> set[tuple[str, str]]:
    """(Secret name, key) pairs that feed an OpenLineage key variable in any container."""
    refs: set[tuple[str, str]] = set()
    for index, doc in docs:
        for _, container in workload_containers(index, doc):
            for entry in env_entries(container):
                if entry.get("name") not in (KEY_VAR, AUTH_KEY_VAR):
                    continue
                ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
                if isinstance(ref, dict):
                    refs.add((str(ref.get("name")), str(ref.get("key"))))
    return refs


def plaintext_findings(docs: Iterable[tuple[int, Any]]) -> list[str]:
    """Where the stream holds an OpenLineage key in plain text (names only, never values)."""
    docs = list(docs)
    refs = _references(docs)
    found: list[str] = []
    for index, doc in docs:
        items: list[Any] = [doc]
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            items = doc["items"]
        for item in items:
            if not isinstance(item, dict):
                continue
            kind = item.get("kind")
            metadata = item.get("metadata")
            name = metadata.get("name") if isinstance(metadata, dict) else None
            place = where(index, kind, name)
            if kind in ("Secret", "ConfigMap"):
                keys = [
                    str(k) for part in ("data", "stringData", "binaryData")
                    if isinstance(item.get(part), dict) for k in item[part]
                ]
                named = _looks_like_key(name) and kind == "Secret"
                hits = [k for k in keys if named or _looks_like_key(k) or (str(name), k) in refs]
                if hits:
                    found.append(
                        f"{place}: {kind} data {', '.join(hits)} looks like an OpenLineage API key; reference a "
                        "Secret created outside the release (--api-key-secret) or use --method vault"
                    )
        for workload, container in workload_containers(index, doc):
            for entry in env_entries(container):
                if entry.get("value") in (None, ""):
                    continue
                if entry.get("name") in (KEY_VAR, AUTH_KEY_VAR) or (
                    entry.get("name") == TRANSPORT_JSON_VAR and "apiKey" in str(entry.get("value"))
                ):
                    found.append(
                        f"{where(index, workload.kind, workload.name)}: container "
                        f"{container.get('name')!r} sets {entry.get('name')} to a literal value; "
                        "reference a Secret instead (--api-key-secret) or use --method vault"
                    )
    return found
