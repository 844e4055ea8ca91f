"""Every ``olrender`` option as plain data, and a parser for the usual command lines that needs no click.

``OPTIONS`` is the single source of truth: ``cli.build_command`` turns it into
the click command (``--help``, errors, anything unusual), and ``fast_parse``
reads the common invocations from it directly, so a plain render never pays
for importing click. ``fast_parse`` returns exactly the parameters click would
pass to the command, or None to let click decide (and report any error):

    >>> fast_parse(["-f", "values.yaml", "--check"], {"OLRENDER_URL": "https://o11y.example"})["values_files"]
    ('values.yaml',)
    >>> fast_parse(["--help"], {}) is None
    True

It also knows which ``OLRENDER_*`` variables exist (``unknown_variables`` names the
closest one for a misspelt variable) and how ``--help`` groups the options (``GROUPS``).
Each method's own options (``--method``'s choices, the Vault settings) come from the
method registry (``inject.methods``), so that a new method needs no edit here. Besides
``os`` and ``stat``, this module imports only that registry at run time (``difflib`` only
when an unknown variable needs a suggestion).
"""

from __future__ import annotations

import os
import stat

from postrenderer.inject.contract import RESTART_MODES
from postrenderer.inject.methods import METHODS, choices, declared

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

ENV_PREFIX = "OLRENDER"
VALUE, MULTIPLE, FLAG, CHOICE = "value", "multiple", "flag", "choice"
# flag values read from the environment: the spellings every click 8 reads the same way
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
# set (non-empty), these make click print the version or complete the shell instead of running
CLICK_ENVIRONMENT = (f"{ENV_PREFIX}_HELP", f"{ENV_PREFIX}_VERSION", f"_{ENV_PREFIX}_COMPLETE")

DESCRIPTION = """\
Give every Astro agent Worker, DAG processor and Triggerer its OpenLineage API key.

Reads a rendered manifest stream on stdin (from Helm 3, Helm 4 or kubectl)
and writes it to stdout with the key reference injected into each agent
component. Use it as `helm install ... --post-renderer olrender`."""

EPILOG = """\b
Examples:
  helm install astro-agent astronomer/astro-remote-execution-agent -f values.yaml \\
    --post-renderer olrender --post-renderer-args=--values=values.yaml
  OPENLINEAGE_API_KEY=... olrender -f values.yaml < manifests.yaml > injected.yaml
  helm template astro-agent astronomer/astro-remote-execution-agent -f values.yaml \\
    | olrender --check -f values.yaml > /dev/null

\b
The key comes from the values file (openLineage.apiKeySecret, openLineage.vault),
--api-key-secret, --method vault, --api-key-file or OPENLINEAGE_API_KEY.
Every option can also be set as OLRENDER_<OPTION> (e.g. OLRENDER_VALUES,
OLRENDER_API_KEY_SECRET); precedence: command line > environment > values files.
Under Helm 4, which discards stderr, a failed run's messages go to --log-file,
or else to olrender/errors.log in Helm's cache directory (helm env HELM_CACHE_HOME).

\b
Exit codes: 0 ok, 1 internal error, 2 usage or configuration error,
3 malformed input, 4 conflict with what the chart rendered,
5 no agent component found, 6 --check or --forbid-plaintext failed,
7 --exit-code: --diff or --emit-patches found changes (or --committed-patches differ),
8 --strict: the run warned, 130 interrupted (SIGINT, SIGTERM).
"""
USAGE = "Usage: olrender [OPTIONS] < MANIFESTS   (Helm: --post-renderer olrender)"


