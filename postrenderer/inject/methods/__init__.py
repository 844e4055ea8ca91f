"""The registry: every way of handing over the key, one module each, by the name ``--method`` takes.

    secret           OPENLINEAGE_API_KEY from Secret openlineage-api-key-secret
                     (generated from the plaintext key), checksum annotation
    existing-secret  OPENLINEAGE_API_KEY from a Secret the user created
    external-secret  OPENLINEAGE_API_KEY from a Secret an ESO ExternalSecret makes (external_secret.py)
    vault            a Vault Agent init container renders the key (vault.py)
    vault-injector   the cluster's Vault Agent Injector renders a config file (annotations)
    airflow-connection  AIRFLOW__OPENLINEAGE__TRANSPORT whose key the provider reads from an Airflow connection
    disabled         (openLineage.enabled: false) OPENLINEAGE_DISABLED="true"

Each module holds one ``contract.Method`` subclass; adding a method is one module
and one line in ``METHODS`` (docs/development.md, "How to add a method").
The option table (``cli.options``) and the configuration (``config.settings``)
are built from this table. Method modules import only the contract at start-up.
Several methods may declare the same ``Setting`` object (vault-injector shares the
vault method's): it is one option, listed in the group of the first method that
declares it.
"""

from __future__ import annotations

from postrenderer.errors import ConfigError
from postrenderer.inject.methods.airflow_connection import AirflowConnectionMethod
from postrenderer.inject.methods.disabled import DisabledMethod
from postrenderer.inject.methods.existing_secret import ExistingSecretMethod
from postrenderer.inject.methods.external_secret import ExternalSecretMethod
from postrenderer.inject.methods.secret import CHECKSUM_ANNOTATION, SecretMethod
from postrenderer.inject.methods.vault import VaultMethod
from postrenderer.inject.methods.vault_injector import VaultInjectorMethod

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from postrenderer.inject.contract import Method, OpenLineageConfig, Setting
    from postrenderer.read.objects import Producers

__all__ = ["CHECKSUM_ANNOTATION", "METHODS", "choices", "declared", "method_class", "method_for", "producers"]

METHODS: dict[str, type[Method]] = {
    "secret": SecretMethod,
    "existing-secret": ExistingSecretMethod,
    "vault": VaultMethod,
    "external-secret": ExternalSecretMethod,
    "vault-injector": VaultInjectorMethod,
    "airflow-connection": AirflowConnectionMethod,
    "disabled": DisabledMethod,
}


def choices() -> tuple[str, ...]:
    """The names ``--method`` accepts, in the table's order."""
    return tuple(name for name, method in METHODS.items() if method.selectable)


def declared() -> list[tuple[type[Method], Setting]]:
    """Every setting once, with the first method that declares it, in the table's order."""
    seen: set[int] = set()
    found = []
    for method in METHODS.values():
        for setting in method.settings:
            if id(setting) not in seen:
                seen.add(id(setting))
                found.append((method, setting))
    return found


def method_class(name: str, setting: str = "--method") -> type[Method]:
    """The method registered under name; the error names the valid choices."""
    method = METHODS.get(name)
    if method is None or not method.selectable:
        raise ConfigError(f"{setting} {name}: choose one of {', '.join(choices())}")
    return method


def method_for(config: OpenLineageConfig) -> Method:
    """The method object for a configuration (``openLineage.enabled: false`` is the disabled method)."""
    return METHODS["disabled"](config) if not config.enabled else METHODS[config.method](config)


def producers() -> Producers:
    """Every registered method's kinds of stream object that make a Secret (``Method.produced_secret``)."""
    return {kind: method.produced_secret for method in METHODS.values() for kind in method.produces}
