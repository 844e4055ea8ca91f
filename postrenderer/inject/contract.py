"""The method contract: what every way of handing over the key declares and answers, and the data it hands on.

A method is one module under ``inject/methods/``, one subclass of ``Method``,
registered in the table of ``inject/methods/__init__.py``. The class declares
its settings; ``configure`` turns what the user gave into validated settings;
an instance, bound to the configuration, answers the planner, the lint and the
reports:

    class TokenFile(Method):
        name = "token-file"                       # --method token-file, the reports' wording
        title = "Token file method"               # its --help group
        settings = (Setting("token-path", "File the agent reads the key from.", values_key="tokenFile.path"),)
        selected_by = "tokenFile"                 # openLineage.tokenFile selects it when --method is not given

        @classmethod
        def configure(cls, given, config):       # all problems in one ConfigError; given.check: --check
            return given.value(cls.settings[0])  # -> config.method_settings

        def injection(self, component):           -> Injection(env=[...], annotations=..., init_containers=...)
        def documents(self, namespace):           -> [NewDocument("olrender/x.yaml", {...})]  (default: none)
        def expected(self):                       -> lint.Expected: what --check requires of a component
        produces = ("ExternalSecret",)            # stream objects that make a Secret (default: none), and
        def produced_secret(cls, doc):            -> {"kind": "Secret", ...}: the Secret one makes, for --check
        def refusal(self, component, objects):    -> why the chart's pod cannot work with it (exit 4), else None

        # rotation (--restart-on-change; docs/rotation.md), each with a safe default:
        def reference(self):                      -> "store/key": where the key comes from (default None)
        def checksums(self):                      -> pod annotations rolling the pods (default: the reference's)
        def reload_secret(self):                  -> the Secret Reloader should watch (default None)
        reload_reason = "..."                     # why Reloader does not apply, when reload_secret() is None

Each ``Setting`` becomes an option (``--token-path``), an ``OLRENDER_TOKEN_PATH``
variable and a values key (``openLineage.tokenFile.path``); ``cli.options``
builds its table from the registry, so a new method edits no other module.
"""

from __future__ import annotations

from postrenderer.read.variables import ENDPOINT_VAR, FACETS_VAR, KEY_VAR, NAMESPACE_VAR, URL_VAR

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if not TYPE_CHECKING:  # the interpreter's own SHA-256: hashlib first loads OpenSSL, a few ms of every start-up
    try:
        from _sha2 import sha256  # Python 3.12 and later
    except ImportError:
        try:
            from _sha256 import sha256  # Python 3.10 and 3.11
        except ImportError:  # pragma: no cover - a build without it
            from hashlib import sha256
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from hashlib import sha256
    from typing import Any, ClassVar, TypeAlias

    from postrenderer.lint.evaluation import Expected
    from postrenderer.read.discovery import Component
    from postrenderer.read.objects import Objects

    # (what, existing item) -> why olrender may replace or remove that item without --overwrite, or None
    Repairable: TypeAlias = Callable[[str, dict[str, Any]], str | None]

GENERATED_BY = "olrender"
RESTART_MODES = ("checksum", "reloader", "none")  # --restart-on-change, the default first
REFERENCE_ANNOTATION = "checksum/openlineage-reference"  # the default checksum of a method's reference()
# stakater Reloader's SecretUpdateOnChangeAnnotation (internal/pkg/options/flags.go), read on the workload's metadata
RELOADER_ANNOTATION = "secret.reloader.stakater.com/reload"
VALUE, FLAG, CHOICE = "value", "flag", "choice"  # the kinds of option a setting can be (cli.options' words)


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
    """What every agent component should end up with: the common settings and the method's own."""

    DEFAULT_SECRET_NAME = "openlineage-api-key-secret"
    DEFAULT_SECRET_KEY = "api-key"

    __slots__ = ("api_key", "enabled", "endpoint", "facets_environment_variables", "method", "method_settings",
                 "namespace", "secret_key", "secret_name", "url")

    def __init__(
        self, enabled: bool = True, method: str = "secret", api_key: ApiKey | None = None,
        secret_name: str = "openlineage-api-key-secret", secret_key: str = "api-key", url: str | None = None,
        namespace: str | None = None, endpoint: str | None = None, facets_environment_variables: str | None = None,
        method_settings: Any = None,
    ) -> None:
        """method_settings: what the method's ``configure`` returned (the vault method's VaultConfig)."""
        self.enabled, self.method, self.api_key = enabled, method, api_key
        self.secret_name, self.secret_key = secret_name, secret_key
        self.url, self.namespace, self.endpoint = url, namespace, endpoint
        self.facets_environment_variables, self.method_settings = facets_environment_variables, method_settings

    def plain_env(self) -> list[dict[str, Any]]:
        """The non-secret variables, in the chart's order."""
        pairs = (
            (URL_VAR, self.url),
            (NAMESPACE_VAR, self.namespace),
            (ENDPOINT_VAR, self.endpoint),
            (FACETS_VAR, self.facets_environment_variables),
        )
        return [{"name": name, "value": value} for name, value in pairs if value is not None]


