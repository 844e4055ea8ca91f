"""Three client behaviours that surprise: what the transport model decided, as ``(code, variable, problem, fix)``.

Each was measured with openlineage-python 1.54.0 and the Airflow provider 2.20.3
(tests/test_lint_consumers.py sends through both and checks that the finding is
there exactly when they behave so):

    OPENLINEAGE__TRANSPORT__TYPE=composite  OPENLINEAGE__TRANSPORT__TRANSPORTS__MINE__URL=...  OPENLINEAGE_URL=...
    -> composite-also-url: the client adds OPENLINEAGE_URL as a transport of the composite (default_http)

    OPENLINEAGE_CONFIG=/etc/openlineage/openlineage.yml (with transport.url)  OPENLINEAGE__TRANSPORT__URL=...
    -> variable-overridden: the config file beats the OPENLINEAGE__* variable, which has no effect

    OPENLINEAGE_DISABLED=1 (or AIRFLOW__OPENLINEAGE__DISABLED=true)
    -> disabled-partly: the provider is off, the client (dbt-ol, a task's OpenLineageClient()) still sends

``lint.container`` turns the tuples into findings; values are never shown, only variable names.
"""

from __future__ import annotations

from postrenderer.lint.model import Resolved
from postrenderer.read.variables import (
    AIRFLOW_CONFIG_VAR,
    AIRFLOW_DISABLED_VAR,
    CLIENT_CONFIG_VAR,
    CLIENT_DISABLED_VAR,
    DEFAULT_HTTP,
    TRANSPORT_JSON_VAR,
    URL_VAR,
)

Problem = tuple[str, str, str, str]
WINNERS = {
    CLIENT_CONFIG_VAR: f"the config file {CLIENT_CONFIG_VAR} names",
    AIRFLOW_CONFIG_VAR: f"the config file {AIRFLOW_CONFIG_VAR} names",
    TRANSPORT_JSON_VAR: f"the provider's transport ({TRANSPORT_JSON_VAR})",
}


def disabled_partly(resolved: Resolved, value: str | None) -> Problem:
    """The switch turns the Airflow provider off but leaves the OpenLineage client on."""
    by = str(resolved.by)
    if by == CLIENT_DISABLED_VAR:
        why = (f"is {value!r}, which switches the Airflow provider off (it reads 1, t and true) but not the "
               "OpenLineage client (it reads only true)")
        fix = f"remove {by} to report lineage; to switch OpenLineage off everywhere, set {by}=true"
    else:
        why = f"is {value!r}, which switches the Airflow provider off, not the OpenLineage client (it never reads it)"
        fix = f"remove {by} to report lineage; to switch the client off too, set {CLIENT_DISABLED_VAR}=true"
    return ("disabled-partly", by, why + ": the agent reports no lineage, yet code that uses the client directly "
            "(dbt-ol, a task's OpenLineageClient()) still sends it", fix)


def composite_also_url(resolved: Resolved) -> list[Problem]:
    """A composite transport to which the client adds ``OPENLINEAGE_URL`` (and the key) beside its own transports."""
    if resolved.kind != "composite" or len(resolved.children) < 2:
        return []
    if not any(child.by == URL_VAR for child in resolved.children):
        return []
    return [("composite-also-url", URL_VAR,
             f"is added by the OpenLineage client to the composite transport ({resolved.by}) as a transport named "
             "default_http, with OPENLINEAGE_API_KEY: every event goes to the composite's transports and to "
             f"{URL_VAR} as well",
             f"to keep events from {URL_VAR}, set {DEFAULT_HTTP}='{{}}' (or remove {URL_VAR}); to send there "
             f"on purpose, say so: {DEFAULT_HTTP}__TYPE=http, __URL and __AUTH__TYPE=api_key, __AUTH__APIKEY")]


def overridden(resolved: Resolved) -> list[Problem]:
    """``OPENLINEAGE__*`` variables that a config file (or the provider's transport) beats, so they do nothing."""
    return [("variable-overridden", variable,
             f"has no effect: {WINNERS.get(winner, winner)} sets the same setting, and a configuration "
             "(OPENLINEAGE_CONFIG, ./openlineage.yml, AIRFLOW__OPENLINEAGE__CONFIG_PATH, "
             f"{TRANSPORT_JSON_VAR}) beats OPENLINEAGE__* variables",
             f"make the change in {WINNERS.get(winner, winner).removesuffix(' names')} instead, or remove {variable}")
            for variable, winner in sorted(resolved.overridden.items())]


def disabled_switch(resolved: Resolved) -> bool:
    """Whether the transport is off by a switch variable (not for want of a configuration)."""
    return resolved.kind == "disabled" and resolved.by in (CLIENT_DISABLED_VAR, AIRFLOW_DISABLED_VAR)
