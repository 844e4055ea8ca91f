"""Turn options, ``OLRENDER_*`` variables and Helm values files into one configuration.

Precedence, highest first: command line, environment (``OLRENDER_*``, and
``OPENLINEAGE_API_KEY`` for the key itself), values files (``-f``, later files
win, maps deep-merged like Helm), built-in defaults. Example values block, the
same one the agent chart reads:

    openLineage:
      enabled: true
      apiKeySecret: openlineage-api-key-secret
      url: https://o11y.astronomer.io
      namespace: ultraviolet-corona-6870

This module does no I/O: the CLI reads files and hands their text in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import yaml

from postrenderer.errors import ConfigError, printable
from postrenderer.read.discovery import ComponentRules

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

METHODS = ("secret", "existing-secret", "vault")
DEFAULT_SECRET_NAME = "openlineage-api-key-secret"
DEFAULT_SECRET_KEY = "api-key"
KEY_ENV = "OPENLINEAGE_API_KEY"
# Every message olrender prints is scrubbed of the key, occurrence by occurrence. A short key ("api", "key")
# would be "redacted" inside ordinary words, corrupting the message and showing where the key is. Real keys
# are long random tokens (Astro Deployment API tokens are JWTs of several hundred characters), so 16 leaves
# ample room while making a chance occurrence in a message's words, names and YAML practically impossible.
MIN_KEY_LENGTH = 16

_STRING_KEYS = ("apiKey", "apiKeySecret", "url", "namespace", "endpoint", "facetsEnvironmentVariables")


class ApiKey:
    """A plaintext API key that never shows itself in repr, str or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the key itself; only the Secret builder calls this."""
        return self._value

    def __repr__(self) -> str:
        return "ApiKey(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class OpenLineageConfig:
    """What every agent component should end up with."""

    __slots__ = ("api_key", "enabled", "endpoint", "facets_environment_variables", "method", "namespace",
                 "secret_key", "secret_name", "url", "vault")

    def __init__(
        self, enabled: bool = True, method: str = "secret", api_key: ApiKey | None = None,
        secret_name: str = DEFAULT_SECRET_NAME, secret_key: str = DEFAULT_SECRET_KEY, url: str | None = None,
        namespace: str | None = None, endpoint: str | None = None, facets_environment_variables: str | None = None,
        vault: Any = None,
    ) -> None:
        self.enabled, self.method, self.api_key = enabled, method, api_key
        self.secret_name, self.secret_key = secret_name, secret_key
        self.url, self.namespace, self.endpoint = url, namespace, endpoint
        self.facets_environment_variables, self.vault = facets_environment_variables, vault

    def plain_env(self) -> list[dict[str, Any]]:
        """The non-secret variables, in the chart's order."""
        pairs = (
            ("OPENLINEAGE_URL", self.url),
            ("OPENLINEAGE_NAMESPACE", self.namespace),
            ("OPENLINEAGE_ENDPOINT", self.endpoint),
            ("OPENLINEAGE__FACETS__ENVIRONMENT_VARIABLES", self.facets_environment_variables),
        )
        return [{"name": name, "value": value} for name, value in pairs if value is not None]


class Settings:
    """Everything the pure pipeline needs to know."""

    __slots__ = ("allow_no_match", "openlineage", "overwrite", "rules")

    def __init__(
        self, openlineage: OpenLineageConfig, rules: ComponentRules | None = None, overwrite: bool = False,
        allow_no_match: bool = False,
    ) -> None:
        self.openlineage, self.overwrite, self.allow_no_match = openlineage, overwrite, allow_no_match
        self.rules = rules if rules is not None else ComponentRules()


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge override into a copy of base the way Helm merges values (maps merge, the rest replaces)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        elif value is None and key in merged:
            merged.pop(key)  # Helm: null deletes a key
        else:
            merged[key] = value
    return merged


