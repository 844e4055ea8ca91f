"""Decide which workloads are agent components and which container gets the key.

Default rules (from what the agent chart is known to render):

1. labels: ``app=astro-agent`` and ``component in (worker,dag-processor,triggerer)``
   on the pod template or the workload;
2. failing labels, the name: ``…-worker-<name>``, ``…-dag-processor``, ``…-triggerer``.

``--component-selector`` (a Kubernetes label selector) and ``--component-name``
(a regular expression, matched in linear time: ``names.NameRegex``) replace
these rules. Helm hooks are never components.

The target container is, in order: the one named by ``--container``; the one
named by the pod annotation ``kubectl.kubernetes.io/default-container``; one
named after the component (``worker``, ``dag-processor``, ``triggerer``) or the
workload; the first container. Sidecars never get anything.
"""

from __future__ import annotations

import re

from postrenderer.errors import ConfigError, InputError, printable, where
from postrenderer.read.names import DEFAULT_RULE, DefaultNameRule, NameRegex
from postrenderer.read.workloads import HOOK_ANNOTATION

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.read.workloads import Workload

DEFAULT_SELECTOR = "app=astro-agent,component in (worker,dag-processor,triggerer)"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
DEFAULT_NAME_ENDINGS = "-worker-<name>, -dag-processor or -triggerer"  # the default name rule, in words

_REQ_RE = (  # (compiled on first use: only a --component-selector needs it)
    r"\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9][-A-Za-z0-9_./]*)\s*"
    r"(?:(?P<op>==|!=|=)\s*(?P<value>[-A-Za-z0-9_.]*)"
    r"|\s(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*(?:,|$)"
)


class Requirement:
    """One term of a label selector."""

    __slots__ = ("key", "op", "values")

    def __init__(self, key: str, op: str, values: frozenset[str]) -> None:
        self.key, self.op, self.values = key, op, values

    def matches(self, labels: dict[str, Any]) -> bool:
        """Whether labels satisfy this term."""
        present = self.key in labels
        value = str(labels.get(self.key))
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values  # "!=" and "notin"

    def may_hold(self, text: str) -> bool:
        """Whether a document's text may hold labels this term accepts (False: it cannot).

        A term that needs its label (``=``, ``in``, a bare key) needs the key in the text and, unless a
        value could be what ``str`` makes of a YAML number, boolean or null, one of its values. A term
        the label's absence satisfies (``!=``, ``notin``, ``!key``) always may.
        """
        if self.op in ("!=", "notin", "!exists"):
            return True
        if self.key not in text:
            return False
        return self.op == "exists" or any(not _only_text(value) or value in text for value in self.values)

    def __str__(self) -> str:
        """Render the term the way it would be written."""
        if self.op == "exists":
            return self.key
        if self.op == "!exists":
            return f"!{self.key}"
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{next(iter(self.values))}"
        return f"{self.key} {self.op} ({','.join(sorted(self.values))})"


def _only_text(value: str) -> bool:
    """Whether only text spells a label value: it is no ``str`` of a number, a boolean or null (``1.0``, ``True``)."""
    if value in ("", "True", "False", "None"):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


def parse_selector(text: str, setting: str = "--component-selector") -> tuple[Requirement, ...]:
    """Parse a Kubernetes label selector (``a=b,c!=d,e in (f,g),h,!i``)."""
    requirements: list[Requirement] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = re.compile(_REQ_RE).match(text, pos)
        if not match or match.end() == pos:
            raise ConfigError(f"{setting}: cannot parse label selector at {text[pos:]!r}")
        pos = match.end()
        key = match["key"]
        if match["setop"]:
            values = frozenset(v.strip() for v in match["values"].split(",") if v.strip())
            requirements.append(Requirement(key, match["setop"], values))
        elif match["op"]:
            op = "!=" if match["op"] == "!=" else "="
            requirements.append(Requirement(key, op, frozenset([match["value"]])))
        else:
            requirements.append(Requirement(key, "!exists" if match["neg"] else "exists", frozenset()))
    if not requirements:
        raise ConfigError(f"{setting}: empty label selector")
    return tuple(requirements)


