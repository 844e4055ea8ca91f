"""The ``olrender`` command: the only place that reads files, stdin and the environment, and prints.

``main`` is the program with error handling: every ``OlrenderError`` becomes
its exit code and a one-paragraph message on stderr and in ``--log-file``;
anything unexpected becomes exit 1 with a short message. Tracebacks appear
only with ``--debug``. Nothing is written to stdout unless the whole stream
succeeded. The API key is scrubbed from everything olrender prints or logs.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn

import click

from postrenderer import __version__
from postrenderer.errors import ConfigError, ExitCode, OlrenderError

EPILOG = """\b
Exit codes: 0 ok, 1 internal error, 2 usage or configuration error,
3 malformed input, 4 conflict with what the chart rendered,
5 no agent component found, 6 --check failed, 130 interrupted.
Every option can also be set as OLRENDER_<OPTION> (e.g. OLRENDER_VALUES,
OLRENDER_API_KEY_SECRET); precedence: command line > environment > values files.
"""


@dataclass
class Reporter:
    """Writes warnings and errors to stderr and the log file, with secrets scrubbed."""

    stderr: IO[str]
    log: IO[str] | None = None
    debug: bool = False
    secrets: list[str] = field(default_factory=list)

    def scrub(self, text: str) -> str:
        """Replace every known secret value in text."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "<redacted>")
        return text

    def _write(self, text: str, to_stderr: bool = True) -> None:
        """Emit one message."""
        text = self.scrub(text)
        if to_stderr:
            self.stderr.write(text + "\n")
            self.stderr.flush()
        if self.log is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            for line in text.splitlines() or [""]:
                self.log.write(f"{stamp} [{os.getpid()}] {line}\n")
            self.log.flush()

    def warn(self, message: str) -> None:
        """A problem that did not stop the run."""
        self._write(f"olrender: warning: {message}")

    def error(self, message: str) -> None:
        """The reason the run failed."""
        self._write(f"olrender: error: {message}")

    def info(self, message: str) -> None:
        """A note for the log file (and stderr with --debug)."""
        self._write(f"olrender: {message}", to_stderr=self.debug)


def open_log(path: str) -> IO[str]:
    """Open the log file for appending, created owner-only (0600)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise ConfigError(f"--log-file {path}: cannot open ({exc.strerror})") from None
    return os.fdopen(fd, "a", encoding="utf-8")


def read_text(path: str, setting: str) -> str:
    """Read a UTF-8 text file named by a setting."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{setting} {path}: not UTF-8 text") from None


def key_file_reader(reporter: Reporter) -> Callable[[str], str]:
    """A reader for --api-key-file that warns about group/world-readable files."""

    def read(path: str) -> str:
        text = read_text(path, "--api-key-file")
        try:
            mode = os.stat(path).st_mode
        except OSError:  # pragma: no cover - just read it
            mode = 0
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            reporter.warn(f"--api-key-file {path} is readable by other users; chmod 600 it")
        return text

    return read


def _option(*decls: str, **kwargs: Any) -> Callable[[Any], Any]:
    """click.option with the environment variable shown in --help."""
    return click.option(*decls, show_envvar=True, **kwargs)


@click.command(
    context_settings={"auto_envvar_prefix": "OLRENDER", "help_option_names": ["-h", "--help"]},
    epilog=EPILOG,
)
@_option("-f", "--values", "values_files", multiple=True, type=click.Path(dir_okay=False),
         envvar="OLRENDER_VALUES",
         help="Helm values file to read openLineage settings from (repeatable; later files win; "
              "in OLRENDER_VALUES separate files with ':').")
@_option("--method", type=click.Choice(["secret", "existing-secret", "vault"]),
         help="How the key reaches the pods. Default: inferred (apiKeySecret -> existing-secret, "
              "openLineage.vault -> vault, else secret).")
@_option("--api-key-file", metavar="FILE",
         help="File holding the plaintext key (secret method). Alternatively set OPENLINEAGE_API_KEY.")
@_option("--api-key-secret", metavar="NAME", help="Name of an existing Secret holding the key.")
@_option("--api-key-secret-key", metavar="KEY", help="Key inside the Secret.  [default: api-key]")
@_option("--secret-name", metavar="NAME",
         help="Name of the Secret the secret method generates.  [default: openlineage-api-key-secret]")
@_option("--url", help="OPENLINEAGE_URL (values: openLineage.url).")
@_option("--namespace", help="OPENLINEAGE_NAMESPACE (values: openLineage.namespace).")
@_option("--endpoint", help="OPENLINEAGE_ENDPOINT (values: openLineage.endpoint).")
@_option("--facets-environment-variables", metavar="NAMES",
         help="OPENLINEAGE__FACETS__ENVIRONMENT_VARIABLES (values: openLineage.facetsEnvironmentVariables).")
