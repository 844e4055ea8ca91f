"""``--method external-secret``: an External Secrets Operator ExternalSecret makes the Secret; components reference it.

    env:  OPENLINEAGE_API_KEY from secretKeyRef <--secret-name>/<--api-key-secret-key> (plus the plain variables)
    adds: one external-secrets.io/v1 ExternalSecret per namespace of the components:

        apiVersion: external-secrets.io/v1
        kind: ExternalSecret
        metadata: {name: openlineage-api-key-secret, namespace: astro}
        spec:
          refreshInterval: 1h
          secretStoreRef: {kind: ClusterSecretStore, name: vault}
          target: {name: openlineage-api-key-secret, creationPolicy: Owner}
          data:
          - secretKey: api-key
            remoteRef: {key: openlineage/api-key, property: key}

The store is the platform team's: referenced by kind and name, never created. Only ``v1`` is
generated (ESO no longer serves ``v1beta1`` since 0.17.0). With ``creationPolicy: Owner`` ESO owns
the Secret, so a Secret of that name rendered by the chart is a conflict. ``--check`` takes an
ExternalSecret in the stream as the source of its target Secret (``produced_secret``).
"""

from __future__ import annotations

import json
import re

from postrenderer.errors import ConfigError
from postrenderer.inject.contract import CHOICE, GENERATED_BY, Injection, Method, NewDocument, Setting, metadata
from postrenderer.inject.contract import secret_key_ref as key_ref

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from postrenderer.inject.contract import Given, OpenLineageConfig
    from postrenderer.read.discovery import Component

API_VERSION = "external-secrets.io/v1"
KIND = "ExternalSecret"
STORE_KINDS = ("ClusterSecretStore", "SecretStore")
DEFAULT_REFRESH = "1h"
CREATION_POLICY = "Owner"
# a Go duration as metav1.Duration parses it (time.ParseDuration), without a sign: 1h, 30m, 0s, 1h30m, 1.5h, 0
_DURATION_RE = r"0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+"
_MOUNT_DATA_RE = r"[^/]+/data/."  # secret/data/openlineage: a KV v2 mount and its API's data/ segment

SETTINGS = (
    Setting("external-secret-store", "Name of the SecretStore or ClusterSecretStore to read from (required).",
            values_key="externalSecret.store", metavar="NAME"),
    Setting("external-secret-store-kind", "Kind of that store.  [default: ClusterSecretStore]",
            values_key="externalSecret.storeKind", kind=CHOICE, choices=STORE_KINDS),
    Setting("external-secret-key", "The provider's key of the secret holding the API key (required).",
            values_key="externalSecret.key", metavar="KEY"),
    Setting("external-secret-property", "Property of that secret holding the API key (optional).",
            values_key="externalSecret.property", metavar="NAME"),
    Setting("external-secret-refresh", "How often ESO reads the key again, a Go duration such as 1h, 30m or 0s "
            "(once).  [default: 1h]", values_key="externalSecret.refreshInterval", metavar="DURATION"),
)


class ExternalSecretConfig:
    """The validated settings of the external-secret method."""

    __slots__ = ("key", "property", "refresh", "store", "store_kind")

    def __init__(self, store: str, store_kind: str, key: str, property: str | None, refresh: str) -> None:
        self.store, self.store_kind, self.key, self.property, self.refresh = store, store_kind, key, property, refresh


def _text(given: Given, setting: Setting, problems: list[str]) -> str | None:
    """A setting given as text (an option or a values key), else None; another type is a problem."""
    value = given.value(setting)
    if value is None or isinstance(value, str):
        return value
    problems.append(f"{setting.values_path} must be a string, got {type(value).__name__}")
    return None


def settings_problems(given: Given) -> tuple[list[str], list[str | None]]:
    """Every problem with the settings, and the settings as given (None: not given)."""
    block = given.block.get("externalSecret")
    if block is not None and not isinstance(block, dict):
        return [f"openLineage.externalSecret must be a mapping, got {type(block).__name__}"], [None] * len(SETTINGS)
    problems: list[str] = []
    store, kind, key, prop, refresh = found = [_text(given, setting, problems) for setting in SETTINGS]
    for value, setting in ((store, SETTINGS[0]), (key, SETTINGS[2])):
        if value is None and not given.check:
            problems.append(f"the external-secret method needs {setting.flag} (or {setting.values_path})")
    if kind is not None and kind not in STORE_KINDS:
        problems.append(f"{SETTINGS[1].flag} {kind!r}: choose one of {', '.join(STORE_KINDS)} (case matters)")
    if refresh is not None and not re.fullmatch(_DURATION_RE, refresh):
        problems.append(f"{SETTINGS[4].flag} {refresh!r}: expected a Go duration such as 1h, 30m, 1h30m or 0s")
    for value, setting in ((store, SETTINGS[0]), (key, SETTINGS[2]), (prop, SETTINGS[3])):
        if value is not None and value != value.strip():
            problems.append(f"{setting.flag} {value!r}: leading or trailing white space")
    return problems, found


