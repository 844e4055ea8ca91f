"""The Vault method's settings: options, ``OLRENDER_VAULT_*`` variables and the ``openLineage.vault`` block.

``vault_config`` checks every setting and reports every problem at once, in one
configuration error (a Helm 4 user sees it only in the log file, so one run
should say everything). Each value must match as a whole: a trailing newline is
an error, never part of a rendered path. Example values block:

    openLineage:
      vault:
        addr: https://vault.example.com:8200
        role: astro-agent
        secretPath: secret/data/openlineage/api-key   # KV version 2 (the default): <mount>/data/<name>
        secretField: key
        kvVersion: 2

This module imports only ``errors`` and ``kubenames``: ``config`` uses it without importing the
method (``vault``), which builds the injection and the agent configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from postrenderer.config.kubenames import CONFIG_MAP, check_name
from postrenderer.errors import ConfigError

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

ENV_FILE = "openlineage.env"
CONFIG_FILE = "openlineage.yml"
DEFAULT_IMAGE = "hashicorp/vault:2.0.4"
DEFAULT_AUTH_PATH = "auth/kubernetes"
DEFAULT_CONFIG_MAP = "vault-agent-config"
DEFAULT_KUBE_VERSION = "1.35"
DEFAULT_KV_VERSION = 2
KV_VERSIONS = (1, 2)
FILE_KEY_REF = "file-key-ref"
CONFIG_FILE_DELIVERY = "config-file"
DELIVERIES = (FILE_KEY_REF, CONFIG_FILE_DELIVERY)
FILE_KEY_REF_SINCE = (1, 35)

# values key -> (option name, accepted types)
VALUES_KEYS: dict[str, tuple[str, tuple[type, ...]]] = {
    "addr": ("vault_addr", (str,)),
    "authPath": ("vault_auth_path", (str,)),
    "role": ("vault_role", (str,)),
    "secretPath": ("vault_secret_path", (str,)),
    "secretField": ("vault_secret_field", (str,)),
    "kvVersion": ("vault_kv_version", (int, str)),
    "image": ("vault_image", (str,)),
    "configMap": ("vault_config_map", (str,)),
    "delivery": ("vault_delivery", (str,)),
    "kubeVersion": ("kube_version", (str,)),
    "createConfigMap": ("no_vault_config_map", (bool,)),
}

_KUBE_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+(?:[-+][0-9A-Za-z.+-]+)?)?")  # also v1.30.4-eks-a1b2c3
_ADDR_RE = re.compile(r"https?://[^\s/]\S*")
_ROLE_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")  # Vault's role names (GenericNameRegex)
_VAULT_PATH_RE = re.compile(r"[A-Za-z0-9_.@=+-]+(?:/[A-Za-z0-9_.@=+-]+)+")
_AUTH_PATH_RE = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")
_FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IMAGE_RE = re.compile(r"\S+")


class VaultConfig:
    """Where the agent finds Vault and the key, and how the key reaches the container."""

    __slots__ = ("addr", "auth_path", "config_map", "create_config_map", "delivery", "image", "kube_version",
                 "kv_version", "role", "secret_field", "secret_path")

    def __init__(
        self, addr: str, role: str, secret_path: str, secret_field: str, auth_path: str = DEFAULT_AUTH_PATH,
        image: str = DEFAULT_IMAGE, config_map: str = DEFAULT_CONFIG_MAP, kube_version: str = DEFAULT_KUBE_VERSION,
        delivery: str = FILE_KEY_REF, create_config_map: bool = True, kv_version: int = DEFAULT_KV_VERSION,
    ) -> None:
        self.addr, self.role, self.secret_path, self.secret_field = addr, role, secret_path, secret_field
        self.auth_path, self.image, self.config_map, self.kube_version = auth_path, image, config_map, kube_version
        self.delivery, self.create_config_map, self.kv_version = delivery, create_config_map, kv_version

    @property
    def secret_file(self) -> str:
        """The file the agent renders, relative to the shared volume."""
        return ENV_FILE if self.delivery == FILE_KEY_REF else CONFIG_FILE


def parse_kube_version(text: str, setting: str = "--kube-version") -> tuple[int, int]:
    """``1.35``, ``v1.35``, ``1.35.2`` or ``v1.35.2+k3s1`` as (major, minor)."""
    match = _KUBE_VERSION_RE.fullmatch(text)
    if not match:
        raise ConfigError(f"{setting} {text!r}: expected a Kubernetes version such as 1.35")
    return int(match[1]), int(match[2])


def choose_delivery(kube: tuple[int, int], forced: str | None, kube_text: str) -> str:
    """How the key reaches the container for this Kubernetes version (or the forced way)."""
    if forced is None:
        return FILE_KEY_REF if kube >= FILE_KEY_REF_SINCE else CONFIG_FILE_DELIVERY
    if forced not in DELIVERIES:
        raise ConfigError(f"--vault-delivery {forced!r}: choose one of {', '.join(DELIVERIES)}")
    if forced == FILE_KEY_REF and kube < FILE_KEY_REF_SINCE:
        raise ConfigError(
            f"--vault-delivery {FILE_KEY_REF} needs Kubernetes 1.35 or later, but --kube-version is "
            f"{kube_text}: valueFrom.fileKeyRef is dropped by older API servers (1.34 has it only "
            f"behind the alpha EnvFiles gate, with another file format). Use --vault-delivery "
            f"{CONFIG_FILE_DELIVERY} or target 1.35+"
        )
    return forced


def kv_path_problem(path: str, kv_version: int) -> str | None:
    """Why a KV secrets engine of that version cannot serve a secret at path, or None."""
    parts = path.split("/")
    if kv_version == 1 or "data" in parts[1:-1]:
        return None
    rest = parts[2:] if parts[1] == "metadata" and len(parts) > 2 else parts[1:]
    return (
        f"--vault-secret-path {path!r}: a KV version 2 mount serves secrets at <mount>/data/<name> "
        f"(did you mean {'/'.join([parts[0], 'data', *rest])}?); for a KV version 1 mount set "
        "--vault-kv-version 1 (openLineage.vault.kvVersion: 1)"
    )


def _flag(key: str) -> str:
    """The command-line option of a values key."""
    return "--" + VALUES_KEYS[key][0].replace("_", "-")


def _block_problems(block: Mapping[str, Any]) -> list[str]:
    """Unknown keys and wrongly typed values in the ``openLineage.vault`` block."""
    problems = []
    for key, value in block.items():
        if key not in VALUES_KEYS:
            problems.append(f"openLineage.vault.{key} is not a Vault setting (known: {', '.join(VALUES_KEYS)})")
            continue
        accepted = VALUES_KEYS[key][1]
        if value is None or (isinstance(value, accepted) and not (isinstance(value, bool) and bool not in accepted)):
            continue
        hint = ' (quote it: "1.35")' if key == "kubeVersion" else ""
        want = {"createConfigMap": "true or false", "kvVersion": "1 or 2"}.get(key, "a string")
        problems.append(f"openLineage.vault.{key} must be {want}, got {value!r}{hint}")
    return problems


def vault_config(options: Mapping[str, Any], block: Any, url: str | None) -> VaultConfig:
    """Build the Vault settings from options (None = not given) and the ``openLineage.vault`` block."""
    if block is None:
        block = {}
    if not isinstance(block, Mapping):
        raise ConfigError(f"openLineage.vault must be a mapping, got {type(block).__name__}")
    problems = _block_problems(block)

    def pick(key: str, default: str | None = None) -> str | None:
        given = options.get(VALUES_KEYS[key][0])
        if given is not None:
            return str(given)
        value = block.get(key)
        return str(value) if isinstance(value, VALUES_KEYS[key][1]) and not isinstance(value, bool) else default

    def setting(key: str, pattern: re.Pattern[str], expected: str, default: str | None = None) -> str:
        value = pick(key, default)
        if value is None or value == "":
            problems.append(f"the vault method needs {_flag(key)} (or openLineage.vault.{key})")
            return ""
        if key in ("secretPath", "authPath"):
            value = value.strip("/")
        if not pattern.fullmatch(value):
            problems.append(f"{_flag(key)} {value!r}: expected {expected}")
        return value

    addr = setting("addr", _ADDR_RE, "an http(s):// address such as https://vault.example.com:8200")
    role = setting("role", _ROLE_RE, "a Vault role name: letters, digits and _, with - or . inside")
    secret_path = setting("secretPath", _VAULT_PATH_RE, "a Vault path such as secret/data/openlineage/api-key")
    secret_field = setting("secretField", _FIELD_RE, "a field name made of letters, digits and _")
    auth_path = setting("authPath", _AUTH_PATH_RE, "an auth mount such as auth/kubernetes", DEFAULT_AUTH_PATH)
    image = setting("image", _IMAGE_RE, f"an image reference such as {DEFAULT_IMAGE}", DEFAULT_IMAGE)
    config_map = pick("configMap", DEFAULT_CONFIG_MAP) or ""
    given_as = _flag("configMap") if options.get("vault_config_map") is not None else "openLineage.vault.configMap"
    name_problem = check_name(config_map, CONFIG_MAP, given_as)
    if name_problem:
        problems.append(name_problem)
    kv_text = pick("kvVersion", str(DEFAULT_KV_VERSION)) or ""
    kv_version = int(kv_text) if kv_text in ("1", "2") else DEFAULT_KV_VERSION
    if kv_text not in ("1", "2"):
        problems.append(f"{_flag('kvVersion')} {kv_text!r}: the KV secrets engine version is 1 or 2")
    elif secret_path and _VAULT_PATH_RE.fullmatch(secret_path):
        problem = kv_path_problem(secret_path, kv_version)
        if problem:
            problems.append(problem)
    kube_text = pick("kubeVersion", DEFAULT_KUBE_VERSION) or DEFAULT_KUBE_VERSION
    kube, delivery = FILE_KEY_REF_SINCE, FILE_KEY_REF
    try:
        kube = parse_kube_version(kube_text)
        delivery = choose_delivery(kube, pick("delivery"), kube_text)
    except ConfigError as exc:
        problems.append(str(exc).removeprefix("invalid config: "))
    if delivery == CONFIG_FILE_DELIVERY and not url:
        problems.append(
            f"--vault-delivery {CONFIG_FILE_DELIVERY} writes the whole OpenLineage transport into a file "
            "and needs the OpenLineage URL: set --url or openLineage.url"
        )
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        raise ConfigError(
            f"{len(problems)} Vault settings are missing or invalid:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    create = True
    if options.get("no_vault_config_map"):
        create = False
    elif isinstance(block.get("createConfigMap"), bool):
        create = bool(block["createConfigMap"])
    return VaultConfig(
        addr=addr, role=role, secret_path=secret_path, secret_field=secret_field, auth_path=auth_path,
        image=image, config_map=config_map, kube_version=f"{kube[0]}.{kube[1]}", delivery=delivery,
        create_config_map=create, kv_version=kv_version,
    )