class Injection:
    """What one component's pod template, target container and workload metadata should hold."""

    __slots__ = ("annotations", "env", "ignored_env", "init_containers", "overriding_env", "repairable",
                 "volume_mounts", "volumes", "workload_annotations")

    def __init__(
        self, env: list[dict[str, Any]], annotations: dict[str, str] | None = None,
        init_containers: list[dict[str, Any]] | None = None, volumes: list[dict[str, Any]] | None = None,
        volume_mounts: list[dict[str, Any]] | None = None, repairable: Repairable | None = None,
        workload_annotations: dict[str, str] | None = None,
        overriding_env: dict[str, str] | None = None, ignored_env: dict[str, str] | None = None,
    ) -> None:
        """annotations: the pod template's (olrender's values); workload_annotations: the workload's metadata's;
        overriding_env / ignored_env: chart variables that beat / lose to ``env`` -> why (conflict / warning)."""
        self.env, self.annotations, self.repairable = env, annotations or {}, repairable
        self.init_containers, self.volumes = init_containers or [], volumes or []
        self.volume_mounts = volume_mounts or []
        self.workload_annotations = workload_annotations or {}
        self.overriding_env, self.ignored_env = overriding_env or {}, ignored_env or {}


class NewDocument:
    """A document the method needs in the stream, with the file name Helm shows for it.

    ``owns``: (kind, name) of objects it makes in the cluster in its namespace, each with why
    the chart must not render one too (a conflict); e.g. the Secret an ExternalSecret creates.
    """

    __slots__ = ("doc", "filename", "owns", "secret")

    def __init__(self, filename: str, doc: dict[str, Any], secret: bool = False,
                 owns: dict[tuple[str, str], str] | None = None) -> None:
        self.filename, self.doc, self.secret, self.owns = filename, doc, secret, owns or {}


class Setting:
    """One setting of a method: an option ``--<option>``, its ``OLRENDER_*`` variable, its values key."""

    __slots__ = ("choices", "help", "kind", "metavar", "option", "types", "values_key")

    def __init__(
        self, option: str, help: str, *, values_key: str | None = None, kind: str = VALUE,
        metavar: str | None = None, choices: tuple[str, ...] = (), types: tuple[type, ...] = (str,),
    ) -> None:
        """Declare a setting; values_key is dotted below ``openLineage`` (``vault.addr``)."""
        self.option, self.help, self.values_key, self.kind = option, help, values_key, kind
        self.metavar, self.choices, self.types = metavar, choices, types

    @property
    def name(self) -> str:
        """The option's parameter name (``vault_addr``)."""
        return self.option.replace("-", "_")

    @property
    def flag(self) -> str:
        """The option as typed (``--vault-addr``)."""
        return f"--{self.option}"

    @property
    def values_path(self) -> str | None:
        """The values key in full (``openLineage.vault.addr``)."""
        return None if self.values_key is None else f"openLineage.{self.values_key}"


