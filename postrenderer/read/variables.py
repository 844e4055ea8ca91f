"""The OpenLineage variables by name, and the one rule for which values must never be shown.

Every stage speaks of the same variables: olrender reads the key from
``OPENLINEAGE_API_KEY``, the methods write it and the URL into a component's
``env``, the lint models how openlineage-python and the Airflow provider read
them back. Their names live here once, and so does ``is_sensitive``, which the
lint, the plan's descriptions, ``--explain`` and ``--diff`` all apply:

    is_sensitive("OPENLINEAGE_API_KEY")               -> True   (a word: KEY)
    is_sensitive("AIRFLOW__OPENLINEAGE__TRANSPORT")   -> True   (a whole transport, key included)
    is_sensitive("AIRFLOW_CONN_OPENLINEAGE")          -> True   (a connection URI with its password)
    is_sensitive("OPENLINEAGE__TRANSPORT__URL")       -> False  (a plain field)
    is_sensitive("OPENLINEAGE_NAMESPACE")             -> False
"""

from __future__ import annotations

KEY_VAR = "OPENLINEAGE_API_KEY"
URL_VAR = "OPENLINEAGE_URL"
NAMESPACE_VAR = "OPENLINEAGE_NAMESPACE"
ENDPOINT_VAR = "OPENLINEAGE_ENDPOINT"
FACETS_VAR = "OPENLINEAGE__FACETS__ENVIRONMENT_VARIABLES"
CLIENT_DISABLED_VAR = "OPENLINEAGE_DISABLED"
CLIENT_CONFIG_VAR = "OPENLINEAGE_CONFIG"
AIRFLOW_NAMESPACE_VAR = "AIRFLOW__OPENLINEAGE__NAMESPACE"
AIRFLOW_DISABLED_VAR = "AIRFLOW__OPENLINEAGE__DISABLED"
TRANSPORT_JSON_VAR = "AIRFLOW__OPENLINEAGE__TRANSPORT"
AIRFLOW_CONFIG_VAR = "AIRFLOW__OPENLINEAGE__CONFIG_PATH"
AIRFLOW_CONNECTION_VAR = "AIRFLOW__OPENLINEAGE__CONFIG_CONN_ID"
TRANSPORT_TYPE_VAR = "OPENLINEAGE__TRANSPORT__TYPE"
TRANSPORT_URL_VAR = "OPENLINEAGE__TRANSPORT__URL"
AUTH_TYPE_VAR = "OPENLINEAGE__TRANSPORT__AUTH__TYPE"
AUTH_KEY_VAR = "OPENLINEAGE__TRANSPORT__AUTH__APIKEY"
DYNAMIC_JSON_VAR = "OPENLINEAGE__TRANSPORT"  # a whole transport as JSON: it replaces every nested variable
DEFAULT_HTTP = "OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP"
NAMESPACE_VARS = (NAMESPACE_VAR, AIRFLOW_NAMESPACE_VAR)
CONFIG_FILE_VARS = (CLIENT_CONFIG_VAR, AIRFLOW_CONFIG_VAR)  # where the client and the provider look for a file

SENSITIVE_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")
SENSITIVE_NAMES = (TRANSPORT_JSON_VAR,)
SENSITIVE_PREFIXES = ("AIRFLOW_CONN_",)
# OPENLINEAGE__* variables may hold a whole transport as JSON (key included), except those naming a plain field
PLAIN_FIELDS = ("TYPE", "URL", "ENDPOINT", "TIMEOUT", "VERIFY", "COMPRESSION", "PRIORITY")


def is_sensitive(name: str) -> bool:
    """Whether an env variable's literal value must never be shown (lint, plan, ``--explain``, ``--diff``)."""
    upper = name.upper()
    return (
        any(word in upper for word in SENSITIVE_WORDS)
        or upper in SENSITIVE_NAMES
        or upper.startswith(SENSITIVE_PREFIXES)
        or (upper.startswith("OPENLINEAGE__") and upper.rsplit("__", 1)[-1] not in PLAIN_FIELDS)
    )