# DEFAULT_SELECTOR as parse_selector reads it (a test checks), written out: start-up parses nothing
_DEFAULT_REQUIREMENTS = (
    Requirement("app", "=", frozenset(["astro-agent"])),
    Requirement("component", "in", frozenset(["worker", "dag-processor", "triggerer"])),
)


class ComponentRules:
    """How components and their target containers are found (by default: the chart's labels, then names)."""

    __slots__ = ("container", "name_rule", "selector", "unmatched")

    def __init__(
        self, selector: tuple[Requirement, ...] | None = _DEFAULT_REQUIREMENTS,
        name_rule: DefaultNameRule | NameRegex | None = DEFAULT_RULE, container: str | None = None,
    ) -> None:
        self.selector, self.name_rule, self.container = selector, name_rule, container
        self.unmatched = _unmatched(selector, name_rule)  # (why a workload is no component: once, not per workload)

    @classmethod
    def build(
        cls, selector: str | None, name_regex: str | None, container: str | None
    ) -> ComponentRules:
        """Rules from the command line: a given selector or name pattern replaces both defaults."""
        if container is not None:
            from postrenderer.config.kubenames import CONTAINER, check_name

            problem = check_name(container, CONTAINER, "--container")
            if problem:
                raise ConfigError(problem)
        if selector is None and name_regex is None:
            return cls(container=container)
        return cls(
            selector=parse_selector(selector) if selector else None,
            name_rule=NameRegex.compile(name_regex) if name_regex else None,
            container=container,
        )


    def may_match(self, text: str) -> bool:
        """Whether a workload whose text this is could be a component under these rules (False: it cannot).

        A selector can only match labels whose keys and values its terms need are in the text
        (``Requirement.may_hold``); the default name rule needs one of its endings; a
        ``--component-name`` pattern could match any name. Only for text without an escape: YAML
        spells a scalar otherwise than its text only through one (``\\``), as a folded line becomes
        a space.
        """
        if isinstance(self.name_rule, NameRegex):
            return True
        if self.name_rule is not None and any(ending in text for ending in _NAME_MARKS):
            return True
        return self.selector is not None and all(term.may_hold(text) for term in self.selector)

    def likely_component(self, text: str) -> bool:
        """A hint from a workload's text: it may match, and no name pattern is to decide that.

        Only a hint (every workload is still classified from its parsed metadata): a likely component
        is parsed whole at once instead of being sketched first, which would read it twice.
        """
        return not isinstance(self.name_rule, NameRegex) and self.may_match(text)

    def rules_out(self, text: str) -> bool:
        """Whether a workload's text alone proves these rules find no component and no hook in it.

        A hook names ``helm.sh/hook``; an escape (``\\``) can hide a name or a label. A workload ruled
        out is classified ``unmatched`` without being read (``read.analysis``).
        """
        return "\\" not in text and HOOK_ANNOTATION not in text and not self.may_match(text)


def _unmatched(selector: tuple[Requirement, ...] | None, name_rule: DefaultNameRule | NameRegex | None) -> str:
    """Why a workload that is no hook is no component under these rules: what was looked for."""
    looked = []
    if selector is not None:
        looked.append("labels " + ",".join(str(r) for r in selector))
    if isinstance(name_rule, DefaultNameRule):
        looked.append(f"a name ending in {DEFAULT_NAME_ENDINGS}")
    elif name_rule is not None:
        looked.append(f"a name matching --component-name {name_rule.pattern}")
    return "no match for " + " or ".join(looked)


_NAME_MARKS = ("-worker-", "-dag-processor", "-triggerer")  # (what a name the default rule matches holds)


class Component:
    """A workload that gets the OpenLineage configuration."""

    __slots__ = ("container_index", "container_name", "container_reason", "reason", "role", "workload")

    def __init__(
        self, workload: Workload, role: str, reason: str, container_index: int, container_name: str,
        container_reason: str,
    ) -> None:
        self.workload, self.role, self.reason = workload, role, reason
        self.container_index, self.container_name, self.container_reason = (
            container_index, container_name, container_reason
        )


def _labels(obj: Any) -> dict[str, Any]:
    """Labels of a metadata-bearing mapping (empty when absent or malformed)."""
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    return labels if isinstance(labels, dict) else {}


HOOK_REASON = "Helm hook (helm.sh/hook): left alone"
HOOKS_ONLY = ("every workload in the stream is a Helm hook (Helm's separate post-render strategy sends the hooks "
              "alone): passed through unchanged")


