"""OpenLineage lint: settings that look right but leave a component without working lineage auth.

Given one component's target container and its pod spec, ``lint_container``
works out how the key, the URL and the namespace reach the OpenLineage client
(the Airflow provider inside the agent) and returns findings. Render mode turns
findings into warnings; ``--check`` fails on them. The classic case:

    env:
      - name: OPENLINEAGE_API_KEY
        valueFrom: {secretKeyRef: {name: openlineage-api-key-secret, key: api-key}}
      - name: AIRFLOW__OPENLINEAGE__TRANSPORT
        value: '{"type": "http", "url": "https://o11y.astronomer.io"}'

    -> container 'agent': AIRFLOW__OPENLINEAGE__TRANSPORT: configures the OpenLineage transport, so
       OPENLINEAGE_API_KEY (secretKeyRef openlineage-api-key-secret/api-key) is silently ignored and
       lineage is sent without the key. Fix: remove AIRFLOW__OPENLINEAGE__TRANSPORT ... or ...

Which transport the client builds comes from ``postrenderer.lint.transport``, a
step-by-step model of openlineage-python 1.54.0 and the Airflow provider 2.20.3
that tests/test_transport.py checks against both. In short: ``OPENLINEAGE_URL``
and ``OPENLINEAGE_API_KEY`` configure the HTTP transport unless a transport
*with a type* is configured another way (``OPENLINEAGE__TRANSPORT__TYPE``,
``AIRFLOW__OPENLINEAGE__TRANSPORT``, a config file); ``OPENLINEAGE__TRANSPORT__*``
variables without a type are ignored; ``async_http`` and a composite's
``default_http`` still get the URL and the key; the dynamic variables
``OPENLINEAGE__TRANSPORT__AUTH__TYPE=api_key`` and ``..._AUTH__APIKEY`` merge
into a typed transport. A config file is read when it comes from a ConfigMap in
the stream (or is the one olrender's Vault Agent renders); a setting olrender
cannot see is a ``transport-unseen`` finding, never a guess. Findings name the
container and the variable, never a value that could be a secret.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping

from postrenderer.errors import InputError
from postrenderer.lint import behaviours
from postrenderer.lint.model import FileContent, Refused, Resolved, Sourced, Unseen, read_config
from postrenderer.lint.transport import resolve
from postrenderer.lint.vaultagent import agent_problems, injector_file, mounts, runs_vault_agent
from postrenderer.read.reader import TooLarge
from postrenderer.read.variables import (
    AUTH_KEY_VAR,
    AUTH_TYPE_VAR,
    DYNAMIC_JSON_VAR,
    KEY_VAR,
    NAMESPACE_VARS,
    TRANSPORT_TYPE_VAR,
    TRANSPORT_URL_VAR,
    URL_VAR,
    is_sensitive,
)
from postrenderer.read.workloads import containers, env_entries

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    # (kind, name) -> the keys of that ConfigMap/Secret in the stream (values only for ConfigMaps),
    # or None when the stream does not hold it
    Lookup: TypeAlias = Callable[[str, str], Mapping[str, str | None] | None]

# the variables the lint and the transport model read: envFrom expands only names that can be one of them
READ_PREFIXES = ("OPENLINEAGE", "AIRFLOW__OPENLINEAGE__")
TRANSPORT_PREFIX = "OPENLINEAGE__TRANSPORT__"
KEY_REFERENCE = f"$({KEY_VAR})"
ENV_SOURCES = ("configMapKeyRef", "fieldRef", "fileKeyRef", "resourceFieldRef", "secretKeyRef")

AUTH_FIX = (
    f"{AUTH_TYPE_VAR}=api_key and {AUTH_KEY_VAR} (valueFrom the Secret that holds the key)"
)
JSON_AUTH_FIX = (
    f"put auth inside the JSON of {DYNAMIC_JSON_VAR}, e.g. {{\"type\": \"http\", \"url\": "
    f"\"https://o11y.astronomer.io\", \"auth\": {{\"type\": \"api_key\", \"apiKey\": \"{KEY_REFERENCE}\"}}}}, "
    f"with {KEY_VAR} (valueFrom the Secret) listed before {DYNAMIC_JSON_VAR} in env, so that Kubernetes puts the key "
    f"in place of {KEY_REFERENCE} (the JSON value replaces {AUTH_TYPE_VAR} and {AUTH_KEY_VAR}, so those cannot "
    "give it the key)"
)
URL_FIX = "set openLineage.url (or render with olrender --url), e.g. https://o11y.astronomer.io"
NAMESPACE_FIX = (
    "set openLineage.namespace (or render with olrender --namespace) to the Astro Deployment's namespace, "
    "e.g. ultraviolet-corona-6870"
)


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


def _set(variable: Variable | None) -> bool:
    """Whether a variable is present with a non-empty value (or a reference)."""
    return variable is not None and not variable.empty


def _writers(pod_spec: Mapping[str, Any], volume: str) -> list[Mapping[str, Any]]:
    """Init containers that mount a volume writable."""
    init = containers(pod_spec, ("initContainers",))
    return [c for c in init if any(v == volume and not ro for _, v, ro in mounts(c))]


def _volume(pod_spec: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The pod volume with this name."""
    volumes = pod_spec.get("volumes")
    for volume in volumes if isinstance(volumes, list) else []:
        if isinstance(volume, Mapping) and volume.get("name") == name:
            return volume
    return None


