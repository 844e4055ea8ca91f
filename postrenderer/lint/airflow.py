"""The Airflow provider's steps before the OpenLineage client: whether lineage is on, and its configuration.

apache-airflow-providers-openlineage 2.20.3 decides first whether lineage is
disabled (``conf.is_disabled``), then hands the client the configuration of
``[openlineage] config_path`` or ``[openlineage] transport``
(``get_openlineage_config``), after turning each ``airflow_connection_api_key``
auth into the API key of the connection it names (``token_provider.py``). For example:

    AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "http", "url": "https://x",
        "auth": {"type": "airflow_connection_api_key", "conn_id": "ol"}}'
    -> {"transport": {"type": "http", "url": "https://x",
                      "auth": {"type": "api_key", "apiKey": ConnectionKey("ol")}}}

    AIRFLOW__OPENLINEAGE__DISABLED=true -> disabled by AIRFLOW__OPENLINEAGE__DISABLED

``lint.transport.resolve`` runs these steps, then the client's.
"""

from __future__ import annotations

from postrenderer.lint.model import (
    TRANSPORT_PREFIX,
    Broken,
    CannotTell,
    ConnectionKey,
    Resolved,
    Sourced,
    Unseen,
    file_config,
    load_json,
    seen,
    source_of,
)
from postrenderer.read.variables import (
    AIRFLOW_CONFIG_VAR,
    AIRFLOW_CONNECTION_VAR,
    AIRFLOW_DISABLED_VAR,
    CLIENT_CONFIG_VAR,
    CLIENT_DISABLED_VAR,
    TRANSPORT_JSON_VAR,
    URL_VAR,
)

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from postrenderer.lint.model import Reader

CONNECTION_AUTH = "airflow_connection_api_key"  # the provider's (token_provider.py, since 2.18.0)


def airflow_disabled(env: Mapping[str, object]) -> Resolved | None:
    """Whether the provider switches lineage off (``conf.is_disabled``): by a setting, or for want of any."""
    value = env.get(AIRFLOW_DISABLED_VAR)
    if isinstance(value, str):
        word = value.lower().strip().split("#")[0].strip()
        if word in ("t", "true", "1"):
            return Resolved("disabled", AIRFLOW_DISABLED_VAR)
        if word not in ("f", "false", "0"):
            raise Broken(AIRFLOW_DISABLED_VAR, f"{AIRFLOW_DISABLED_VAR} is not a boolean Airflow can read")
    if str(env.get(CLIENT_DISABLED_VAR, "")).lower().strip() in ("true", "1", "t"):
        return Resolved("disabled", CLIENT_DISABLED_VAR)
    configured = (
        env.get(AIRFLOW_CONNECTION_VAR) or _airflow_transport(env) or env.get(AIRFLOW_CONFIG_VAR)
        or env.get(CLIENT_CONFIG_VAR) or env.get(URL_VAR)
        or any(name.startswith(TRANSPORT_PREFIX) and value for name, value in env.items())
    )
    return None if configured else Resolved("disabled", problem="nothing configures a transport")


def _airflow_transport(env: Mapping[str, object]) -> object:
    """``[openlineage] transport``: the JSON of ``AIRFLOW__OPENLINEAGE__TRANSPORT``, or None."""
    value = seen(env.get(TRANSPORT_JSON_VAR))
    if not value:
        return None
    assert isinstance(value, Sourced)
    try:
        transport = load_json(value)
    except ValueError:
        raise Broken(value.source, f"{value.source} is not valid JSON") from None
    if not isinstance(transport, dict):
        raise Broken(value.source, f"{value.source} is not a JSON object")
    return transport


def _connection_auth(value: object) -> object:
    """``resolve_airflow_connection_auth``: each ``airflow_connection_api_key`` auth becomes the connection's api_key.

    The provider walks mappings, and lists only under ``transports``; the copy leaves a cached file untouched.
    """
    if not isinstance(value, dict):
        return value
    found: dict[Any, Any] = {}
    for key, item in value.items():
        if key == "auth" and isinstance(item, dict) and seen(item.get("type")) == CONNECTION_AUTH:
            conn_id, by = item.get("conn_id"), source_of(item["type"], TRANSPORT_JSON_VAR)
            if not seen(conn_id):
                raise Broken(by, f"the transport's {CONNECTION_AUTH} auth has no conn_id")
            by = source_of(conn_id, by)
            found[key] = {"type": Sourced("api_key", by), "apiKey": ConnectionKey(str(conn_id), by)}
        elif key == "transports" and isinstance(item, list):
            found[key] = [_connection_auth(child) for child in item]
        else:
            found[key] = _connection_auth(item)
    return found


def airflow_config(env: Mapping[str, object], read: Reader) -> dict[str, Any] | None:
    """The configuration the provider hands the client (``get_openlineage_config``)."""
    connection = env.get(AIRFLOW_CONNECTION_VAR)
    if connection:
        raise CannotTell(Unseen(source_of(connection, AIRFLOW_CONNECTION_VAR), "the Airflow connection it names"))
    path = seen(env.get(AIRFLOW_CONFIG_VAR))
    if path:
        assert isinstance(path, Sourced)
        content = file_config(path, read, strict=True)
        if content is not None and not isinstance(content, dict):
            raise Broken(path.source, f"the config file {path} is not a YAML mapping")
        found = _connection_auth(content)
        return found if isinstance(found, dict) and found else None
    transport = _airflow_transport(env)
    found = _connection_auth({"transport": transport}) if transport else None
    return found if isinstance(found, dict) else None