class ExternalSecretMethod(Method):
    """An ESO ExternalSecret per namespace makes the Secret the components reference."""

    name = "external-secret"
    title = "External Secrets Operator method (--method external-secret)"
    settings = SETTINGS
    selected_by = "externalSecret"
    produces = (KIND,)

    @classmethod
    def configure(cls, given: Given, config: OpenLineageConfig) -> ExternalSecretConfig:
        """The store, its kind, the remote key and property, the refresh interval; every problem in one error."""
        problems, (store, kind, key, prop, refresh) = settings_problems(given)
        if len(problems) == 1:
            raise ConfigError(problems[0])
        if problems:
            raise ConfigError(f"{len(problems)} external-secret settings are missing or invalid:\n"
                              + "\n".join(f"  - {p}" for p in problems))
        return ExternalSecretConfig(store or "", kind or STORE_KINDS[0], key or "", prop, refresh or DEFAULT_REFRESH)

    @classmethod
    def warnings(cls, given: Given) -> list[str]:
        """A Vault KV v2 path in the remote key; a plaintext key or an existing Secret in the values goes unused."""
        found: list[str] = []
        key = given.value(SETTINGS[2])
        if isinstance(key, str) and re.match(_MOUNT_DATA_RE, key):
            mount = key.split("/", 1)[0]
            found.append(
                f"{SETTINGS[2].flag} {key!r} looks like a Vault KV version 2 API path: ESO's Vault provider adds "
                f"/data itself, so with a store whose path is not {mount!r} it reads "
                f"<path>/data/{key}; give the key without the mount and data/ "
                f"({key.split('/data/', 1)[1]!r}, docs/external-secret.md)"
            )
        for unused in ("apiKey", "apiKeySecret"):
            if given.block.get(unused):
                found.append(f"openLineage.{unused} is ignored: the external-secret method's key comes from ESO")
        return found

    @property
    def es(self) -> ExternalSecretConfig:
        """The method's settings."""
        settings: ExternalSecretConfig = self.config.method_settings
        return settings

    def spec(self) -> dict[str, Any]:
        """The ExternalSecret's spec (the same in every namespace)."""
        remote: dict[str, Any] = {"key": self.es.key}
        if self.es.property is not None:
            remote["property"] = self.es.property
        return {
            "refreshInterval": self.es.refresh,
            "secretStoreRef": {"kind": self.es.store_kind, "name": self.es.store},
            "target": {"name": self.config.secret_name, "creationPolicy": CREATION_POLICY},
            "data": [{"secretKey": self.config.secret_key, "remoteRef": remote}],
        }

    def injection(self, component: Component) -> Injection:
        """Key from the Secret the ExternalSecret makes, plus the plain variables."""
        return Injection(env=[*self.config.plain_env(), key_ref(self.config)])

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """One ExternalSecret per namespace; it owns the Secret of the same name."""
        name = self.config.secret_name
        doc = {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata(name, namespace), "spec": self.spec()}
        why = (f"ExternalSecret {name} creates and owns Secret {name} (creationPolicy: {CREATION_POLICY}), so ESO "
               "and Helm would fight over it. Drop the chart's Secret (openLineage.apiKey renders it) or choose "
               "another --secret-name")
        return [NewDocument(f"{GENERATED_BY}/{name}-externalsecret.yaml", doc, owns={("Secret", name): why})]

    def reference(self) -> str:
        """The ExternalSecret's spec as canonical JSON: a changed store, key or refresh rolls the pods."""
        return json.dumps(self.spec(), sort_keys=True, separators=(",", ":"))

    def reload_secret(self) -> str:
        """Reloader watches the Secret ESO writes."""
        return self.config.secret_name

    @classmethod
    def produced_secret(cls, doc: Mapping[str, Any]) -> dict[str, Any] | None:
        """The Secret an ExternalSecret of the stream makes: its target (default: its own name) with its keys."""
        if doc.get("apiVersion") != API_VERSION:
            return None
        meta, spec = doc.get("metadata"), doc.get("spec")
        if not isinstance(meta, dict) or not isinstance(spec, dict):
            return None
        target: dict[str, Any] = spec["target"] if isinstance(spec.get("target"), dict) else {}
        name = target.get("name") or meta.get("name")
        data = spec.get("data")
        keys = [item["secretKey"] for item in data if isinstance(item, dict) and isinstance(item.get("secretKey"), str)
                ] if isinstance(data, list) else []
        if not isinstance(name, str) or spec.get("dataFrom") or target.get("template"):
            return None  # (keys from dataFrom or a template are known only to ESO: the lint cannot tell)
        secret_meta = {"name": name, **({"namespace": meta["namespace"]} if "namespace" in meta else {})}
        return {"apiVersion": "v1", "kind": "Secret", "metadata": secret_meta, "data": dict.fromkeys(keys, "")}
