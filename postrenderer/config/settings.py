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
from postrenderer.inject.contract import RESTART_MODES, VALUE, ApiKey, Given, OpenLineageConfig, Setting
from postrenderer.inject.methods import METHODS, declared, method_class
from postrenderer.read.discovery import ComponentRules
from postrenderer.read.variables import KEY_VAR

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ApiKey", "OpenLineageConfig", "Settings", "load_values", "resolve"]
DEFAULT_SECRET_NAME, DEFAULT_SECRET_KEY = OpenLineageConfig.DEFAULT_SECRET_NAME, OpenLineageConfig.DEFAULT_SECRET_KEY
# Every message olrender prints is scrubbed of the key, occurrence by occurrence. A short key ("api", "key")
# would be "redacted" inside ordinary words, corrupting the message and showing where the key is. Real keys
# are long random tokens (Astro Deployment API tokens are JWTs of several hundred characters), so 16 leaves
# ample room while making a chance occurrence in a message's words, names and YAML practically impossible.
MIN_KEY_LENGTH = 16

_STRING_KEYS = ("apiKey", "apiKeySecret", "url", "namespace", "endpoint", "facetsEnvironmentVariables")


class Settings:
    """Everything the pure pipeline needs to know."""

    __slots__ = ("allow_no_match", "openlineage", "overwrite", "restart_on_change", "rules")

    def __init__(
        self, openlineage: OpenLineageConfig, rules: ComponentRules | None = None, overwrite: bool = False,
        allow_no_match: bool = False, restart_on_change: str = RESTART_MODES[0],
    ) -> None:
        """restart_on_change: how pods roll when the key or its source changes (inject.rotation)."""
        self.openlineage, self.overwrite, self.allow_no_match = openlineage, overwrite, allow_no_match
        self.rules = rules if rules is not None else ComponentRules()
        self.restart_on_change = restart_on_change


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


RESTART_ON_CHANGE = Setting("restart-on-change", "", values_key="restartOnChange")


def restart_on_change(given: Given) -> str:
    """--restart-on-change, else openLineage.restartOnChange, else checksum; the values key is checked here."""
    mode = given.value(RESTART_ON_CHANGE)
    if mode is None:
        return RESTART_MODES[0]
    if mode not in RESTART_MODES:  # (click checks the option and its variable)
        raise ConfigError(
            f"{RESTART_ON_CHANGE.values_path}: {printable(mode)!r} is not one of {', '.join(RESTART_MODES)}"
        )
    return str(mode)


# the common settings whose text ends up in the stream: given, each must be non-empty UTF-8 text
TEXT_SETTINGS = (Setting("url", "", values_key="url"), Setting("namespace", "", values_key="namespace"),
                 Setting("endpoint", "", values_key="endpoint"))


def text_problems(given: Given) -> list[str]:
    """Empty or undecodable values of the settings olrender writes as text (every method's too)."""
    settings = [*TEXT_SETTINGS, *(s for _, s in declared() if s.kind == VALUE)]
    problems = []
    for setting in settings:
        for value, source in ((given.options.get(setting.name), setting.flag),
                              (given.from_values(setting), setting.values_path)):
            if not isinstance(value, str):
                continue
            if not value.strip():
                problems.append(f"{source}: the value is empty; set it, or leave the setting out")
            elif any("\udc80" <= ch <= "\udcff" for ch in value):  # bytes the environment could not decode
                problems.append(f"{source}: the value is not UTF-8 text (Kubernetes would refuse the manifest)")
    return problems


def refuse(problems: list[str], what: str = "settings are invalid") -> None:
    """Every problem in one configuration error (none: nothing to say)."""
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        raise ConfigError(f"{len(problems)} {what}:\n" + "\n".join(f"  - {p}" for p in problems))


def read_key(
    options: Mapping[str, Any], block: Mapping[str, Any], environ: Mapping[str, str],
    read_key_file: Callable[[str], str], warnings: list[str],
) -> ApiKey | None:
    """The plaintext key: --api-key-file, else OPENLINEAGE_API_KEY, else openLineage.apiKey (None: none given)."""
    values_key = block.get("apiKey")
    if values_key and block.get("apiKeySecret"):
        raise ConfigError("openLineage.apiKey and openLineage.apiKeySecret are both set; choose one")
    if values_key:
        warnings.append(
            "openLineage.apiKey puts the plaintext key in a values file and the Helm release; "
            "prefer an existing Secret (apiKeySecret) or --method vault"
        )
    key_file = options.get("api_key_file")
    if key_file:
        return clean_key(read_key_file(key_file), f"--api-key-file {key_file}")
    if environ.get(KEY_VAR) is not None:
        return clean_key(environ[KEY_VAR], f"environment variable {KEY_VAR}")
    return clean_key(values_key, "openLineage.apiKey") if values_key else None