class Unreadable(InputError):
    """A value the container's OpenLineage settings read is over the reader's limits (the caller names the document)."""


class ConfigFiles:
    """Reads config files as the container will see them: from a ConfigMap in the stream, or olrender's Vault file.

    Each file is read once per run through the one budgeted reader: the result is
    kept with the object the lookup returns (``Content.files``) when it has room.
    """

    def __init__(self, container: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup,
                 annotations: Mapping[str, Any] | None = None) -> None:
        """annotations: the pod template's (the Vault Agent Injector writes files its annotations name)."""
        self.container, self.pod_spec, self.lookup = container, pod_spec, lookup
        self.annotations = annotations or {}
        self.described: dict[str, str] = {}  # variable naming a file -> where that file comes from

    def agent_file(self, path: Sourced, what: str) -> dict[str, Any]:
        """A file a Vault Agent renders, in its known shape: an HTTP transport whose values olrender cannot see."""
        self.described[path.source] = what
        unseen = Unseen(path.source, what)
        return {"transport": {"type": Sourced("http", path.source), "url": unseen, "endpoint": unseen,
                              "auth": {"type": Sourced("api_key", path.source), "apiKey": unseen}}}

    def __call__(self, path: Sourced) -> FileContent | dict[str, Any] | Unseen | None:
        """The file's text (a Vault Agent file: its known shape), Unseen, or None when it does not exist."""
        where = f"the config file {path}"
        if not path.startswith("/"):
            return Unseen(path.source, f"{where} (relative to the container's working directory)")
        full = posixpath.normpath(path)
        mounts = self.container.get("volumeMounts")
        best: tuple[str, Mapping[str, Any]] | None = None
        for mount in mounts if isinstance(mounts, list) else []:
            if isinstance(mount, Mapping) and isinstance(mount.get("mountPath"), str):
                base = posixpath.normpath(mount["mountPath"])
                inside = full == base or full.startswith(base.rstrip("/") + "/")
                if inside and len(base) > len(best[0] if best else ""):
                    best = (base, mount)
        if best is None:
            annotation = injector_file(full, str(self.container.get("name")), self.annotations)
            if annotation is not None:
                return self.agent_file(path, f"{where} (rendered by the Vault Agent Injector from {annotation})")
            return Unseen(path.source, f"{where}, which is on no volume of the pod (a file of the image, if any)")
        base, mount = best
        volume_name = str(mount.get("name"))
        agents = [c for c in _writers(self.pod_spec, volume_name) if runs_vault_agent(c)]
        if agents:
            return self.agent_file(path, f"{where} (rendered by Vault Agent init container {agents[0].get('name')!r})")
        volume = _volume(self.pod_spec, volume_name) or {}
        source = volume.get("configMap")
        if not isinstance(source, Mapping) or not isinstance(source.get("name"), str):
            return Unseen(path.source, f"{where}, on volume {volume_name}, which olrender cannot read")
        data = self.lookup("ConfigMap", source["name"])
        if data is None:
            return Unseen(path.source, f"{where}, from ConfigMap {source['name']}, which is not in the stream")
        self.described[path.source] = f"{where} (ConfigMap {source['name']})"
        inside = posixpath.normpath(posixpath.join(str(mount.get("subPath") or ""), posixpath.relpath(full, base)))
        items = source.get("items")
        files = (
            {str(i.get("path")): str(i.get("key")) for i in items if isinstance(i, Mapping)}
            if isinstance(items, list) else {k: k for k in data}
        )
        if inside not in files or files[inside] not in data:
            return None
        text = data[files[inside]]
        if text is None:
            return Unseen(path.source, f"{where}, binary data of ConfigMap {source['name']}")
        return _read_file(data, files[inside], text, path)


