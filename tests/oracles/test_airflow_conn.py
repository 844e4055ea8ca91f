"""The Airflow connection oracle: the real provider sends ``Bearer <key>`` from a connection, and its precedence.

All cases run in one batch (one provider process, one fork per case) against one
loopback backend; each test checks one case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.oracles.consumers import BACKEND, CWD, Sent
from tests.realclients.airflow_conn import airflow_sends, conn_variable, connection, transport

KEY = "sk-test-conn-0001"
HOSTILE = 'sk-test-conn-0002 "q" a: b #c @d /e %f'
NS = {"OPENLINEAGE_NAMESPACE": "ultraviolet-corona-6870"}
CONN = "openlineage_api_key"


def api_key_transport(endpoint: str, key: str) -> dict[str, object]:
    """A plain HTTP transport with its key inline."""
    return {"type": "http", "url": BACKEND, "endpoint": endpoint, "auth": {"type": "api_key", "apiKey": key}}


CONFIG_FILE = f"{CWD}/openlineage.yml"  # written by the oracle, in the case's own directory
PATH_CONFIG = json.dumps({"transport": api_key_transport("from-path", "sk-test-path")})
CLIENT_VARS = {"OPENLINEAGE_URL": BACKEND, "OPENLINEAGE_ENDPOINT": "from-env", "OPENLINEAGE_API_KEY": "sk-test-env"}
CASES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "password": ({**NS, "AIRFLOW__OPENLINEAGE__TRANSPORT": transport(CONN),
                  conn_variable(CONN): connection(password=KEY)}, {}),
    "extra api_key": ({**NS, "AIRFLOW__OPENLINEAGE__TRANSPORT": transport(CONN),
                       conn_variable(CONN): connection(extra={"api_key": KEY})}, {}),
    "extra_key": ({**NS, "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
        {"type": "http", "url": BACKEND, "auth": {"type": "airflow_connection_api_key", "conn_id": CONN,
                                                  "extra_key": "lineage"}}),
        conn_variable(CONN): connection(extra={"lineage": KEY, "api_key": "sk-test-decoy"})}, {}),
    "hostile key": ({**NS, "AIRFLOW__OPENLINEAGE__TRANSPORT": transport(CONN, endpoint="api/v2/x"),
                     conn_variable(CONN): connection(password=HOSTILE)}, {}),
    "no connection": ({**NS, "AIRFLOW__OPENLINEAGE__TRANSPORT": transport(CONN)}, {}),
    "client vars alone": ({**NS, **CLIENT_VARS}, {}),
    "transport > client vars": ({**NS, **CLIENT_VARS, "AIRFLOW__OPENLINEAGE__TRANSPORT": transport(CONN),
                                 conn_variable(CONN): connection(password=KEY)}, {}),
    "config_path > transport": ({**NS, **CLIENT_VARS, "AIRFLOW__OPENLINEAGE__TRANSPORT": transport(CONN),
                                 conn_variable(CONN): connection(password=KEY),
                                 "AIRFLOW__OPENLINEAGE__CONFIG_PATH": CONFIG_FILE},
                                {CONFIG_FILE: PATH_CONFIG}),
    "config_conn_id > config_path": ({**NS, **CLIENT_VARS, "AIRFLOW__OPENLINEAGE__TRANSPORT": transport(CONN),
                                      conn_variable(CONN): connection(password=KEY),
                                      "AIRFLOW__OPENLINEAGE__CONFIG_PATH": CONFIG_FILE,
                                      "AIRFLOW__OPENLINEAGE__CONFIG_CONN_ID": "ol_config",
                                      conn_variable("ol_config"): connection(extra={
                                          "transport": api_key_transport("from-conn", "sk-test-conn-config")})},
                                     {CONFIG_FILE: PATH_CONFIG}),
}


@pytest.fixture(scope="module")
def sent(airflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sent]:
    """Every case, sent by the real provider in one batch."""
    names = list(CASES)
    found = airflow_sends([CASES[n][0] for n in names], tmp_path_factory.mktemp("airflow-conn"), airflow_python,
                          files=[CASES[n][1] for n in names])
    return dict(zip(names, found, strict=True))


@pytest.mark.parametrize(("case", "path", "key"), [
    ("password", "/api/v1/lineage", KEY),
    ("extra api_key", "/api/v1/lineage", KEY),
    ("extra_key", "/api/v1/lineage", KEY),
    ("hostile key", "/api/v2/x", HOSTILE),
])
def test_the_key_from_the_connection_is_sent_as_bearer(sent: dict[str, Sent], case: str, path: str, key: str) -> None:
    """Password first, else the extra (extra_key, else api_key): the provider sends exactly Bearer <key>."""
    request = sent[case].only
    assert (request.path, request.authorization) == (path, f"Bearer {key}")


def test_a_missing_connection_sends_nothing(sent: dict[str, Sent]) -> None:
    """No connection, no event: the oracle can tell a broken setup from a working one."""
    assert sent["no connection"].requests == []


@pytest.mark.parametrize(("case", "path", "key"), [
    ("client vars alone", "/from-env", "sk-test-env"),
    ("transport > client vars", "/api/v1/lineage", KEY),
    ("config_path > transport", "/from-path", "sk-test-path"),
    ("config_conn_id > config_path", "/from-conn", "sk-test-conn-config"),
])
def test_precedence(sent: dict[str, Sent], case: str, path: str, key: str) -> None:
    """config_conn_id > config_path > transport > the client's own variables, each over all lower ones."""
    request = sent[case].only
    assert (request.path, request.authorization) == (path, f"Bearer {key}")