class OptionSpec:
    """One option: how it is spelled, what it holds, where else it can come from."""

    __slots__ = ("choices", "decls", "envvar", "help", "kind", "metavar", "name", "path")

    def __init__(self, decls: tuple[str, ...], name: str, kind: str, help: str, *, metavar: str | None = None,
                 choices: tuple[str, ...] = (), envvar: str | None = None, path: bool = False) -> None:
        """Declare an option; envvar defaults to OLRENDER_<NAME>."""
        self.decls = decls
        self.name = name
        self.kind = kind
        self.help = help
        self.metavar = metavar
        self.choices = choices
        self.envvar = envvar or f"{ENV_PREFIX}_{name.upper()}"
        self.path = path  # a file path (click.Path(dir_okay=False)): not a directory, readable if it exists

    @property
    def envvars(self) -> tuple[str, ...]:
        """The variables click consults, in order: the declared one, then OLRENDER_<NAME>."""
        auto = f"{ENV_PREFIX}_{self.name.upper()}"
        return (self.envvar,) if auto == self.envvar else (self.envvar, auto)

    def __repr__(self) -> str:
        """The first declaration, for test ids and debugging."""
        return f"OptionSpec({self.decls[-1]})"


def _value(name: str, help: str, metavar: str | None = None) -> OptionSpec:
    """A --name VALUE option."""
    return OptionSpec((f"--{name}",), name.replace("-", "_"), VALUE, help, metavar=metavar)


def _flag(name: str, help: str) -> OptionSpec:
    """A --name flag (None when not given, so that values files can still decide)."""
    return OptionSpec((f"--{name}",), name.replace("-", "_"), FLAG, help)


def _choice(name: str, choices: tuple[str, ...], help: str) -> OptionSpec:
    """A --name VALUE option limited to choices."""
    return OptionSpec((f"--{name}",), name.replace("-", "_"), CHOICE, help, choices=choices)


