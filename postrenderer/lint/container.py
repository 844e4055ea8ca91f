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

The lint's parts: ``lint.evaluation`` (the container's variables, ``Finding``,
``Evaluation``), ``lint.configfiles`` (the config files the container reads),
``lint.findings`` (the findings about the transport) and ``lint.keysource``
(where the key comes from).
"""

from __future__ import annotations

from postrenderer.errors import InputError
from postrenderer.lint.configfiles import ConfigFiles
from postrenderer.lint.evaluation import (
    Evaluation,
    Expected,
    Finding,
    Variable,
    collect_env,
    is_set,
    no_objects,
    unless,
)
from postrenderer.lint.findings import transport_findings
from postrenderer.lint.model import Refused, Unseen
from postrenderer.lint.transport import resolve
from postrenderer.lint.vaultagent import agent_problems
from postrenderer.read.variables import NAMESPACE_VARS, URL_VAR

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from postrenderer.lint.evaluation import Lookup

NAMESPACE_FIX = (
    "set openLineage.namespace (or render with olrender --namespace) to the Astro Deployment's namespace, "
    "e.g. ultraviolet-corona-6870"
)


class Unreadable(InputError):
    """A value the container's OpenLineage settings read is over the reader's limits (the caller names the document)."""


def _env_value(variable: Variable) -> str | Unseen:
    """A variable's value for the transport model: the literal, the empty string, or unseen."""
    if variable.value is not None:
        return variable.value
    if variable.source == "env" and variable.value_from is None:
        return ""
    return Unseen(variable.name, variable.describe())


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
    transport_findings(result, variables, files.described, container, pod_spec, lookup, unresolved)

    url_var = variables.get(URL_VAR)
    if expected.url and url_var is not None and url_var.value is not None and url_var.value != expected.url:
        findings.append(Finding(
            "url-mismatch", name, URL_VAR, f"is {url_var.value!r}, but the configured URL is {expected.url!r}",
            "render again with the same values, or fix --url / openLineage.url",
        ))

    namespace = next((variables[v] for v in NAMESPACE_VARS if is_set(variables.get(v))), None)
    if namespace is None:
        findings.append(Finding("namespace-missing", name, NAMESPACE_VARS[0], "is not set" + unless(unresolved),
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
