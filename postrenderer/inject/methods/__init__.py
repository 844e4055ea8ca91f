"""The registry: every way of handing over the key, one module each, by the name ``--method`` takes.

    secret           OPENLINEAGE_API_KEY from Secret openlineage-api-key-secret
                     (generated from the plaintext key), checksum annotation
    existing-secret  OPENLINEAGE_API_KEY from a Secret the user created
    vault            a Vault Agent init container renders the key (vault.py)
    airflow-connection  AIRFLOW__OPENLINEAGE__TRANSPORT whose key the provider reads from an Airflow connection
    disabled         (openLineage.enabled: false) OPENLINEAGE_DISABLED="true"

Each module holds one ``contract.Method`` subclass; adding a method is one module
and one line in ``METHODS`` (docs/development.md, "How to add a method").
The option table (``cli.options``) and the configuration (``config.settings``)
are built from this table. Method modules import only the contract at start-up.
"""

from __future__ import annotations

from postrenderer.errors import ConfigError
from postrenderer.inject.methods.airflow_connection import AirflowConnectionMethod
from postrenderer.inject.methods.disabled import DisabledMethod
from postrenderer.inject.methods.existing_secret import ExistingSecretMethod
from postrenderer.inject.methods.secret import CHECKSUM_ANNOTATION, SecretMethod
from postrenderer.inject.methods.vault import VaultMethod

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from postrenderer.inject.contract import Method, OpenLineageConfig

__all__ = ["CHECKSUM_ANNOTATION", "METHODS", "choices", "method_class", "method_for"]

METHODS: dict[str, type[Method]] = {
    "secret": SecretMethod,
    "existing-secret": ExistingSecretMethod,
    "vault": VaultMethod,
    "airflow-connection": AirflowConnectionMethod,
    "disabled": DisabledMethod,
}


def choices() -> tuple[str, ...]:
    """The names ``--method`` accepts, in the table's order."""
    return tuple(name for name, method in METHODS.items() if method.selectable)


def method_class(name: str, setting: str = "--method") -> type[Method]:
    """The method registered under name; the error names the valid choices."""
    method = METHODS.get(name)
    if method is None or not method.selectable:
        raise ConfigError(f"{setting} {name}: choose one of {', '.join(choices())}")
    return method


def method_for(config: OpenLineageConfig) -> Method:
    """The method object for a configuration (``openLineage.enabled: false`` is the disabled method)."""
    return METHODS["disabled"](config) if not config.enabled else METHODS[config.method](config)