def method_options() -> tuple[OptionSpec, ...]:
    """The options every registered method declares (``contract.Setting``), in the registry's order."""
    return tuple(
        OptionSpec((setting.flag,), setting.name, setting.kind, setting.help, metavar=setting.metavar,
                   choices=setting.choices)
        for _, setting in declared()
    )


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(("-f", "--values"), "values_files", MULTIPLE, envvar="OLRENDER_VALUES", path=True,
               help="Helm values file to read openLineage settings from (repeatable; later files win; "
                    "in OLRENDER_VALUES separate files with ':')."),
    _choice("method", choices(),
            "How the key reaches the pods. Default: inferred (apiKeySecret -> existing-secret, "
            "openLineage.vault -> vault, else secret)."),
    _value("api-key-file",
           "File holding the plaintext key (secret method; a regular file, at most 64 KiB). Alternatively set "
           "OPENLINEAGE_API_KEY.", "FILE"),
    _value("api-key-secret", "Name of an existing Secret holding the key.", "NAME"),
    _value("api-key-secret-key", "Key inside the Secret.  [default: api-key]", "KEY"),
    _value("secret-name",
           "Name of the Secret the secret method generates.  [default: openlineage-api-key-secret]", "NAME"),
    _value("url", "OPENLINEAGE_URL (values: openLineage.url)."),
    _value("namespace", "OPENLINEAGE_NAMESPACE (values: openLineage.namespace)."),
    _value("endpoint", "OPENLINEAGE_ENDPOINT (values: openLineage.endpoint)."),
    _value("facets-environment-variables",
           "OPENLINEAGE__FACETS__ENVIRONMENT_VARIABLES (values: openLineage.facetsEnvironmentVariables).", "NAMES"),
    *method_options(),
    _choice("restart-on-change", RESTART_MODES,
            "How pods roll when the key or its source changes: checksum (pod-template checksum annotations), "
            "reloader (stakater Reloader's annotation on each workload) or none (values: "
            "openLineage.restartOnChange; docs/rotation.md).  [default: checksum]"),
    _value("component-selector",
           "Label selector for components, replacing the default rules "
           "(default: app=astro-agent,component in (worker,dag-processor,triggerer), then names).", "SELECTOR"),
    _value("component-name",
           "Regular expression on workload names (Python syntax, matched in linear time: no backreferences or "
           "lookaround), replacing the default rules.", "REGEX"),
    _value("container", "Target container name in every component.", "NAME"),
    _flag("overwrite", "Replace conflicting env entries and Secrets instead of failing."),
    _flag("allow-no-match", "Succeed even if the stream holds no agent component."),
    _flag("check",
          "Change nothing: pass the stream through and exit 0 only if every agent component will get a "
          "working OpenLineage API key, URL and namespace; else exit 6 with a report. Needs no key settings."),
    _flag("emit-patches",
          "Print the RFC 6902 patches olrender applies (JSON, secrets redacted) instead of the stream."),
    _flag("diff",
          "Print a unified diff of every changed or added document (secrets redacted) instead of the stream."),
    _flag("exit-code",
          "With --diff or --emit-patches: exit 7 when olrender would change or add something, 0 when not."),
    _flag("emit-kustomize-patches",
          "Print the change as kustomize patches (Flux postRenderers, kustomize patches:) and the objects the "
          "method generates, instead of the stream (docs/flux.md)."),
    _value("committed-patches",
           "With --emit-kustomize-patches: exit 7, showing the difference, when the patches in FILE (a HelmRelease, "
           "a kustomization or a patch list) are not those olrender generates now (docs/flux.md).", "FILE"),
    _flag("explain", "Explain on stderr and in --log-file why each workload was or was not changed."),
    _value("report", "Write that explanation to FILE.", "FILE"),
    _choice("report-format", ("text", "json", "markdown", "github"),
            "Format of --explain and --report: markdown for a pull request, github for workflow annotations "
            "(docs/ci.md).  [default: text]"),
    _flag("forbid-plaintext",
          "CI policy: refuse the secret method, and fail (exit 6) if the stream holds an OpenLineage key "
          "in a Secret, ConfigMap or literal env value."),
    _flag("strict",
          "Fail on any warning (exit 8, nothing on stdout): for CI, and for Helm, which hides warnings."),
    _value("log-file", "Append warnings, errors and a summary here (Helm 4 discards stderr).", "FILE"),
    _flag("debug", "Show tracebacks and the per-workload summary on stderr."),
)
BY_DECL = {decl: spec for spec in OPTIONS for decl in spec.decls}
# --help lists the options in these groups, in this order ("help" and "version" are click's own)
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Key source", ("values_files", "method", "api_key_file", "api_key_secret", "api_key_secret_key",
                    "secret_name")),
    ("OpenLineage settings", ("url", "namespace", "endpoint", "facets_environment_variables")),
    *((method.title, tuple(setting.name for owner, setting in declared() if owner is method))
      for method in METHODS.values() if any(owner is method for owner, _ in declared())),
    ("Rotation", ("restart_on_change",)),
    ("Discovery", ("component_selector", "component_name", "container", "allow_no_match", "overwrite")),
    ("CI modes", ("check", "forbid_plaintext", "diff", "emit_patches", "exit_code", "emit_kustomize_patches",
                  "committed_patches", "strict", "explain", "report", "report_format")),
    ("Output and logging", ("log_file", "debug", "help", "version")),
)
MISTAKEN_KEY_VARIABLE = f"{ENV_PREFIX}_API_KEY"  # a natural guess, refused: the key has one name


def known_variables() -> frozenset[str]:
    """Every OLRENDER_* variable olrender or click reads."""
    return frozenset(name for spec in OPTIONS for name in spec.envvars) | frozenset(CLICK_ENVIRONMENT)


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """OLRENDER_* variables that are no setting (but the mistaken key variable), each with the closest known one."""
    known = known_variables()
    unknown = sorted(name for name in environ
                     if name.startswith(f"{ENV_PREFIX}_") and name not in known and name != MISTAKEN_KEY_VARIABLE)
    if not unknown:
        return []
    import difflib

    start = len(ENV_PREFIX) + 1  # compare what follows OLRENDER_, which every name shares
    settings = {name[start:]: name for name in sorted(known) if name.startswith(f"{ENV_PREFIX}_")}
    return [(name, settings.get(next(iter(difflib.get_close_matches(name[start:], settings, n=1, cutoff=0.7)), "")))
            for name in unknown]