def load_values(files: list[tuple[str, str]], warnings: list[str] | None = None) -> dict[str, Any]:
    """Parse and merge values files given as (name, text) pairs; duplicate keys become warnings."""
    from postrenderer.read import reader  # the one budgeted reader: the stream's limits (depth, aliases, size)

    merged: dict[str, Any] = {}
    for name, text in files:
        try:
            data, duplicates = reader.load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise ConfigError(f"values file {name}: malformed YAML{at}: {problem}") from None
        except reader.TooLarge as exc:  # (an alias inside its own anchor, a: &a [*a], too)
            raise ConfigError(f"values file {name}: {exc.describe()}") from None
        if warnings is not None:
            warnings.extend(
                f"values file {name}: duplicate key {printable(duplicate)}; like Helm, olrender uses the last value"
                for duplicate in duplicates
            )
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ConfigError(f"values file {name}: must be a mapping, got {type(data).__name__}")
        block = data.get("openLineage")
        if block is not None and not isinstance(block, dict):
            raise ConfigError(
                f"values file {name}: openLineage must be a mapping, got {type(block).__name__}"
            )
        for key in _STRING_KEYS:
            value = (block or {}).get(key)
            if value is not None and not isinstance(value, str):
                raise ConfigError(
                    f"values file {name}: openLineage.{key} must be a string, got {type(value).__name__}"
                )
        enabled = (block or {}).get("enabled")
        if enabled is not None and not isinstance(enabled, bool):
            raise ConfigError(
                f"values file {name}: openLineage.enabled must be true or false, got {enabled!r}"
            )
        merged = deep_merge(merged, data)  # (the reader bounds its depth and refuses cycles)
    return merged


def clean_key(raw: str, source: str) -> ApiKey:
    """Trim surrounding white space; refuse a key that is empty, short, not UTF-8 or not one line of text.

    The messages describe the key, never quote it.
    """
    value = raw.strip()
    if not value:
        raise ConfigError(f"{source}: the API key is empty")
    if any(ch in value for ch in "\r\n"):
        raise ConfigError(f"{source}: the API key spans several lines")
    if any("\udc80" <= ch <= "\udcff" for ch in value):  # bytes the environment could not decode
        raise ConfigError(f"{source}: the API key is not UTF-8 text")
    if not value.isprintable():
        raise ConfigError(
            f"{source}: the API key holds a control character, which an HTTP header cannot carry"
        )
    if len(value) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{source}: the API key is {len(value)} characters long; olrender accepts keys of at least "
            f"{MIN_KEY_LENGTH} (real keys are long random tokens, and a short one could not be kept out of "
            "messages without garbling them)"
        )
    return ApiKey(value)


def check_names(options: Mapping[str, Any], values_secret: str | None, known: tuple[str, ...] = ()) -> None:
    """Refuse, all at once, every Secret name and key Kubernetes would refuse or that looks like an API key."""
    from postrenderer.config import kubenames

    names = (
        (options.get("api_key_secret"), "--api-key-secret", kubenames.SECRET),
        (values_secret, "openLineage.apiKeySecret", kubenames.SECRET),
        (options.get("secret_name"), "--secret-name", kubenames.SECRET),
        (options.get("api_key_secret_key"), "--api-key-secret-key", kubenames.SECRET_KEY),
    )
    problems = [
        message for value, setting, rule in names
        if value is not None and (message := kubenames.check_name(value, rule, setting, known))
    ]
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        raise ConfigError(f"{len(problems)} names are invalid:\n" + "\n".join(f"  - {p}" for p in problems))