def _read_file(data: Mapping[str, str | None], key: str, text: str, path: Sourced) -> FileContent:
    """A config file from a ConfigMap's key, read once (kept in the lookup's ``files`` when it has one)."""
    cache: dict[tuple[str, str], FileContent] = getattr(data, "files", {})
    known = cache.get((key, path.source))
    if known is None:
        try:
            known = cache[(key, path.source)] = read_config(text, path.source)
        except TooLarge as exc:
            document = getattr(data, "place", "") or "its ConfigMap"
            raise Refused(path.source, f"the config file {path} (key {key} of {document}): {exc.describe()}") from None
    return known


def _env_value(variable: Variable) -> str | Unseen:
    """A variable's value for the transport model: the literal, the empty string, or unseen."""
    if variable.value is not None:
        return variable.value
    if variable.source == "env" and variable.value_from is None:
        return ""
    return Unseen(variable.name, variable.describe())


def _unless(unresolved: list[str]) -> str:
    """A hint that an unresolved envFrom source might still provide a variable."""
    if not unresolved:
        return ""
    return f" (unless {', '.join(unresolved)}, which is not in the stream, provides it)"


def _auth_fix(by: str) -> str:
    """How to give the transport that ``by`` configures the key."""
    return JSON_AUTH_FIX if by == DYNAMIC_JSON_VAR else AUTH_FIX


