"""The Airflow connection oracle: what the real Airflow provider sends when its API key lives in a connection.

The ``airflow-connection`` method gives a component ``AIRFLOW__OPENLINEAGE__TRANSPORT``
(an HTTP transport whose auth is ``{"type": "airflow_connection_api_key", "conn_id":
ID}``) and ``OPENLINEAGE_NAMESPACE``; the agent's secrets backend holds the
connection. Here an ``AIRFLOW_CONN_<ID>`` variable (Airflow's environment secrets
backend, JSON form) stands in for that backend. ``airflow_sends`` runs the real
apache-airflow 3.3.2, apache-airflow-providers-openlineage 2.20.3 and
openlineage-python 1.54.0 (the cached virtualenv of ``tests.tools.oracles``) on each
container environment and returns what reached a loopback OpenLineage backend:
the path and the ``Authorization`` header (see ``tests.oracles.consumers``).
``BACKEND`` in a value stands for the backend's URL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.oracles.consumers import BACKEND, Case, Sent, send

AUTH_TYPE = "airflow_connection_api_key"


def transport(conn_id: str, url: str = BACKEND, endpoint: str | None = None) -> str:
    """The ``AIRFLOW__OPENLINEAGE__TRANSPORT`` value the method writes: JSON, HTTP, key from a connection."""
    value: dict[str, Any] = {"type": "http", "url": url, "auth": {"type": AUTH_TYPE, "conn_id": conn_id}}
    if endpoint is not None:
        value["endpoint"] = endpoint
    return json.dumps(value)


def connection(password: str | None = None, extra: dict[str, Any] | None = None) -> str:
    """An ``AIRFLOW_CONN_<ID>`` value in Airflow's JSON form: the key as password, or in the extra."""
    value: dict[str, Any] = {"conn_type": "http"}
    if password is not None:
        value["password"] = password
    if extra is not None:
        value["extra"] = extra
    return json.dumps(value)


def conn_variable(conn_id: str) -> str:
    """The environment variable Airflow's environment backend reads connection ``conn_id`` from."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def airflow_sends(envs: list[dict[str, str]], workdir: Path, python: Path,
                  files: list[dict[str, str]] | None = None) -> list[Sent]:
    """What the real provider sent for each container environment (and the files it reads), in order."""
    cases = [Case(env, (files or [{}] * len(envs))[n]) for n, env in enumerate(envs)]
    return send(cases, workdir, airflow=python, client=False)["airflow"]
