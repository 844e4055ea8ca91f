"""The container lint's findings about the transport the client builds, one function per family.

``transport_findings`` reads the transport model's answer (``lint.transport``)
for one container: a transport that is switched off, unseen or failing
(``_stopped``); none with a type, so that the legacy variables configure it
(``_untyped``); or a typed one, which must send over HTTP with the key (``_typed``).
For example:

    OPENLINEAGE_API_KEY (secretKeyRef ...)  AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "http", "url": "https://x"}'
    -> transport-override: container 'agent': AIRFLOW__OPENLINEAGE__TRANSPORT: configures the OpenLineage
       transport, so OPENLINEAGE_API_KEY (secretKeyRef ...) is silently ignored ... Fix: remove ...
"""

from __future__ import annotations

from collections.abc import Mapping

from postrenderer.lint import behaviours
from postrenderer.lint.evaluation import Finding, Variable, is_set, unless
from postrenderer.lint.keysource import key_source
from postrenderer.read.variables import (
    AUTH_KEY_VAR,
    AUTH_TYPE_VAR,
    DYNAMIC_JSON_VAR,
    KEY_VAR,
    TRANSPORT_TYPE_VAR,
    TRANSPORT_URL_VAR,
    URL_VAR,
)

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.lint.evaluation import Evaluation, Lookup

TRANSPORT_PREFIX = "OPENLINEAGE__TRANSPORT__"
KEY_REFERENCE = f"$({KEY_VAR})"

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


def _auth_fix(by: str) -> str:
    """How to give the transport that ``by`` configures the key."""
    return JSON_AUTH_FIX if by == DYNAMIC_JSON_VAR else AUTH_FIX


class _Scope:
    """What the transport findings look at: the evaluation so far, the container's variables and pod, the files read."""

    __slots__ = ("container", "described", "lookup", "pod_spec", "result", "transport", "unresolved", "variables")

    def __init__(
        self, result: Evaluation, variables: Mapping[str, Variable], described: Mapping[str, str],
        container: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup, unresolved: list[str],
    ) -> None:
        assert result.transport is not None
        self.result, self.variables, self.described, self.transport = result, variables, described, result.transport
        self.container, self.pod_spec, self.lookup, self.unresolved = container, pod_spec, lookup, unresolved

    def add(self, code: str, variable: str, problem: str, fix: str) -> None:
        """Add a finding about this container."""
        self.result.findings.append(Finding(code, self.result.container, variable, problem, fix))

    def origin(self, source: str) -> str:
        """Where a setting of the transport comes from, without a sensitive value."""
        if source in self.described:
            return self.described[source]
        variable = self.variables.get(source)
        if variable is None:
            return source
        return variable.describe() if source in (URL_VAR, KEY_VAR) else f"{source}, {variable.describe()}"

    def key_source(self, variable: Variable) -> str | None:
        """Where ``OPENLINEAGE_API_KEY`` gets its value (``keysource.key_source``)."""
        result = self.result
        return key_source(variable, self.container, self.pod_spec, self.lookup, result.container, result.findings,
                          result.notes)


def transport_findings(
    result: Evaluation, variables: Mapping[str, Variable], described: Mapping[str, str],
    container: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup, unresolved: list[str],
) -> None:
    """Findings about the transport the client builds: whether it exists, sends over HTTP, and has the key."""
    scope = _Scope(result, variables, described, container, pod_spec, lookup, unresolved)
    if _stopped(scope):
        return
    if scope.transport.by is None:
        _untyped(scope)
    else:
        _typed(scope)


def _stopped(scope: _Scope) -> bool:
    """Findings when the client sends nothing or olrender cannot tell: switched off, unseen, or failing."""
    variables, resolved = scope.variables, scope.transport
    kind, by = resolved.kind, resolved.by
    if behaviours.disabled_switch(resolved) and resolved.partly:
        scope.add(*behaviours.disabled_partly(resolved, variables[str(by)].value))
        return True
    if kind == "disabled" and by is not None:
        scope.add("disabled", by, f"is {variables[by].value!r}, so lineage is switched off although the container is "
            "configured to report it",
            f"remove {by} from the chart values (commonEnv or the component's env); if lineage should "
            "be off, set openLineage.enabled: false and do not run --check")
        return True
    if kind == "unseen" and by is not None:
        scope.add("transport-unseen", by,
            f"olrender cannot see {resolved.problem}, so it cannot tell which transport the OpenLineage client "
            "builds or whether the key reaches it",
            "give the OpenLineage settings as env values or from a ConfigMap in the stream, "
            f"or let {URL_VAR} and {KEY_VAR} configure the HTTP transport")
        return True
    if kind == "error" and by is not None:
        if resolved.no_url:
            scope.add("url-missing", by, f"configures the OpenLineage transport, so {URL_VAR} is ignored, and "
                f"{resolved.problem}, so the agent builds no OpenLineage client",
                f"give that transport a URL (e.g. {TRANSPORT_URL_VAR} with {TRANSPORT_TYPE_VAR}=http), or remove {by}")
        else:
            problem = resolved.problem.removeprefix(f"{by} ")
            scope.add("transport-invalid", by,
                      f"{problem}, so the agent builds no OpenLineage client and sends no lineage",
                      f"correct or remove {by}")
        return True
    return False


