"""``--method airflow-connection``: the Airflow provider reads the key from a connection of the agent's secrets backend.

    env:  AIRFLOW__OPENLINEAGE__TRANSPORT='{"type":"http","url":URL,"endpoint":ENDPOINT,
                                           "auth":{"type":"airflow_connection_api_key","conn_id":ID}}'
          OPENLINEAGE_NAMESPACE (and OPENLINEAGE__FACETS__ENVIRONMENT_VARIABLES when given)
    adds: nothing: no Secret, no init container; the key never enters Kubernetes

apache-airflow-providers-openlineage 2.18.0 and later replace that ``auth`` with
``{"type": "api_key", "apiKey": <the connection's password, else its extra's api_key>}``
when it reads ``[openlineage] transport``. The provider reads ``config_conn_id``,
then ``config_path``, then ``transport``, and only without any of them the client's
own ``OPENLINEAGE_URL``/``OPENLINEAGE_API_KEY``: the first two in the chart's
output would override the transport (a conflict), the last two are ignored (a warning).
"""

from __future__ import annotations

import json
import re

from postrenderer.errors import ConfigError
from postrenderer.inject.contract import Injection, Method, Setting

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.inject.contract import Given, OpenLineageConfig
    from postrenderer.read.discovery import Component

TRANSPORT_VAR = "AIRFLOW__OPENLINEAGE__TRANSPORT"
AUTH_TYPE = "airflow_connection_api_key"
# apache-airflow-core 3.3.2, airflow/models/connection.py: RE_SANITIZE_CONN_ID and CONN_ID_MAX_LEN
CONN_ID_RE = r"[\w#!()\-.:/\\]+"  # (Airflow's, anchored; an ID it would alter is refused)
CONN_ID_MAX_LEN = 250
OVERRIDING = {  # what the provider reads before [openlineage] transport
    "AIRFLOW__OPENLINEAGE__CONFIG_CONN_ID": "the provider reads its whole configuration from that Airflow "
                                            f"connection and ignores {TRANSPORT_VAR}",
    "AIRFLOW__OPENLINEAGE__CONFIG_PATH": f"the provider reads its configuration from that file and ignores "
                                         f"{TRANSPORT_VAR}",
}
IGNORED = ("OPENLINEAGE_URL", "OPENLINEAGE_API_KEY")
CONN_ID = Setting("airflow-conn-id", "Airflow connection (in the agent's secrets backend) that holds the key.",
                  values_key="airflowConnection", metavar="ID")


def conn_id_problem(conn_id: str) -> str | None:
    """Why Airflow would not take conn_id as a connection ID, or None."""
    if len(conn_id) > CONN_ID_MAX_LEN:
        return f"is longer than Airflow's {CONN_ID_MAX_LEN} characters"
    if not re.fullmatch(CONN_ID_RE, conn_id):
        return "may only hold letters, digits and _ # ! ( ) - . : / \\ (Airflow's rule; no spaces)"
    return None


class AirflowConnectionMethod(Method):
    """Point the provider's HTTP transport at an Airflow connection that holds the key."""

    name = "airflow-connection"
    title = "Airflow connection method"
    settings = (CONN_ID,)
    selected_by = CONN_ID.values_key
    reload_reason = "the key is read from the Airflow secrets backend at each use; nothing in Kubernetes changes"

    @classmethod
    def configure(cls, given: Given, config: OpenLineageConfig) -> str | None:
        """The connection ID; rendering also needs the URL (every problem in one error)."""
        conn_id = given.value(CONN_ID)
        problems = []
        if conn_id is None:
            if not given.check:
                problems.append(f"it needs {CONN_ID.flag} ID or {CONN_ID.values_path}")
        elif not isinstance(conn_id, str):
            problems.append(f"{CONN_ID.values_path} must be a string")
        elif (problem := conn_id_problem(conn_id)) is not None:
            problems.append(f"{CONN_ID.flag} {conn_id!r} {problem}")
        if not config.url and not given.check:
            problems.append("it needs the OpenLineage URL (--url or openLineage.url) for the transport")
        if problems:
            raise ConfigError(f"the {cls.name} method: " + "; ".join(problems))
        return conn_id if isinstance(conn_id, str) else None

    @classmethod
    def warnings(cls, given: Given) -> list[str]:
        """The chart's own key settings go unused."""
        if given.block.get("apiKey") or given.block.get("apiKeySecret"):
            return [f"openLineage.apiKey/apiKeySecret are ignored: the {cls.name} method reads the key from the "
                    "Airflow connection (remove them, or the chart renders an OPENLINEAGE_API_KEY the provider "
                    "ignores)"]
        return []

    def transport(self) -> str:
        """The ``AIRFLOW__OPENLINEAGE__TRANSPORT`` value: compact JSON, keys in a fixed order, no key in it."""
        value: dict[str, Any] = {"type": "http", "url": self.config.url}
        if self.config.endpoint is not None:
            value["endpoint"] = self.config.endpoint
        value["auth"] = {"type": AUTH_TYPE, "conn_id": self.config.method_settings}
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def injection(self, component: Component) -> Injection:
        """The transport and the namespace; what overrides the transport conflicts, what it ignores is warned."""
        plain = [e for e in self.config.plain_env() if e["name"] not in ("OPENLINEAGE_URL", "OPENLINEAGE_ENDPOINT")]
        why = f"ignored: the Airflow provider sends with {TRANSPORT_VAR}, whose key comes from Airflow connection " \
              f"{self.config.method_settings!r}"
        return Injection(env=[{"name": TRANSPORT_VAR, "value": self.transport()}, *plain],
                         overriding_env=dict(OVERRIDING), ignored_env=dict.fromkeys(IGNORED, why))

    def reference(self) -> str | None:
        """Where the key comes from: the connection ID and the transport that names it."""
        return f"{self.config.method_settings}\0{self.transport()}"

    def checksums(self) -> dict[str, str]:
        """None: the reference is the container's own transport variable, whose change rolls the pods by itself."""
        return {}

    def reload_secret(self) -> str | None:
        """No Secret holds the key."""
        return None
