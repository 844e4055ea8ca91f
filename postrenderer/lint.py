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

The rules follow the OpenLineage client: ``OPENLINEAGE_URL`` and
``OPENLINEAGE_API_KEY`` configure the HTTP transport only while no transport is
configured another way (``AIRFLOW__OPENLINEAGE__TRANSPORT``, any
``OPENLINEAGE__TRANSPORT__*`` variable, a config file); the dynamic variables
``OPENLINEAGE__TRANSPORT__AUTH__TYPE=api_key`` and
``OPENLINEAGE__TRANSPORT__AUTH__APIKEY`` merge into any transport. Findings
name the container and the variable, never a value that could be a secret.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    # (kind, name) -> the keys of that ConfigMap/Secret in the stream (values only for ConfigMaps),
    # or None when the stream does not hold it
    Lookup: TypeAlias = Callable[[str, str], Mapping[str, str | None] | None]

KEY_VAR = "OPENLINEAGE_API_KEY"
URL_VAR = "OPENLINEAGE_URL"
NAMESPACE_VARS = ("OPENLINEAGE_NAMESPACE", "AIRFLOW__OPENLINEAGE__NAMESPACE")
DISABLED_VARS = ("OPENLINEAGE_DISABLED", "AIRFLOW__OPENLINEAGE__DISABLED")
TRANSPORT_JSON_VAR = "AIRFLOW__OPENLINEAGE__TRANSPORT"
TRANSPORT_PREFIX = "OPENLINEAGE__TRANSPORT__"
AUTH_TYPE_VAR = "OPENLINEAGE__TRANSPORT__AUTH__TYPE"
AUTH_KEY_VAR = "OPENLINEAGE__TRANSPORT__AUTH__APIKEY"
TRANSPORT_URL_VAR = "OPENLINEAGE__TRANSPORT__URL"
TRANSPORT_TYPE_VAR = "OPENLINEAGE__TRANSPORT__TYPE"
CONFIG_FILE_VARS = ("OPENLINEAGE_CONFIG", "AIRFLOW__OPENLINEAGE__CONFIG_PATH")
ENV_SOURCES = ("configMapKeyRef", "fieldRef", "fileKeyRef", "resourceFieldRef", "secretKeyRef")
TRUE_WORDS = frozenset({"true", "1", "t", "yes", "y", "on"})
SENSITIVE_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")
SENSITIVE_NAMES = (TRANSPORT_JSON_VAR,)
SENSITIVE_PREFIXES = ("AIRFLOW_CONN_",)

AUTH_FIX = (
    f"{AUTH_TYPE_VAR}=api_key and {AUTH_KEY_VAR} (valueFrom the Secret that holds the key)"
)
URL_FIX = "set openLineage.url (or render with olrender --url), e.g. https://o11y.astronomer.io"
NAMESPACE_FIX = (
    "set openLineage.namespace (or render with olrender --namespace) to the Astro Deployment's namespace, "
    "e.g. ultraviolet-corona-6870"
)


def no_objects(kind: str, name: str) -> Mapping[str, str | None] | None:
    """A lookup for a stream that holds no ConfigMaps or Secrets."""
    return None


def is_sensitive(name: str) -> bool:
    """Whether an env variable's literal value must never be shown."""
    upper = name.upper()
    return (
        any(word in upper for word in SENSITIVE_WORDS)
        or upper in SENSITIVE_NAMES
        or upper.startswith(SENSITIVE_PREFIXES)
    )


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
            "problem": self.problem, "fix": self.fix,
        }


class Evaluation:
    """How the key, URL and namespace reach one container, and what is wrong."""

    __slots__ = ("container", "findings", "key", "namespace", "notes", "url")

    def __init__(self, container: str) -> None:
        self.container = container
        self.key: str | None = None
        self.url: str | None = None
        self.namespace: str | None = None
        self.findings: list[Finding] = []
        self.notes: list[str] = []

    @property
    def ok(self) -> bool:
        """Whether the container will report lineage with working authentication."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """The evaluation as JSON-ready data."""
        return {
            "container": self.container, "ok": self.ok, "key": self.key, "url": self.url,
            "namespace": self.namespace, "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }


class Transport:
    """A transport configured another way than ``OPENLINEAGE_URL``/``OPENLINEAGE_API_KEY``."""

    __slots__ = ("auth", "by_vault", "url", "variable", "what")

    def __init__(self, variable: str, what: str, auth: bool | None, url: bool | None, by_vault: bool = False) -> None:
        self.variable, self.what, self.by_vault = variable, what, by_vault
        self.auth = auth  # whether it carries an API key: yes, no, or cannot tell
        self.url = url


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
            for key, value in data.items():
                variables[prefix + key] = Variable(prefix + key, where, None, value)
    env = container.get("env")
    for entry in env if isinstance(env, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            value = entry.get("value")
            text = None if value is None else value if isinstance(value, str) else json.dumps(value)
            variables[entry["name"]] = Variable(entry["name"], "env", entry, text)
    return variables, unresolved


def _truthy(variable: Variable | None) -> bool:
    """Whether a variable is literally set to a true word."""
    return variable is not None and variable.value is not None and variable.value.strip().lower() in TRUE_WORDS


def _set(variable: Variable | None) -> bool:
    """Whether a variable is present with a non-empty value (or a reference)."""
    return variable is not None and not variable.empty


def _mounts(container: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """(mountPath, volume name, read-only) of a container's mounts."""
    found = []
    mounts = container.get("volumeMounts")
    for mount in mounts if isinstance(mounts, list) else []:
        if isinstance(mount, Mapping) and isinstance(mount.get("mountPath"), str):
            found.append((mount["mountPath"].rstrip("/") or "/", str(mount.get("name")), bool(mount.get("readOnly"))))
    return found