def _key_source(
    variable: Variable, container: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup,
    name: str, findings: list[Finding], notes: list[str],
) -> str | None:
    """Check how ``OPENLINEAGE_API_KEY`` gets its value; describe it, or add a finding and return None."""
    def fail(code: str, problem: str, fix: str) -> None:
        findings.append(Finding(code, name, KEY_VAR, problem, fix))

    source = variable.value_from
    if variable.source != "env":
        return f"{variable.source}"
    if source is None:
        if not variable.value:
            fail("key-empty", "is set to an empty value", "reference the key's Secret instead (re-run olrender)")
            return None
        notes.append(f"{KEY_VAR} is a literal value in the manifest (a plaintext key)")
        return "a literal value in the manifest (redacted)"
    kind = next(iter(source))
    ref = source[kind]
    if kind not in ENV_SOURCES:
        fail(
            "key-invalid-source",
            f"uses valueFrom.{kind}, which is not a Kubernetes field: the API server drops it and the "
            "variable ends up empty",
            "use --method vault (valueFrom.fileKeyRef or a config file) or a secretKeyRef",
        )
        return None
    if not isinstance(ref, Mapping):
        fail("key-invalid-source", f"valueFrom.{kind} is not a mapping", "reference the key's Secret")
        return None
    if kind == "secretKeyRef":
        secret, key = str(ref.get("name")), str(ref.get("key"))
        data = lookup("Secret", secret)
        if data is None:
            if ref.get("optional") is True:
                fail(
                    "key-optional",
                    f"secretKeyRef {secret}/{key} is optional, so the pod starts without the key when the "
                    "Secret is missing",
                    "drop optional: true from the reference",
                )
                return None
            notes.append(f"Secret {secret} is not in the stream: it must exist in the cluster with key {key}")
        made_by = getattr(data, "made_by", "")  # an ExternalSecret's target: the document that makes it
        made = f" (made by {made_by})" if made_by else ""
        if data is not None and key not in data:
            fail(
                "key-secret-missing-key",
                f"references key {key} of Secret {secret}{made}, which the stream holds without that key",
                f"add {key} to Secret {secret} or point --api-key-secret-key at the right key",
            )
            return None
        return f"Secret {secret} key {key}{made}"
    if kind == "fileKeyRef":
        volume_name = str(ref.get("volumeName"))
        volume = _volume(pod_spec, volume_name)
        if volume is None:
            fail("key-file-volume", f"fileKeyRef names volume {volume_name}, which the pod does not have",
                 "re-run olrender with --method vault, which adds the volume")
            return None
        if "emptyDir" not in volume:
            fail("key-file-volume", f"fileKeyRef volume {volume_name} is not an emptyDir (pod creation fails)",
                 "make the volume an emptyDir written by an init container")
            return None
        writers = _writers(pod_spec, volume_name)
        if not writers:
            fail("key-file-writer", f"no init container writes volume {volume_name}, so {ref.get('path')} "
                 "never exists and the container cannot start",
                 "re-run olrender with --method vault, which adds the Vault Agent init container")
            return None
        return (
            f"file {ref.get('path')} key {ref.get('key')} in emptyDir {volume_name} "
            f"(written by init container {writers[0].get('name')!r})"
        )
    if kind == "configMapKeyRef":
        notes.append(f"{KEY_VAR} comes from a ConfigMap, which is not meant for secrets")
    return variable.describe()