@_option("--vault-addr", metavar="URL", help="Vault address (vault method; values: openLineage.vault.addr).")
@_option("--vault-auth-path", metavar="PATH", help="Vault Kubernetes auth mount.  [default: auth/kubernetes]")
@_option("--vault-role", metavar="ROLE", help="Vault role the pods log in with, e.g. astro-agent.")
@_option("--vault-secret-path", metavar="PATH", help="Vault secret with the key, e.g. secret/data/openlineage/api-key.")
@_option("--vault-secret-field", metavar="FIELD", help="Field of that secret holding the key, e.g. key.")
@_option("--vault-image", metavar="IMAGE", help="Vault Agent image.  [default: hashicorp/vault:2.0.4]")
@_option("--vault-config-map", metavar="NAME", help="ConfigMap holding agent.hcl.  [default: vault-agent-config]")
@_option("--no-vault-config-map", is_flag=True, default=None,
         help="Do not generate the agent ConfigMap (you manage it).")
@_option("--vault-delivery", type=click.Choice(["file-key-ref", "config-file"]),
         help="How the key reaches the container. Default: file-key-ref on Kubernetes 1.35+, else config-file.")
@_option("--kube-version", metavar="X.Y", help="Target Kubernetes version (vault method).  [default: 1.35]")
@_option("--component-selector", metavar="SELECTOR",
         help="Label selector for components, replacing the default rules "
              "(default: app=astro-agent,component in (worker,dag-processor,triggerer), then names).")
@_option("--component-name", metavar="REGEX",
         help="Regular expression on workload names, replacing the default rules.")
@_option("--container", metavar="NAME", help="Target container name in every component.")
@_option("--overwrite", is_flag=True, default=None,
         help="Replace conflicting env entries and Secrets instead of failing.")
@_option("--allow-no-match", is_flag=True, default=None,
         help="Succeed even if the stream holds no agent component.")
@_option("--log-file", metavar="FILE",
         help="Append warnings, errors and a summary here (Helm 4 discards stderr).")
@_option("--debug", is_flag=True, default=None, help="Show tracebacks and the per-workload summary on stderr.")
@click.version_option(__version__, "--version", prog_name="olrender")
@click.pass_context
def command(ctx: click.Context, /, **options: Any) -> int:
    """Give every Astro agent Worker, DAG processor and Triggerer its OpenLineage API key.

    Reads a rendered manifest stream on stdin (from Helm 3, Helm 4 or kubectl)
    and writes it to stdout with the key reference injected into each agent
    component. Use it as `helm install ... --post-renderer olrender`.
    """
    stdin = sys.stdin.buffer
    reporter = Reporter(sys.stderr, debug=bool(options.get("debug")))
    ctx.obj = reporter
    try:
        if options.get("log_file"):
            reporter.log = open_log(options["log_file"])
        if stdin.isatty():
            click.echo(ctx.get_help(), err=True)
            reporter.error("no manifest stream on stdin (it is a terminal); pipe Helm's output in")
            return ExitCode.CONFIG
        output = run(options, stdin.read(), reporter)
    except OlrenderError as exc:
        reporter.error(str(exc))
        if reporter.debug:
            import traceback

            reporter._write(traceback.format_exc().rstrip())
        return exc.exit_code
    try:
        out = sys.stdout.buffer
        out.write(output)
        out.flush()
    except BrokenPipeError:
        _quiet_stdout()
    return ExitCode.OK


def run(options: dict[str, Any], data: bytes, reporter: Reporter) -> bytes:
    """The program without error handling: options and stdin bytes to output bytes."""
    from postrenderer import config, pipeline

    files = [(p, read_text(p, "--values")) for p in options.get("values_files") or ()]
    values = config.load_values(files)
    settings, warnings = config.resolve(options, values, os.environ, key_file_reader(reporter))
    key = settings.openlineage.api_key
    if key is not None:
        import base64

        reporter.secrets += [key.reveal(), base64.b64encode(key.reveal().encode()).decode()]
    for warning in warnings:
        reporter.warn(warning)
    result = pipeline.render(data, settings)
    for warning in result.plan.warnings:
        reporter.warn(warning)
    for report in result.plan.reports:
        if report.component:
            reporter.info(
                f"document {report.index} ({report.kind}/{report.name}): component {report.role} "
                f"({report.reason}); container {report.container} ({report.container_reason}); "
                + ("; ".join(report.actions) or "nothing to do")
            )
        else:
            reporter.info(f"document {report.index} ({report.kind}/{report.name}): skipped, {report.reason}")
    reporter.info(
        f"{len(result.plan.components)} component(s), {len(result.plan.ops)} document(s) changed, "
        f"{len(result.plan.new_documents)} added ({result.format} stream, method "
        f"{settings.openlineage.method if settings.openlineage.enabled else 'disabled'})"
    )
    return result.output


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the command and exit with its status."""
    try:
        status = command.main(args=argv, prog_name="olrender", standalone_mode=False)
    except click.exceptions.Exit as exc:
        status = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        status = ExitCode.CONFIG
    except (click.exceptions.Abort, KeyboardInterrupt):
        sys.stderr.write("olrender: interrupted\n")
        status = ExitCode.INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        status = ExitCode.OK
    except Exception as exc:  # the last line of defence: no traceback without --debug
        if "--debug" in (argv if argv is not None else sys.argv):
            raise
        sys.stderr.write(f"olrender: internal error: {type(exc).__name__} (rerun with --debug)\n")
        status = ExitCode.INTERNAL
    sys.exit(int(status or 0))