class Given:
    """What the user gave: options (None = not given; ``OLRENDER_*`` variables are options) and the values block."""

    __slots__ = ("block", "check", "options")

    def __init__(self, options: Mapping[str, Any], block: Mapping[str, Any], check: bool = False) -> None:
        """check: a ``--check`` resolution, which needs no key and no setting only rendering uses."""
        self.options, self.block, self.check = options, block, check

    def from_values(self, setting: Setting) -> Any:
        """The setting's value in the values files (None: not there)."""
        if setting.values_key is None:
            return None
        node: Any = self.block
        for part in setting.values_key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    def value(self, setting: Setting) -> Any:
        """The option, else the values key, else None."""
        given = self.options.get(setting.name)
        return given if given is not None else self.from_values(setting)


class Method:
    """A way of handing over the key, bound to its configuration; see the module docstring for the contract."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # the --help group of its settings
    settings: ClassVar[tuple[Setting, ...]] = ()
    selected_by: ClassVar[str | None] = None  # an openLineage key whose presence selects the method
    selectable: ClassVar[bool] = True  # offered by --method (disabled is chosen by openLineage.enabled)
    needs_key: ClassVar[bool] = False  # rendering needs the plaintext key (never --check)
    lints: ClassVar[bool] = True  # render lints the components it configured
    produces: ClassVar[tuple[str, ...]] = ()  # kinds of stream object that make a Secret in the cluster

    @classmethod
    def produced_secret(cls, doc: Mapping[str, Any]) -> dict[str, Any] | None:
        """The Secret an object of a kind in ``produces`` makes, as a Secret document with its keys (None: none)."""
        return None
    # why --restart-on-change reloader does not apply, when reload_secret() is None (a warning names it)
    reload_reason: ClassVar[str] = "the method does not read the key from a Secret Reloader could watch"

    def __init__(self, config: OpenLineageConfig) -> None:
        self.config = config

    @classmethod
    def configure(cls, given: Given, config: OpenLineageConfig) -> Any:
        """The method's validated settings (every problem in one ConfigError); config holds the common ones."""
        return None

    @classmethod
    def warnings(cls, given: Given) -> list[str]:
        """What the user gave that this method ignores or advises against."""
        return []

    def injection(self, component: Component) -> Injection:
        """What this component should get."""
        raise NotImplementedError

    def documents(self, namespace: str | None) -> list[NewDocument]:
        """Documents the stream needs for components in this namespace."""
        return []

    def refusal(self, component: Component, objects: Objects) -> str | None:
        """Why this component, as the chart rendered it, cannot work with this method (a conflict), or None.

        objects: the stream's ConfigMaps, Secrets and ServiceAccounts the component refers to.
        """
        return None

    def expected(self) -> Expected:
        """What ``--check`` requires of a component this method configured (default: the URL and namespace)."""
        from postrenderer.lint.evaluation import Expected

        return Expected(url=self.config.url, namespace=self.config.namespace)

    def reference(self) -> str | None:
        """A stable text of where the key comes from (checksum mode rolls the pods when it changes); None: none."""
        return None

    def checksums(self) -> dict[str, str]:
        """Pod-template annotations whose change rolls the pods (checksum mode): the reference's digest."""
        reference = self.reference()
        return {} if reference is None else {REFERENCE_ANNOTATION: sha256_hex(reference.encode())}

    def reload_secret(self) -> str | None:
        """The Secret name Reloader should watch (Secret-backed methods only), else None."""
        return None

    @property
    def label(self) -> str:
        """How reports name the method (``method vault``)."""
        return self.name


def secret_key_ref(config: OpenLineageConfig) -> dict[str, Any]:
    """The ``OPENLINEAGE_API_KEY`` entry that reads the key from the Secret the configuration names."""
    return {
        "name": KEY_VAR,
        "valueFrom": {"secretKeyRef": {"name": config.secret_name, "key": config.secret_key}},
    }


def metadata(name: str, namespace: str | None) -> dict[str, Any]:
    """Metadata for an object olrender generates."""
    found: dict[str, Any] = {"name": name}
    if namespace is not None:
        found["namespace"] = namespace
    found["labels"] = {"app.kubernetes.io/created-by": GENERATED_BY}
    return found


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of data, in hex (checksum annotations)."""
    return sha256(data).hexdigest()