def _transport_findings(
    result: Evaluation, variables: Mapping[str, Variable], described: Mapping[str, str],
    container: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup, unresolved: list[str],
) -> None:
    """Findings about the transport the client builds: whether it exists, sends over HTTP, and has the key."""
    name, findings, notes = result.container, result.findings, result.notes
    resolved, key_var = result.transport, variables.get(KEY_VAR)
    assert resolved is not None

    def add(code: str, variable: str, problem: str, fix: str) -> None:
        findings.append(Finding(code, name, variable, problem, fix))

    def origin(source: str) -> str:
        """Where a setting of the transport comes from, without a sensitive value."""
        if source in described:
            return described[source]
        variable = variables.get(source)
        if variable is None:
            return source
        return variable.describe() if source in (URL_VAR, KEY_VAR) else f"{source}, {variable.describe()}"

    kind, by = resolved.kind, resolved.by
    if behaviours.disabled_switch(resolved) and resolved.partly:
        add(*behaviours.disabled_partly(resolved, variables[str(by)].value))
        return
    if kind == "disabled" and by is not None:
        add("disabled", by, f"is {variables[by].value!r}, so lineage is switched off although the container is "
            "configured to report it",
            f"remove {by} from the chart values (commonEnv or the component's env); if lineage should "
            "be off, set openLineage.enabled: false and do not run --check")
        return
    if kind == "unseen" and by is not None:
        add("transport-unseen", by,
            f"olrender cannot see {resolved.problem}, so it cannot tell which transport the OpenLineage client "
            "builds or whether the key reaches it",
            "give the OpenLineage settings as env values or from a ConfigMap in the stream, "
            f"or let {URL_VAR} and {KEY_VAR} configure the HTTP transport")
        return
    if kind == "error" and by is not None:
        if resolved.no_url:
            add("url-missing", by, f"configures the OpenLineage transport, so {URL_VAR} is ignored, and "
                f"{resolved.problem}, so the agent builds no OpenLineage client",
                f"give that transport a URL (e.g. {TRANSPORT_URL_VAR} with {TRANSPORT_TYPE_VAR}=http), or remove {by}")
        else:
            problem = resolved.problem.removeprefix(f"{by} ")
            add("transport-invalid", by, f"{problem}, so the agent builds no OpenLineage client and sends no lineage",
                f"correct or remove {by}")
        return
    if by is None:  # no transport type anywhere: the legacy variables configure the client, or nothing does
        ignored = sorted(n for n in variables if n.startswith(TRANSPORT_PREFIX) and _set(variables[n]))
        if ignored:
            notes.append(f"{', '.join(ignored)}: ignored, since no transport type is set ({TRANSPORT_TYPE_VAR})")
        if key_var is not None:
            result.key = _key_source(key_var, container, pod_spec, lookup, name, findings, notes)
            result.key_from = key_var if result.key is not None else None
        elif _set(variables.get(AUTH_KEY_VAR)):
            add("transport-type-missing", AUTH_KEY_VAR,
                f"is not used: the OpenLineage client ignores the {TRANSPORT_PREFIX}* variables unless "
                f"{TRANSPORT_TYPE_VAR} is set, so lineage is sent without a key",
                f"set {TRANSPORT_TYPE_VAR}=http and {TRANSPORT_URL_VAR}, or set {KEY_VAR} instead")
        else:
            add("key-missing", KEY_VAR, "is not set" + _unless(unresolved),
                "render with olrender (--api-key-secret NAME, --api-key-file FILE or --method vault), "
                "or set openLineage.apiKeySecret in the chart values")
        url_var = variables.get(URL_VAR)
        if kind == "http" and url_var is not None:
            result.url, result.url_from = url_var.describe(), url_var
        else:
            also = f" ({TRANSPORT_URL_VAR} does not count without {TRANSPORT_TYPE_VAR})" if _set(
                variables.get(TRANSPORT_URL_VAR)) else ""
            add("url-missing", URL_VAR,
                ("is empty" if url_var is not None else "is not set") + also + _unless(unresolved), URL_FIX)
        return
    for behaviour in behaviours.overridden(resolved) + behaviours.composite_also_url(resolved):
        add(*behaviour)
    sinks = resolved.sinks()
    if not sinks:
        also = f", and {KEY_VAR} is ignored" if key_var is not None else ""
        add("transport-not-http", by,
            f"configures a {kind} transport, which sends no lineage over HTTP: lineage never reaches the "
            f"OpenLineage API{also}",
            f"remove {by} so that {URL_VAR} and {KEY_VAR} configure the HTTP transport, or make it an http "
            f"transport with the key: {_auth_fix(by)}")
        return
    keyed = next((sink for sink in sinks if sink.key), None)
    result.url = origin(str((keyed or sinks[0]).url))
    result.url_from = variables.get(str((keyed or sinks[0]).url))
    if keyed is not None and keyed.key == KEY_VAR and key_var is not None:
        result.key = _key_source(key_var, container, pod_spec, lookup, name, findings, notes)
        result.key_from = key_var if result.key is not None else None
    elif keyed is not None and key_var is not None and KEY_REFERENCE in (
            (variables.get(str(keyed.key)) or Variable("", "")).value or ""):
        _referenced_key(result, variables, str(keyed.key), container, pod_spec, lookup)
    elif keyed is not None:
        result.key = origin(str(keyed.key))
        if keyed.connection is not None:
            result.key = f"the Airflow connection ID {keyed.connection!r} ({result.key})"
        result.key_from = variables.get(str(keyed.key))
        if key_var is not None:
            notes.append(f"{KEY_VAR} is ignored: {origin(by)} configures the transport, which has its own key")
    elif by != DYNAMIC_JSON_VAR and _set(variables.get(AUTH_KEY_VAR)) and (
            variables.get(AUTH_TYPE_VAR) or Variable("", "")).value != "api_key":
        add("transport-auth-type", AUTH_TYPE_VAR, f"is not api_key, so {AUTH_KEY_VAR} is not used",
            f"set {AUTH_TYPE_VAR}=api_key")
    elif key_var is not None:
        fileref = (key_var.value_from or {}).keys() == {"fileKeyRef"}
        add("vault-transport-override" if fileref else "transport-override", by,
            f"configures the OpenLineage transport, so {KEY_VAR} ({key_var.describe()}) is silently "
            "ignored and lineage is sent without the key",
            f"remove {by} from the container (chart values: commonEnv or the component's "
            f"env) so that {URL_VAR} and {KEY_VAR} configure the HTTP transport"
            + (
                "; the vault method's fileKeyRef delivery only feeds OPENLINEAGE_API_KEY, so with a "
                "transport of your own use --vault-delivery config-file instead"
                if fileref else f", or give that transport the key: {_auth_fix(str(by))}"
            ))
    else:
        replaced = sorted(n for n in variables if by == DYNAMIC_JSON_VAR and n.startswith(TRANSPORT_PREFIX + "AUTH"))
        also = f" ({', '.join(replaced)}: replaced by the JSON value, so they give it no key)" if replaced else ""
        add("transport-without-key", by,
            f"configures the OpenLineage transport ({origin(by)}) and it has no API key{also}",
            f"give the transport the key: {_auth_fix(by)}")