def _untyped(scope: _Scope) -> None:
    """Findings when no transport type is set: the legacy variables configure the client, or nothing does."""
    result, variables, resolved = scope.result, scope.variables, scope.transport
    kind, key_var = resolved.kind, variables.get(KEY_VAR)
    notes = result.notes
    ignored = sorted(n for n in variables if n.startswith(TRANSPORT_PREFIX) and is_set(variables[n]))
    if ignored:
        notes.append(f"{', '.join(ignored)}: ignored, since no transport type is set ({TRANSPORT_TYPE_VAR})")
    if key_var is not None:
        result.key = scope.key_source(key_var)
        result.key_from = key_var if result.key is not None else None
    elif is_set(variables.get(AUTH_KEY_VAR)):
        scope.add("transport-type-missing", AUTH_KEY_VAR,
            f"is not used: the OpenLineage client ignores the {TRANSPORT_PREFIX}* variables unless "
            f"{TRANSPORT_TYPE_VAR} is set, so lineage is sent without a key",
            f"set {TRANSPORT_TYPE_VAR}=http and {TRANSPORT_URL_VAR}, or set {KEY_VAR} instead")
    else:
        scope.add("key-missing", KEY_VAR, "is not set" + unless(scope.unresolved),
            "render with olrender (--api-key-secret NAME, --api-key-file FILE or --method vault), "
            "or set openLineage.apiKeySecret in the chart values")
    url_var = variables.get(URL_VAR)
    if kind == "http" and url_var is not None:
        result.url, result.url_from = url_var.describe(), url_var
    else:
        also = f" ({TRANSPORT_URL_VAR} does not count without {TRANSPORT_TYPE_VAR})" if is_set(
            variables.get(TRANSPORT_URL_VAR)) else ""
        scope.add("url-missing", URL_VAR,
            ("is empty" if url_var is not None else "is not set") + also + unless(scope.unresolved), URL_FIX)


def _typed(scope: _Scope) -> None:
    """Findings about a typed transport: whether it sends over HTTP, and where its key comes from."""
    result, variables, resolved = scope.result, scope.variables, scope.transport
    kind, by, key_var = resolved.kind, resolved.by, variables.get(KEY_VAR)
    notes = result.notes
    assert by is not None  # (a transport with a type)
    for behaviour in behaviours.overridden(resolved) + behaviours.composite_also_url(resolved):
        scope.add(*behaviour)
    sinks = resolved.sinks()
    if not sinks:
        also = f", and {KEY_VAR} is ignored" if key_var is not None else ""
        scope.add("transport-not-http", by,
            f"configures a {kind} transport, which sends no lineage over HTTP: lineage never reaches the "
            f"OpenLineage API{also}",
            f"remove {by} so that {URL_VAR} and {KEY_VAR} configure the HTTP transport, or make it an http "
            f"transport with the key: {_auth_fix(by)}")
        return
    keyed = next((sink for sink in sinks if sink.key), None)
    result.url = scope.origin(str((keyed or sinks[0]).url))
    result.url_from = variables.get(str((keyed or sinks[0]).url))
    if keyed is not None and keyed.key == KEY_VAR and key_var is not None:
        result.key = scope.key_source(key_var)
        result.key_from = key_var if result.key is not None else None
    elif keyed is not None and key_var is not None and KEY_REFERENCE in (
            (variables.get(str(keyed.key)) or Variable("", "")).value or ""):
        _referenced_key(scope, str(keyed.key))
    elif keyed is not None:
        result.key = scope.origin(str(keyed.key))
        if keyed.connection is not None:
            result.key = f"the Airflow connection ID {keyed.connection!r} ({result.key})"
        result.key_from = variables.get(str(keyed.key))
        if key_var is not None:
            notes.append(f"{KEY_VAR} is ignored: {scope.origin(by)} configures the transport, which has its own key")
    elif by != DYNAMIC_JSON_VAR and is_set(variables.get(AUTH_KEY_VAR)) and (
            variables.get(AUTH_TYPE_VAR) or Variable("", "")).value != "api_key":
        scope.add("transport-auth-type", AUTH_TYPE_VAR, f"is not api_key, so {AUTH_KEY_VAR} is not used",
            f"set {AUTH_TYPE_VAR}=api_key")
    elif key_var is not None:
        fileref = (key_var.value_from or {}).keys() == {"fileKeyRef"}
        scope.add("vault-transport-override" if fileref else "transport-override", by,
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
        scope.add("transport-without-key", by,
            f"configures the OpenLineage transport ({scope.origin(by)}) and it has no API key{also}",
            f"give the transport the key: {_auth_fix(by)}")


def _referenced_key(scope: _Scope, holder: str) -> None:
    """The transport's key is ``$(OPENLINEAGE_API_KEY)`` in ``holder``: Kubernetes expands it from an earlier entry."""
    result, variables = scope.result, scope.variables
    order = list(variables)
    if order.index(KEY_VAR) > order.index(holder):
        result.findings.append(Finding(
            "key-reference-order", result.container, holder,
            f"holds {KEY_REFERENCE}, but {KEY_VAR} comes after it in env, so Kubernetes leaves the text as it is "
            "and the client sends it instead of the key",
            f"list {KEY_VAR} before {holder} in the container's env"))
        return
    source = scope.key_source(variables[KEY_VAR])
    if source is not None:
        result.key, result.key_from = f"{source} (through {KEY_REFERENCE} in {holder})", variables[KEY_VAR]