def resolve(
    options: Mapping[str, Any],
    values: Mapping[str, Any],
    environ: Mapping[str, str],
    read_key_file: Callable[[str], str],
) -> tuple[Settings, list[str]]:
    """Combine options (None = not given), values and environment into Settings and warnings."""
    warnings: list[str] = []
    block: Mapping[str, Any] = values.get("openLineage") or {}

    def pick(option: str, value_key: str | None, default: Any = None) -> Any:
        given = options.get(option)
        if given is not None:
            return given
        if value_key is not None and block.get(value_key) is not None:
            return block[value_key]
        return default

    values_key = block.get("apiKey")
    values_secret = block.get("apiKeySecret")
    if values_key and values_secret:
        raise ConfigError("openLineage.apiKey and openLineage.apiKeySecret are both set; choose one")
    if values_key:
        warnings.append(
            "openLineage.apiKey puts the plaintext key in a values file and the Helm release; "
            "prefer an existing Secret (apiKeySecret) or --method vault"
        )

    api_key: ApiKey | None = None
    key_file = options.get("api_key_file")
    if key_file:
        api_key = clean_key(read_key_file(key_file), f"--api-key-file {key_file}")
    elif environ.get(KEY_ENV) is not None:
        api_key = clean_key(environ[KEY_ENV], f"environment variable {KEY_ENV}")
    elif values_key:
        api_key = clean_key(values_key, "openLineage.apiKey")

    keys = (api_key.reveal() if api_key else None, environ.get(KEY_ENV), values_key)
    check_names(options, values_secret, tuple(key.strip() for key in keys if isinstance(key, str) and key.strip()))
    existing = pick("api_key_secret", "apiKeySecret")
    if key_file and options.get("api_key_secret"):
        raise ConfigError("--api-key-file and --api-key-secret are both set; choose one")
    method = options.get("method")
    if method is None:
        if block.get("vault") is not None:
            method = "vault"
        elif key_file:
            method = "secret"
            if existing:
                warnings.append("openLineage.apiKeySecret is ignored: --api-key-file selects the secret method")
        elif existing:
            method = "existing-secret"
        else:
            method = "secret"
    if method not in METHODS:
        raise ConfigError(f"--method {method}: choose one of {', '.join(METHODS)}")

    enabled = block.get("enabled", True)
    vault = None
    if enabled and method == "vault":
        from postrenderer.inject.vault_settings import vault_config  # only the vault method loads its settings

        vault = vault_config(options, block.get("vault"), pick("url", "url"))
        if values_key or values_secret:
            warnings.append(
                "openLineage.apiKey/apiKeySecret are ignored: the vault method reads the key from Vault "
                "(remove them, or the chart renders its own OPENLINEAGE_API_KEY)"
            )
    if enabled and method == "secret" and api_key is None:
        raise ConfigError(
            "the secret method needs a key: --api-key-file FILE, the environment variable "
            f"{KEY_ENV}, or openLineage.apiKey (or use --api-key-secret / --method vault)"
        )
    if enabled and method == "existing-secret" and not existing:
        raise ConfigError(
            "the existing-secret method needs --api-key-secret NAME or openLineage.apiKeySecret"
        )
    if method == "existing-secret" and values_key and not values_secret:
        warnings.append("openLineage.apiKey is ignored: the existing-secret method references a Secret")

    secret_name = existing if method == "existing-secret" else options.get("secret_name")
    config = OpenLineageConfig(
        enabled=bool(enabled),
        method=method,
        api_key=api_key if method == "secret" else None,
        secret_name=secret_name or DEFAULT_SECRET_NAME,
        secret_key=options.get("api_key_secret_key") or DEFAULT_SECRET_KEY,
        url=pick("url", "url"),
        namespace=pick("namespace", "namespace"),
        endpoint=pick("endpoint", "endpoint"),
        facets_environment_variables=pick("facets_environment_variables", "facetsEnvironmentVariables"),
        vault=vault,
    )
    rules = ComponentRules.build(
        options.get("component_selector"), options.get("component_name"), options.get("container")
    )
    settings = Settings(
        openlineage=config,
        rules=rules,
        overwrite=bool(options.get("overwrite")),
        allow_no_match=bool(options.get("allow_no_match")),
    )
    return settings, warnings