def hooks_only(reasons: list[str]) -> bool:
    """Whether the workloads with these reasons are all Helm hooks (and there is one): Helm's stream of hooks alone."""
    return bool(reasons) and all(reason == HOOK_REASON for reason in reasons)


def classify(workload: Workload, rules: ComponentRules) -> tuple[str | None, str]:
    """Return (role, reason) if the workload is a component, else (None, why not)."""
    if workload.is_hook:
        return None, HOOK_REASON
    if rules.selector is not None:
        for source, labels in (("pod labels", _labels(workload.template)), ("labels", workload.metadata.get("labels"))):
            if isinstance(labels, dict) and all(r.matches(labels) for r in rules.selector):
                role = str(labels.get("component", "component"))
                terms = ",".join(str(r) for r in rules.selector)
                return role, f"{source} match {terms}"
    if rules.name_rule is not None and isinstance(workload.name, str) and workload.name:
        name_role = rules.name_rule.role(workload.name)
        if name_role is not None:
            if isinstance(rules.name_rule, DefaultNameRule):
                ending = "-worker-<name>" if name_role == "worker" else f"-{name_role}"
                return name_role, f"name {printable(workload.name)} ends in {ending}"
            return name_role, f"name {printable(workload.name)} matches --component-name {rules.name_rule.pattern}"
    return None, rules.unmatched


def containers_of(workload: Workload) -> list[dict[str, Any]]:
    """The pod's containers, validated; raises InputError naming the document."""
    place = where(workload.doc_index, workload.kind, workload.name)
    spec = workload.pod_spec
    path = ".".join(str(part) for part in workload.pod_spec_path) or "spec"
    if not isinstance(spec, dict):
        got = "it is missing" if spec is None else f"got {yaml_type(spec)}"
        raise InputError(
            f"{place}: {path} must be a pod spec mapping ({got}); an agent component needs its containers"
        )
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        got = "it is missing" if "containers" not in spec else f"got {yaml_type(containers)}"
        raise InputError(f"{place}: {path}.containers must be a non-empty list of containers ({got})")
    for i, container in enumerate(containers):
        if not isinstance(container, dict):
            raise InputError(f"{place}: {path}.containers[{i}] must be a mapping (got {yaml_type(container)})")
        if not isinstance(container.get("name"), str) or not container["name"]:
            raise InputError(f"{place}: {path}.containers[{i}] has no name (Kubernetes requires one)")
        env = container.get("env")
        if env is not None and not isinstance(env, list):
            raise InputError(
                f"{place}: container {container['name']!r}: env must be a list of name/value entries "
                f"(got {yaml_type(env)})"
            )
    return containers


def yaml_type(value: Any) -> str:
    """Describe a parsed value in YAML's words, for messages (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return f"a {type(value).__name__}"


def choose_container(workload: Workload, role: str, rules: ComponentRules) -> tuple[int, str]:
    """Pick the target container by the documented rule; return (index, reason)."""
    containers = containers_of(workload)
    names = [c["name"] for c in containers]
    if rules.container is not None:
        if rules.container not in names:
            place = where(workload.doc_index, workload.kind, workload.name)
            raise ConfigError(
                f"--container {rules.container}: {place} has no such container "
                f"(containers: {', '.join(names)})"
            )
        return names.index(rules.container), f"--container {rules.container}"
    annotations = (workload.template.get("metadata") or {}).get("annotations") or {}
    wanted = annotations.get(DEFAULT_CONTAINER_ANNOTATION) if isinstance(annotations, dict) else None
    if wanted in names:
        return names.index(wanted), f"annotation {DEFAULT_CONTAINER_ANNOTATION}={wanted}"
    for candidate, what in ((role, "component"), (workload.name, "workload")):
        if candidate in names:
            return names.index(candidate), f"container named after the {what}"
    return 0, "first container"


def find_component(workload: Workload, rules: ComponentRules) -> tuple[Component | None, str]:
    """Classify one workload; return the component (or None) and the reason."""
    role, reason = classify(workload, rules)
    if role is None:
        return None, reason
    index, container_reason = choose_container(workload, role, rules)
    name = containers_of(workload)[index]["name"]
    return Component(workload, role, reason, index, name, container_reason), reason