def _runs_vault_agent(container: Mapping[str, Any]) -> bool:
    """Whether a container runs ``vault agent`` (exec form or through a shell)."""
    words = [str(w) for key in ("command", "args") if isinstance(container.get(key), list) for w in container[key]]
    return words[:2] == ["vault", "agent"] or "vault agent" in " ".join(words)


def _writers(pod_spec: Mapping[str, Any], volume: str) -> list[Mapping[str, Any]]:
    """Init containers that mount a volume writable."""
    init = pod_spec.get("initContainers")
    return [
        c for c in (init if isinstance(init, list) else [])
        if isinstance(c, Mapping) and any(v == volume and not ro for _, v, ro in _mounts(c))
    ]


def _volume(pod_spec: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The pod volume with this name."""
    volumes = pod_spec.get("volumes")
    for volume in volumes if isinstance(volumes, list) else []:
        if isinstance(volume, Mapping) and volume.get("name") == name:
            return volume
    return None


def _config_file(variable: Variable, container: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> Transport:
    """A transport from an OpenLineage config file: known good only when Vault Agent renders it in the pod."""
    path = variable.value or ""
    what = f"the config file {path}" if path else f"the config file {variable.name} names"
    if not path.startswith("/"):
        return Transport(variable.name, what, None, None)
    path = posixpath.normpath(path)
    holders = [(mp, vol) for mp, vol, _ in _mounts(container) if path.startswith(mp.rstrip("/") + "/")]
    if not holders:
        return Transport(variable.name, what, None, None)
    _, volume = max(holders, key=lambda item: len(item[0]))
    agents = [c for c in _writers(pod_spec, volume) if _runs_vault_agent(c)]
    if agents:
        writer = f"{what} (rendered by Vault Agent init container {agents[0].get('name')!r})"
        return Transport(variable.name, writer, True, True, by_vault=True)
    return Transport(variable.name, what, None, None)


def _transport_json(variable: Variable) -> Transport:
    """A transport from ``AIRFLOW__OPENLINEAGE__TRANSPORT`` (JSON; a reference cannot be inspected)."""
    what = variable.name
    if variable.value is None:
        return Transport(variable.name, what, None, None)
    try:
        data = json.loads(variable.value)
    except ValueError:
        return Transport(variable.name, what, None, None)
    if not isinstance(data, Mapping):
        return Transport(variable.name, what, None, None)
    auth = data.get("auth")
    has_auth = isinstance(auth, Mapping) and bool(auth.get("apiKey") or auth.get("api_key"))
    http = data.get("type") in (None, "http")
    return Transport(variable.name, what, has_auth, bool(data.get("url")) if http else None)


def transports(
    variables: Mapping[str, Variable], container: Mapping[str, Any], pod_spec: Mapping[str, Any]
) -> list[Transport]:
    """Every transport the container configures besides the legacy HTTP variables."""
    found: list[Transport] = []
    for name in CONFIG_FILE_VARS:
        if _set(variables.get(name)):
            found.append(_config_file(variables[name], container, pod_spec))
            break
    if _set(variables.get(TRANSPORT_JSON_VAR)):
        found.append(_transport_json(variables[TRANSPORT_JSON_VAR]))
    dynamic = sorted(n for n in variables if n.startswith(TRANSPORT_PREFIX) and _set(variables[n]))
    if dynamic:
        kind = variables.get(TRANSPORT_TYPE_VAR)
        http = kind is None or (kind.value or "").lower() == "http"
        url = _set(variables.get(TRANSPORT_URL_VAR))
        found.append(Transport(dynamic[0], dynamic[0], False, url if http or url else None))
    return found


def _dynamic_auth(variables: Mapping[str, Variable]) -> bool:
    """Whether the dynamic auth variables hand the key to whatever transport is configured."""
    kind = variables.get(AUTH_TYPE_VAR)
    return _set(variables.get(AUTH_KEY_VAR)) and kind is not None and (kind.value or "").lower() == "api_key"


def _unless(unresolved: list[str]) -> str:
    """A hint that an unresolved envFrom source might still provide a variable."""
    if not unresolved:
        return ""
    return f" (unless {', '.join(unresolved)}, which is not in the stream, provides it)"


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
        elif key not in data:
            fail(
                "key-secret-missing-key",
                f"references key {key} of Secret {secret}, which the stream holds without that key",
                f"add {key} to Secret {secret} or point --api-key-secret-key at the right key",
            )
            return None
        return f"Secret {secret} key {key}"
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


def lint_container(
    container: Mapping[str, Any],
    pod_spec: Mapping[str, Any],
    lookup: Lookup = no_objects,
    expected: Expected | None = None,
) -> Evaluation:
    """Evaluate how one container receives the OpenLineage key, URL and namespace."""
    name = str(container.get("name"))
    variables, unresolved = collect_env(container, lookup)
    result = Evaluation(name)
    findings, notes = result.findings, result.notes
    notes.extend(f"{where} is not in the stream: olrender cannot see its variables" for where in unresolved)
    expected = expected or Expected()

    for var in DISABLED_VARS:
        if _truthy(variables.get(var)):
            findings.append(Finding(
                "disabled", name, var,
                f"is {variables[var].value!r}, so lineage is switched off although the container is "
                "configured to report it",
                f"remove {var} from the chart values (commonEnv or the component's env); if lineage should "
                "be off, set openLineage.enabled: false and do not run --check",
            ))

    key_var = variables.get(KEY_VAR)
    others = transports(variables, container, pod_spec)
    dynamic_auth = _dynamic_auth(variables)
    if _set(variables.get(AUTH_KEY_VAR)) and not dynamic_auth:
        findings.append(Finding(
            "transport-auth-type", name, AUTH_TYPE_VAR,
            f"is not api_key, so {AUTH_KEY_VAR} is not used", f"set {AUTH_TYPE_VAR}=api_key",
        ))

    if not others:
        if key_var is None:
            findings.append(Finding(
                "key-missing", name, KEY_VAR, "is not set" + _unless(unresolved),
                "render with olrender (--api-key-secret NAME, --api-key-file FILE or --method vault), "
                "or set openLineage.apiKeySecret in the chart values",
            ))
        else:
            result.key = _key_source(key_var, container, pod_spec, lookup, name, findings, notes)
    else:
        auth = dynamic_auth or any(t.auth for t in others)
        first = others[0]
        if auth:
            carrier = "the dynamic auth variables" if dynamic_auth else next(t.what for t in others if t.auth)
            result.key = f"the API key of the transport, from {carrier}"
            if key_var is not None:
                notes.append(f"{KEY_VAR} is ignored: {first.what} configures the transport, which has its own key")
        elif key_var is not None:
            fileref = (key_var.value_from or {}).keys() == {"fileKeyRef"}
            unsure = " (unless the transport it configures carries its own key)" if first.auth is None else ""
            findings.append(Finding(
                "vault-transport-override" if fileref else "transport-override", name, first.variable,
                f"configures the OpenLineage transport, so {KEY_VAR} ({key_var.describe()}) is silently "
                f"ignored and lineage is sent without the key{unsure}",
                f"remove {first.variable} from the container (chart values: commonEnv or the component's "
                f"env) so that {URL_VAR} and {KEY_VAR} configure the HTTP transport"
                + (
                    "; the vault method's fileKeyRef delivery only feeds OPENLINEAGE_API_KEY, so with a "
                    "transport of your own use --vault-delivery config-file instead"
                    if fileref else f", or give that transport the key: {AUTH_FIX}"
                ),
            ))
        else:
            unsure = "olrender cannot see whether it holds an API key" if first.auth is None else "it has no API key"
            findings.append(Finding(
                "transport-without-key", name, first.variable,
                f"configures the OpenLineage transport ({first.what}) and {unsure}",
                f"give the transport the key: {AUTH_FIX}",
            ))

    url_var = variables.get(URL_VAR)
    transport_url = next((t for t in others if t.url), None)
    if others and not transport_url:
        first = others[0]
        if first.url is False:
            findings.append(Finding(
                "url-missing", name, first.variable,
                f"configures the OpenLineage transport, so {URL_VAR} is ignored, and the transport has no URL",
                f"set {TRANSPORT_URL_VAR} (and {TRANSPORT_TYPE_VAR}=http), or remove {first.variable}",
            ))
        else:
            result.url = f"the transport in {first.what} (cannot be inspected)"
            notes.append(f"the URL comes from {first.what}, which olrender cannot inspect")
    elif transport_url is not None:
        result.url = f"the transport in {transport_url.what}"
    elif _set(url_var):
        assert url_var is not None
        result.url = url_var.describe()
    else:
        findings.append(Finding("url-missing", name, URL_VAR,
                                ("is empty" if url_var is not None else "is not set") + _unless(unresolved), URL_FIX))
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
        result.namespace = namespace.describe()
        have = namespace.value
        if expected.namespace and have is not None and have != expected.namespace:
            findings.append(Finding(
                "namespace-mismatch", name, namespace.name,
                f"is {have!r}, but the configured namespace is {expected.namespace!r}",
                "render again with the same values, or fix --namespace / openLineage.namespace",
            ))
    return result
