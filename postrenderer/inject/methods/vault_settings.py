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

``SETTINGS`` declares each setting once: its option, its ``OLRENDER_*`` variable and
its values key (the option table is built from it). This module imports only the
contract, ``errors`` and ``kubenames``; ``vault`` builds the injection and the agent configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from postrenderer.config.kubenames import CONFIG_MAP, check_name
from postrenderer.errors import ConfigError
from postrenderer.inject.contract import CHOICE, FLAG, Setting

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from postrenderer.inject.contract import Given

ENV_FILE = "openlineage.env"
CONFIG_FILE = "openlineage.yml"
DEFAULT_IMAGE = "hashicorp/vault:2.0.4"
DEFAULT_AUTH_PATH = "auth/kubernetes"
DEFAULT_CONFIG_MAP = "vault-agent-config"
DEFAULT_KUBE_VERSION = "1.35"
DEFAULT_KV_VERSION = 2
FILE_KEY_REF = "file-key-ref"
CONFIG_FILE_DELIVERY = "config-file"
DELIVERIES = (FILE_KEY_REF, CONFIG_FILE_DELIVERY)
FILE_KEY_REF_SINCE = (1, 35)

# the settings in the order --help lists them; each values key is below openLineage.vault
SETTINGS: tuple[Setting, ...] = (
    Setting("vault-addr", "Vault address (vault method; vault-injector: optional, the annotation "
            "vault.hashicorp.com/service; values: openLineage.vault.addr).", values_key="vault.addr",
            metavar="URL"),
    Setting("vault-role", "Vault role the pods log in with, e.g. astro-agent.", values_key="vault.role",
            metavar="ROLE"),
    Setting("vault-secret-path", "Vault secret with the key, e.g. secret/data/openlineage/api-key.",
            values_key="vault.secretPath", metavar="PATH"),
    Setting("vault-secret-field", "Field of that secret holding the key, e.g. key.", values_key="vault.secretField",
            metavar="FIELD"),
    Setting("vault-kv-version", "KV secrets engine version of the secret's mount (values: "
            "openLineage.vault.kvVersion).  [default: 2]", values_key="vault.kvVersion", kind=CHOICE,
            choices=("1", "2"), types=(int, str)),
    Setting("vault-auth-path", "Vault Kubernetes auth mount.  [default: auth/kubernetes]",
            values_key="vault.authPath", metavar="PATH"),
    Setting("vault-image", "Vault Agent image.  [default: hashicorp/vault:2.0.4]", values_key="vault.image",
            metavar="IMAGE"),
    Setting("vault-config-map", "ConfigMap holding agent.hcl.  [default: vault-agent-config]",
            values_key="vault.configMap", metavar="NAME"),
    Setting("no-vault-config-map", "Do not generate the agent ConfigMap (you manage it).",
            values_key="vault.createConfigMap", kind=FLAG, types=(bool,)),
    Setting("vault-delivery", "How the key reaches the container. Default: file-key-ref on Kubernetes 1.35+, "
            "else config-file.", values_key="vault.delivery", kind=CHOICE, choices=("file-key-ref", "config-file")),
    Setting("kube-version", "Target Kubernetes version (vault method).  [default: 1.35]",
            values_key="vault.kubeVersion", metavar="X.Y"),
)
BY_KEY = {str(setting.values_key).removeprefix("vault."): setting for setting in SETTINGS}

_KUBE_VERSION_RE = r"v?(\d+)\.(\d+)(?:\.\d+(?:[-+][0-9A-Za-z.+-]+)?)?"  # also v1.30.4-eks-a1b2c3
_ADDR_RE = r"https?://[^\s/]\S*"
_ROLE_RE = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"  # Vault's role names (GenericNameRegex)
_VAULT_PATH_RE = r"[A-Za-z0-9_.@=+-]+(?:/[A-Za-z0-9_.@=+-]+)+"
_AUTH_PATH_RE = r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*"
_FIELD_RE = r"[A-Za-z_][A-Za-z0-9_]*"
_IMAGE_RE = r"\S+"


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
    match = re.fullmatch(_KUBE_VERSION_RE, text)
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
    return BY_KEY[key].flag


def _block_problems(block: Mapping[str, Any]) -> list[str]:
    """Unknown keys and wrongly typed values in the ``openLineage.vault`` block."""
    problems = []
    for key, value in block.items():
        if key not in BY_KEY:
            problems.append(f"openLineage.vault.{key} is not a Vault setting (known: {', '.join(BY_KEY)})")
            continue
        accepted = BY_KEY[key].types
        if value is None or (isinstance(value, accepted) and not (isinstance(value, bool) and bool not in accepted)):
            continue
        hint = ' (quote it: "1.35")' if key == "kubeVersion" else ""
        want = {"createConfigMap": "true or false", "kvVersion": "1 or 2"}.get(key, "a string")
        problems.append(f"openLineage.vault.{key} must be {want}, got {value!r}{hint}")
    return problems