def _referenced_key(
    result: Evaluation, variables: Mapping[str, Variable], holder: str, container: Mapping[str, Any],
    pod_spec: Mapping[str, Any], lookup: Lookup,
) -> None:
    """The transport's key is ``$(OPENLINEAGE_API_KEY)`` in ``holder``: Kubernetes expands it from an earlier entry."""
    order = list(variables)
    if order.index(KEY_VAR) > order.index(holder):
        result.findings.append(Finding(
            "key-reference-order", result.container, holder,
            f"holds {KEY_REFERENCE}, but {KEY_VAR} comes after it in env, so Kubernetes leaves the text as it is "
            "and the client sends it instead of the key",
            f"list {KEY_VAR} before {holder} in the container's env"))
        return
    source = _key_source(variables[KEY_VAR], container, pod_spec, lookup, result.container, result.findings,
                         result.notes)
    if source is not None:
        result.key, result.key_from = f"{source} (through {KEY_REFERENCE} in {holder})", variables[KEY_VAR]


def lint_container(
    container: Mapping[str, Any],
    pod_spec: Mapping[str, Any],
    lookup: Lookup = no_objects,
    expected: Expected | None = None,
    annotations: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Evaluate how one container receives the OpenLineage key, URL and namespace (annotations: the pod's)."""
    name = str(container.get("name"))
    variables, unresolved = collect_env(container, lookup)
    result = Evaluation(name)
    findings, notes = result.findings, result.notes
    notes.extend(f"{where} is not in the stream: olrender cannot see its variables" for where in unresolved)
    expected = expected or Expected()

    files = ConfigFiles(container, pod_spec, lookup, annotations)
    try:
        result.transport = resolve({n: _env_value(v) for n, v in variables.items()}, files)
    except Refused as exc:
        raise Unreadable(f"container {name!r}: {exc}") from None
    _transport_findings(result, variables, files.described, container, pod_spec, lookup, unresolved)

    url_var = variables.get(URL_VAR)
    if expected.url and url_var is not None and url_var.value is not None and url_var.value != expected.url:
        findings.append(Finding(
            "url-mismatch", name, URL_VAR, f"is {url_var.value!r}, but the configured URL is {expected.url!r}",
            "render again with the same values, or fix --url / openLineage.url",
        ))

    namespace = next((variables[v] for v in NAMESPACE_VARS if _set(variables.get(v))), None)
    if namespace is None:
        findings.append(Finding("namespace-missing", name, NAMESPACE_VARS[0], "is not set" + _unless(unresolved),
                                NAMESPACE_FIX))
    else:
        result.namespace, result.namespace_from = namespace.describe(), namespace
        have = namespace.value
        if expected.namespace and have is not None and have != expected.namespace:
            findings.append(Finding(
                "namespace-mismatch", name, namespace.name,
                f"is {have!r}, but the configured namespace is {expected.namespace!r}",
                "render again with the same values, or fix --namespace / openLineage.namespace",
            ))
    # the Vault Agent's own preconditions: a token to log in with, a file the container can read (vaultcheck)
    findings.extend(Finding(code, name, *rest) for code, *rest in agent_problems(container, pod_spec, lookup,
                                                                                annotations))
    return result