def from_environment(given: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """Option name to the variable its value came from, for every option not given on the command line."""
    sources = {}
    for spec in OPTIONS:
        if spec.name not in given:
            variable = next((name for name in spec.envvars if environ.get(name)), None)
            if variable is not None:
                sources[spec.name] = variable
    return sources


def given_on_command_line(argv: Sequence[str]) -> list[str] | None:
    """The options the usual command line gives (None for a form only click reads)."""
    given = _parse_argv(argv)
    return None if given is None else list(given)
_DEFER = object()  # _convert's answer for a value click might refuse


def fast_parse(argv: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The parameters click would give the command for argv and environ, or None to let click parse them."""
    if any(environ.get(name) for name in CLICK_ENVIRONMENT):
        return None
    given = _parse_argv(argv)
    if given is None:
        return None
    params: dict[str, Any] = {}
    for spec in OPTIONS:
        if spec.name in given:
            values: list[Any] | None = given[spec.name]
        else:  # click reads the first non-empty variable; empty means unset
            raw = next((environ[name] for name in spec.envvars if environ.get(name)), None)
            values = _from_environment(spec, raw)
        value = _DEFER if values is None else _convert(spec, values)
        if value is _DEFER:
            return None
        params[spec.name] = value
    return params


def _parse_argv(argv: Sequence[str]) -> dict[str, list[Any]] | None:
    """Option name to the values given on the command line (True per flag), or None for anything unusual."""
    given: dict[str, list[Any]] = {}
    args = iter(argv)
    for arg in args:
        value: str | None
        if arg.startswith("--"):
            decl, equals, attached = arg.partition("=")
            value = attached if equals else None
        elif arg[:2] in BY_DECL and arg[:2] != arg:  # -fVALUE (click: the rest of the argument, even "=x")
            decl, value = arg[:2], arg[2:]
        else:
            decl, value = arg, None
        spec = BY_DECL.get(decl)
        if spec is None:  # -h, --help, --version, unknown options, positional arguments, "--", "-"
            return None
        if spec.kind == FLAG:
            if value is not None:  # --flag=value: click refuses it
                return None
            given.setdefault(spec.name, []).append(True)
            continue
        if value is None:
            value = next(args, None)
            if value is None or value.startswith("-"):  # missing, or an option click might take as the value
                return None
        given.setdefault(spec.name, []).append(value)
    return given


def _from_environment(spec: OptionSpec, raw: str | None) -> list[Any] | None:
    """The values an environment variable gives (empty: unset), or None to defer."""
    if raw is None:
        return []
    if spec.kind == FLAG:
        word = raw.lower()
        if word in TRUE_WORDS:
            return [True]
        return [False] if word in FALSE_WORDS else None
    if spec.kind == MULTIPLE:
        items = raw.split(os.pathsep)  # like click.Path: OLRENDER_VALUES=a.yaml:b.yaml
        return None if "" in items else items
    return [raw]


def _convert(spec: OptionSpec, values: list[Any]) -> Any:
    """The parameter value click would produce from the values given (last wins unless multiple), or _DEFER."""
    if spec.kind == MULTIPLE:
        if spec.path and not all(_usable_path(value) for value in values):
            return _DEFER
        return tuple(values)
    if not values:
        return None
    value = values[-1]
    if spec.kind == CHOICE and value not in spec.choices:
        return _DEFER
    return value


def _usable_path(path: str) -> bool:
    """What click.Path(dir_okay=False) accepts: missing, or an existing non-directory that is readable."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return True  # olrender reports "cannot read" itself
    except ValueError:  # e.g. a NUL byte: let click decide
        return False
    return not stat.S_ISDIR(mode) and os.access(path, os.R_OK)