def choose_method(given: Given, warnings: list[str]) -> str:
    """--method, else the first method whose values key (openLineage.vault) or its option is set, else the key source's.

    ``openLineage.vaultInjector: true`` with an ``openLineage.vault`` block selects vault-injector: the block
    holds the settings both Vault methods share, so a method selected by a key of its own comes first.
    """
    options, block = given.options, given.block
    existing = options.get("api_key_secret") if options.get("api_key_secret") is not None else block.get("apiKeySecret")
    key_file = options.get("api_key_file")
    if key_file and options.get("api_key_secret"):
        raise ConfigError("--api-key-file and --api-key-secret are both set; choose one")
    if options.get("method") is not None:
        return str(options["method"])
    present = [(name, method) for name, method in METHODS.items()
               if method.selectable and method.selected_by is not None
               and (block.get(method.selected_by) not in (None, False) or any(
                   options.get(s.name) is not None for s in method.settings if s.values_key == method.selected_by))]
    for name, method in present:  # a key other present methods keep their settings under selects none of them
        if not any(other is not method and any(str(s.values_key).split(".")[0] == method.selected_by
                                               for s in other.settings) for _, other in present):
            return name
    if key_file:
        if existing:
            warnings.append("openLineage.apiKeySecret is ignored: --api-key-file selects the secret method")
        return "secret"
    return "existing-secret" if existing else "secret"


def component_rules(options: Mapping[str, Any]) -> ComponentRules:
    """How components are found: --component-selector, --component-name, --container."""
    selector = options.get("component_selector")
    if selector is not None and not selector.strip():
        raise ConfigError(
            "--component-selector: the label selector is empty; give one such as component=worker, "
            "or leave the option out for the default rules"
        )
    return ComponentRules.build(selector, options.get("component_name"), options.get("container"))


def resolve(
    options: Mapping[str, Any],
    values: Mapping[str, Any],
    environ: Mapping[str, str],
    read_key_file: Callable[[str], str],
    check: bool = False,
) -> tuple[Settings, list[str]]:
    """Combine options (None = not given), values and environment into Settings and warnings.

    check: a ``--check`` resolution, which needs no key (nor anything else only rendering uses).
    """
    warnings: list[str] = []
    block: Mapping[str, Any] = values.get("openLineage") or {}
    given = Given(options, block, check)
    refuse(text_problems(given))
    rules = component_rules(options)
    rolling = restart_on_change(given)
    api_key = read_key(options, block, environ, read_key_file, warnings)
    keys = (api_key.reveal() if api_key else None, environ.get(KEY_VAR), block.get("apiKey"))
    check_names(options, block.get("apiKeySecret"),
                tuple(key.strip() for key in keys if isinstance(key, str) and key.strip()))
    name = choose_method(given, warnings)
    method = method_class(name)
    pick = given.value
    config = OpenLineageConfig(
        enabled=bool(block.get("enabled", True)), method=name, api_key=api_key if method.needs_key else None,
        secret_name=options.get("secret_name") or DEFAULT_SECRET_NAME,
        secret_key=options.get("api_key_secret_key") or DEFAULT_SECRET_KEY,
        url=pick(TEXT_SETTINGS[0]), namespace=pick(TEXT_SETTINGS[1]), endpoint=pick(TEXT_SETTINGS[2]),
        facets_environment_variables=options.get("facets_environment_variables")
        if options.get("facets_environment_variables") is not None else block.get("facetsEnvironmentVariables"),
    )
    if config.enabled:
        config.method_settings = method.configure(given, config)
        warnings.extend(method.warnings(given))
    settings = Settings(
        openlineage=config, rules=rules, overwrite=bool(options.get("overwrite")),
        allow_no_match=bool(options.get("allow_no_match")), restart_on_change=rolling,
    )
    return settings, warnings
