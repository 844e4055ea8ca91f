"""What the container lint works on and returns: the container's variables, its findings, its evaluation.

``collect_env`` gives the variables a container will see (env beats envFrom;
later entries win), each a ``Variable`` that can say where its value comes from
without showing a secret. The lint's answer is an ``Evaluation``: where the key,
the URL and the namespace come from, and its ``Finding`` objects. For example:

    env: [{name: OPENLINEAGE_URL, value: https://o11y.astronomer.io}]
    -> variables {OPENLINEAGE_URL: Variable(value "https://o11y.astronomer.io", source "env")}
    -> Evaluation: url "'https://o11y.astronomer.io'", findings key-missing
       ("container 'agent': OPENLINEAGE_API_KEY: is not set. Fix: ...") and namespace-missing
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from postrenderer.read.variables import is_sensitive
from postrenderer.read.workloads import env_entries

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    from postrenderer.lint.model import Resolved

    # (kind, name) -> the keys of that ConfigMap/Secret in the stream (values only for ConfigMaps),
    # or None when the stream does not hold it
    Lookup: TypeAlias = Callable[[str, str], Mapping[str, str | None] | None]

READ_PREFIXES = ("OPENLINEAGE", "AIRFLOW__OPENLINEAGE__")


def no_objects(kind: str, name: str) -> Mapping[str, str | None] | None:
    """A lookup for a stream that holds no ConfigMaps or Secrets."""
    return None


class Expected:
    """Values the stream must carry when the user configured them (``--url``, ``--namespace``)."""

    __slots__ = ("namespace", "url")

    def __init__(self, url: str | None = None, namespace: str | None = None) -> None:
        self.url, self.namespace = url, namespace


class Variable:
    """One environment variable as the container will see it."""

    __slots__ = ("entry", "name", "source", "value")

    def __init__(
        self, name: str, source: str, entry: Mapping[str, Any] | None = None, value: str | None = None,
    ) -> None:
        self.name, self.source, self.entry, self.value = name, source, entry, value

    @property
    def value_from(self) -> Mapping[str, Any] | None:
        """The ``valueFrom`` mapping of an env entry, if any."""
        source = self.entry.get("valueFrom") if self.entry is not None else None
        return source if isinstance(source, Mapping) else None

    @property
    def empty(self) -> bool:
        """Whether the variable is set to the empty string (or to nothing at all)."""
        if self.source != "env":
            return self.value == ""
        return self.value_from is None and not self.value

    def describe(self) -> str:
        """Where the value comes from, without ever showing a sensitive literal."""
        source = self.value_from
        if source:
            kind, ref = next(iter(source.items()))
            if isinstance(ref, Mapping):
                detail = "/".join(str(ref[k]) for k in ("name", "volumeName", "path", "key") if k in ref)
                return f"{kind} {detail}".strip()
            return str(kind)
        if self.value is None:
            return self.source
        shown = "a literal value (redacted)" if is_sensitive(self.name) else repr(self.value)
        return shown if self.source == "env" else f"{shown} from {self.source}"


class Finding:
    """One problem: which container and variable, what is wrong, how to fix it."""

    __slots__ = ("code", "container", "fix", "problem", "variable")

    def __init__(self, code: str, container: str, variable: str, problem: str, fix: str) -> None:
        self.code, self.container, self.variable, self.problem, self.fix = code, container, variable, problem, fix

    def __str__(self) -> str:
        return f"container {self.container!r}: {self.variable}: {self.problem}. Fix: {self.fix}"

    def to_dict(self) -> dict[str, str]:
        """The finding as JSON-ready data."""
        return {
            "code": self.code, "container": self.container, "variable": self.variable,
            "problem": self.problem, "fix": self.fix, "message": str(self),
        }


class Evaluation:
    """How the key, URL and namespace reach one container, and what is wrong."""

    __slots__ = ("container", "findings", "key", "key_from", "namespace", "namespace_from", "notes", "transport",
                 "url", "url_from")

    def __init__(self, container: str) -> None:
        self.container = container
        self.transport: Resolved | None = None  # the transport the client builds
        self.key: str | None = None  # where each comes from, in words ...
        self.url: str | None = None
        self.namespace: str | None = None
        self.key_from: Variable | None = None  # ... and the variable that gives it, when one does
        self.url_from: Variable | None = None
        self.namespace_from: Variable | None = None
        self.findings: list[Finding] = []
        self.notes: list[str] = []

    @property
    def ok(self) -> bool:
        """Whether the container will report lineage with working authentication."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """The evaluation as JSON-ready data."""
        return {
            "container": self.container, "ok": self.ok, "key": _origin(self.key, self.key_from),
            "url": _origin(self.url, self.url_from), "namespace": _origin(self.namespace, self.namespace_from),
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes), "transport": self.transport.to_dict() if self.transport else None,
        }


def _origin(described: str | None, variable: Variable | None) -> dict[str, Any] | None:
    """Where a setting comes from as data: the variable, its literal value (never a sensitive one) or reference."""
    if described is None:
        return None
    data: dict[str, Any] = {"message": described}
    if variable is not None:
        data["variable"] = variable.name
        if variable.source != "env":
            data["source"] = variable.source
        if variable.value_from is not None:
            data["valueFrom"] = dict(variable.value_from)
        elif variable.value is not None and not is_sensitive(variable.name):
            data["value"] = variable.value
    return data


def collect_env(container: Mapping[str, Any], lookup: Lookup) -> tuple[dict[str, Variable], list[str]]:
    """The container's variables (env beats envFrom; later entries win) and envFrom sources not in the stream."""
    variables: dict[str, Variable] = {}
    unresolved: list[str] = []
    env_from = container.get("envFrom")
    for source in env_from if isinstance(env_from, list) else []:
        if not isinstance(source, Mapping):
            continue
        prefix = str(source.get("prefix") or "")
        for ref_kind, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(ref_kind)
            if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str):
                continue
            where = f"envFrom {ref_kind} {ref['name']}"
            data = lookup(kind, ref["name"])
            if data is None:
                unresolved.append(where)
                continue
            for key in _read_keys(data, prefix):
                variables[prefix + key] = Variable(prefix + key, where, None, data[key])
    for entry in env_entries(container):
        if isinstance(entry.get("name"), str):
            value = entry.get("value")
            text = None if value is None else value if isinstance(value, str) else json.dumps(value)
            variables[entry["name"]] = Variable(entry["name"], "env", entry, text)
    return variables, unresolved


def _read_keys(data: Mapping[str, str | None], prefix: str) -> list[str]:
    """The keys of an envFrom source that give a variable olrender reads (READ_PREFIXES) under a prefix.

    A source can hold thousands of keys and be referenced with many prefixes;
    only names that can matter become variables, and a prefix that cannot lead
    to one skips the source without looking at its keys.
    """
    wanted = [
        wanted[len(prefix):] for wanted in READ_PREFIXES if wanted.startswith(prefix) or prefix.startswith(wanted)
    ]
    if not wanted:
        return []
    return [key for key in data if key.startswith(tuple(wanted))]


def is_set(variable: Variable | None) -> bool:
    """Whether a variable is present with a non-empty value (or a reference)."""
    return variable is not None and not variable.empty


def unless(unresolved: list[str]) -> str:
    """A hint that an unresolved envFrom source might still provide a variable."""
    if not unresolved:
        return ""
    return f" (unless {', '.join(unresolved)}, which is not in the stream, provides it)"