class Reader:
    """Reads each Vault setting (option, else values key, else default) and collects every problem."""

    def __init__(self, options: Mapping[str, Any], block: Mapping[str, Any], check: bool,
                 method: str = "vault") -> None:
        """method: the method the messages name (the vault-injector method shares these settings)."""
        self.options, self.block, self.check, self.method = options, block, check, method
        self.problems = _block_problems(block)

    def pick(self, key: str, default: str | None = None) -> str | None:
        """The setting's text: option, else values key, else default."""
        given = self.options.get(BY_KEY[key].name)
        if given is not None:
            return str(given)
        value = self.block.get(key)
        return str(value) if isinstance(value, BY_KEY[key].types) and not isinstance(value, bool) else default

    def setting(self, key: str, pattern: str, expected: str, default: str | None = None,
                required: bool = True) -> str:
        """A setting that must match pattern as a whole (required unless it has a default, or in --check)."""
        value = self.pick(key, default)
        if value is None or value == "":
            if required and not self.check:
                self.problems.append(f"the {self.method} method needs {_flag(key)} (or openLineage.vault.{key})")
            return ""
        if key in ("secretPath", "authPath"):
            value = value.strip("/")
        if not re.fullmatch(pattern, value):
            self.problems.append(f"{_flag(key)} {value!r}: expected {expected}")
        return value

    def config_map(self) -> str:
        """The agent ConfigMap's name, a valid ConfigMap name."""
        name = self.pick("configMap", DEFAULT_CONFIG_MAP) or ""
        given = self.options.get("vault_config_map") is not None
        given_as = _flag("configMap") if given else "openLineage.vault.configMap"
        problem = check_name(name, CONFIG_MAP, given_as)
        if problem:
            self.problems.append(problem)
        return name

    def kv_version(self, secret_path: str) -> int:
        """The KV engine version, and whether the secret path suits it."""
        text = self.pick("kvVersion", str(DEFAULT_KV_VERSION)) or ""
        if text not in ("1", "2"):
            self.problems.append(f"{_flag('kvVersion')} {text!r}: the KV secrets engine version is 1 or 2")
            return DEFAULT_KV_VERSION
        if secret_path and re.fullmatch(_VAULT_PATH_RE, secret_path):
            problem = kv_path_problem(secret_path, int(text))
            if problem:
                self.problems.append(problem)
        return int(text)

    def delivery(self, url: str | None) -> tuple[tuple[int, int], str]:
        """The Kubernetes version and how the key reaches the container."""
        kube_text = self.pick("kubeVersion", DEFAULT_KUBE_VERSION) or DEFAULT_KUBE_VERSION
        kube, delivery = FILE_KEY_REF_SINCE, FILE_KEY_REF
        try:
            kube = parse_kube_version(kube_text)
            delivery = choose_delivery(kube, self.pick("delivery"), kube_text)
        except ConfigError as exc:
            self.problems.append(str(exc).removeprefix("invalid config: "))
        if delivery == CONFIG_FILE_DELIVERY and not url and not self.check:
            self.problems.append(
                f"--vault-delivery {CONFIG_FILE_DELIVERY} writes the whole OpenLineage transport into a file "
                "and needs the OpenLineage URL: set --url or openLineage.url"
            )
        return kube, delivery

    def create_config_map(self) -> bool:
        """Whether olrender generates the agent ConfigMap."""
        if self.options.get("no_vault_config_map"):
            return False
        create = self.block.get("createConfigMap")
        return create if isinstance(create, bool) else True

    def source(self, addr_required: bool = True) -> dict[str, Any]:
        """Where the key is: the address, role, secret path and field, auth mount and KV version."""
        addr = self.setting("addr", _ADDR_RE, "an http(s):// address such as https://vault.example.com:8200",
                            required=addr_required)
        role = self.setting("role", _ROLE_RE, "a Vault role name: letters, digits and _, with - or . inside")
        secret_path = self.setting("secretPath", _VAULT_PATH_RE, "a Vault path such as secret/data/openlineage/api-key")
        secret_field = self.setting("secretField", _FIELD_RE, "a field name made of letters, digits and _")
        auth_path = self.setting("authPath", _AUTH_PATH_RE, "an auth mount such as auth/kubernetes", DEFAULT_AUTH_PATH)
        return {"addr": addr, "role": role, "secret_path": secret_path, "secret_field": secret_field,
                "auth_path": auth_path, "kv_version": self.kv_version(secret_path)}

    def raise_problems(self) -> None:
        """Every problem found, in one configuration error."""
        if len(self.problems) == 1:
            raise ConfigError(self.problems[0])
        if self.problems:
            raise ConfigError(
                f"{len(self.problems)} Vault settings are missing or invalid:\n"
                + "\n".join(f"  - {p}" for p in self.problems)
            )


def reader(options: Mapping[str, Any], block: Any, check: bool, method: str = "vault") -> Reader:
    """A reader of the Vault settings in options and the ``openLineage.vault`` block (which must be a mapping)."""
    if block is None:
        block = {}
    if not isinstance(block, Mapping):
        raise ConfigError(f"openLineage.vault must be a mapping, got {type(block).__name__}")
    return Reader(options, block, check, method)


def vault_config(options: Mapping[str, Any], block: Any, url: str | None, check: bool = False) -> VaultConfig:
    """Build the Vault settings from options (None = not given) and the ``openLineage.vault`` block."""
    read = reader(options, block, check)
    source = read.source()
    image = read.setting("image", _IMAGE_RE, f"an image reference such as {DEFAULT_IMAGE}", DEFAULT_IMAGE)
    config_map = read.config_map()
    kube, delivery = read.delivery(url)
    read.raise_problems()
    return VaultConfig(
        **source, image=image, config_map=config_map, kube_version=f"{kube[0]}.{kube[1]}", delivery=delivery,
        create_config_map=read.create_config_map(),
    )


def configure(given: Given, url: str | None) -> VaultConfig:
    """The contract's ``configure`` for the vault method: the settings from what the user gave."""
    return vault_config(given.options, given.block.get("vault"), url, given.check)
