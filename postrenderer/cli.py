"""The ``olrender`` command: the only place that reads files, stdin and the environment, and prints.

``main`` is the program with error handling: every ``OlrenderError`` becomes
its exit code and a one-paragraph message on stderr and in ``--log-file``;
anything unexpected becomes exit 1 with a short message. Tracebacks appear
only with ``--debug``. Nothing is written to stdout unless the whole stream
succeeded. The API key is scrubbed from everything olrender prints or logs.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from postrenderer import __version__
from postrenderer.errors import ConfigError, ExitCode, InputError, OlrenderError

if TYPE_CHECKING:
    from postrenderer.config import Settings

EPILOG = """\b
Exit codes: 0 ok, 1 internal error, 2 usage or configuration error,
3 malformed input, 4 conflict with what the chart rendered,
5 no agent component found, 6 --check or --forbid-plaintext failed,
130 interrupted.
Every option can also be set as OLRENDER_<OPTION> (e.g. OLRENDER_VALUES,
OLRENDER_API_KEY_SECRET); precedence: command line > environment > values files.
"""


@dataclass
class Reporter:
    """Writes warnings and errors to stderr and the log file, with secrets scrubbed."""

    stderr: IO[str] | None
    log: IO[str] | None = None
    debug: bool = False
    secrets: list[str] = field(default_factory=list)

    def add_secret(self, value: object) -> None:
        """Scrub this value (trimmed, as olrender uses it) and its base64 form from now on."""
        if isinstance(value, str) and value.strip():
            import base64

            plain = value.strip()
            self.secrets += [plain, base64.b64encode(plain.encode()).decode()]

    def scrub(self, text: str) -> str:
        """Replace every known secret value in text."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "<redacted>")
        return text

    def _write(self, text: str, to_stderr: bool = True) -> None:
        """Emit one message."""
        text = self.scrub(text)
        if to_stderr and self.stderr is not None:
            try:
                self.stderr.write(text + "\n")
                self.stderr.flush()
            except (OSError, ValueError):  # stderr closed or nobody reads it any more: the log file still does
                self.stderr = None
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

    def notice(self, message: str) -> None:
        """A result the user asked for (the --check verdict): stderr and the log file."""
        self._write(f"olrender: {message}")

    def report(self, text: str, to_stderr: bool) -> None:
        """The --explain report: the log file, and stderr when asked for."""
        self._write(text, to_stderr=to_stderr)


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
        reporter.add_secret(text)
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
@_option("--check", is_flag=True, default=None,
         help="Change nothing: pass the stream through and exit 0 only if every agent component will get a "
              "working OpenLineage API key, URL and namespace; else exit 6 with a report. Needs no key settings.")
@_option("--emit-patches", is_flag=True, default=None,
         help="Print the RFC 6902 patches olrender applies (JSON, secrets redacted) instead of the stream.")
@_option("--diff", is_flag=True, default=None,
         help="Print a unified diff of every changed or added document (secrets redacted) instead of the stream.")
@_option("--explain", is_flag=True, default=None,
         help="Explain on stderr and in --log-file why each workload was or was not changed.")
@_option("--report", metavar="FILE", help="Write that explanation to FILE.")
@_option("--report-format", type=click.Choice(["text", "json"]),
         help="Format of --explain and --report.  [default: text]")
@_option("--forbid-plaintext", is_flag=True, default=None,
         help="CI policy: refuse the secret method, and fail (exit 6) if the stream holds an OpenLineage key "
              "in a Secret, ConfigMap or literal env value.")
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
    reporter = Reporter(sys.stderr, debug=bool(options.get("debug")))
    ctx.obj = reporter
    try:
        if options.get("log_file"):
            reporter.log = open_log(options["log_file"])
        if sys.stdin is None or sys.stdout is None:
            closed = "stdin" if sys.stdin is None else "stdout"
            reporter.error(f"{closed} is closed; olrender reads the manifest stream on stdin and writes it to stdout")
            return ExitCode.CONFIG
        stdin = sys.stdin.buffer
        if stdin.isatty():
            click.echo(ctx.get_help(), err=True)
            reporter.error("no manifest stream on stdin (it is a terminal); pipe Helm's output in")
            return ExitCode.CONFIG
        from postrenderer.stream import MAX_STREAM_BYTES

        try:  # a byte past the limit is enough to refuse the stream
            data = read_to_eof(stdin, MAX_STREAM_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read the manifest stream on stdin ({exc.strerror})") from None
        output = run(options, data, reporter)
    except OlrenderError as exc:
        reporter.error(str(exc))
        _debug_traceback(reporter)
        return exc.exit_code
    except KeyboardInterrupt:
        reporter.error("interrupted")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: one line (and the log file); the traceback only with --debug
        reporter.error(f"internal error: {type(exc).__name__} (rerun with --debug)")
        _debug_traceback(reporter)
        return ExitCode.INTERNAL
    try:
        out = sys.stdout.buffer
        out.write(output)
        out.flush()
    except BrokenPipeError:  # the reader went away (``olrender | head``): nothing left to tell
        _quiet_stdout()
    except OSError as exc:
        _quiet_stdout()
        reporter.error(f"cannot write the output to stdout ({exc.strerror})")
        return ExitCode.INTERNAL
    return ExitCode.OK


def read_to_eof(source: IO[bytes], limit: int) -> bytes:
    """Read until end of file (or limit bytes), however many writes and pauses it takes.

    A parent may hand over a non-blocking pipe, where a plain ``read()`` returns
    whatever has arrived so far: that would silently cut the stream. The pipe
    is switched to blocking mode, and a read that still finds nothing waits.
    """
    import select

    try:
        fd: int | None = source.fileno()
        os.set_blocking(source.fileno(), True)
    except (OSError, ValueError, AttributeError):  # not a real file (tests), or it cannot be switched
        fd = None
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = source.read(limit - size)
        if chunk is None:  # still non-blocking and nothing there yet
            if fd is not None:
                select.select([fd], [], [])
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _debug_traceback(reporter: Reporter) -> None:
    """With --debug, add the current exception's traceback (secrets scrubbed) to stderr and the log."""
    if reporter.debug:
        import traceback

        reporter._write(traceback.format_exc().rstrip())


def run(options: dict[str, Any], data: bytes, reporter: Reporter) -> bytes:
    """The program without error handling: options and stdin bytes to output bytes."""
    from postrenderer import config, pipeline

    files = [(p, read_text(p, "--values")) for p in options.get("values_files") or ()]
    values_warnings: list[str] = []
    values = config.load_values(files, values_warnings)
    block = values.get("openLineage")
    for candidate in (os.environ.get(config.KEY_ENV), block.get("apiKey") if isinstance(block, dict) else None):
        reporter.add_secret(candidate)  # from the start: whatever fails later cannot print them
    for warning in values_warnings:
        reporter.warn(warning)
    mode = output_mode(options)
    if mode == "check":
        return run_check(options, values, data, reporter)
    if options.get("forbid_plaintext") and options.get("method") == "secret":
        raise ConfigError(FORBID_SECRET_METHOD)
    settings, warnings = config.resolve(options, values, os.environ, key_file_reader(reporter))
    if settings.openlineage.api_key is not None:
        reporter.add_secret(settings.openlineage.api_key.reveal())
    for warning in warnings:
        reporter.warn(warning)
    if options.get("forbid_plaintext"):
        forbid_plaintext(settings, data)
    method = settings.openlineage.method if settings.openlineage.enabled else "disabled"
    planned: list[pipeline.Result] = []
    try:
        result = pipeline.analyse(data, settings, observe=planned.append)
    finally:
        if planned and (options.get("explain") or options.get("report")):  # also after conflicts or no match
            from postrenderer.report import explain_render

            write_explain(options, explain_render(planned[0], method), reporter)
    for warning in result.plan.warnings:
        reporter.warn(warning)
    if mode == "emit_patches":
        from postrenderer.report import patches

        return reporter.scrub(json.dumps(patches(result, method), indent=2) + "\n").encode()
    if mode == "diff":
        from postrenderer.report import diff

        return reporter.scrub(diff(result)).encode()
    result.output = pipeline.apply(result)
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
        f"{len(result.plan.new_documents)} added ({result.format} stream, method {method})"
    )
    return result.output


MODES = {"check": "--check", "emit_patches": "--emit-patches", "diff": "--diff"}
FORBID_SECRET_METHOD = (
    "--forbid-plaintext refuses the secret method: it puts the plaintext key into a Secret of the Helm "
    "release. Reference a Secret created outside the release (--api-key-secret NAME) or use --method vault"
)


def output_mode(options: dict[str, Any]) -> str:
    """render, check, emit_patches or diff; at most one mode option may be given."""
    chosen = [name for name in MODES if options.get(name)]
    if len(chosen) > 1:
        raise ConfigError(f"{' and '.join(MODES[name] for name in chosen)} cannot be combined; choose one")
    return chosen[0] if chosen else "render"


def forbid_plaintext(settings: Settings, data: bytes) -> None:
    """--forbid-plaintext in render modes: no secret method, no plaintext key in the input."""
    from postrenderer.check import scan_plaintext
    from postrenderer.errors import CheckFailed

    if settings.openlineage.enabled and settings.openlineage.method == "secret":
        raise ConfigError(FORBID_SECRET_METHOD)
    found = scan_plaintext(data)
    if found:
        raise CheckFailed(
            "--forbid-plaintext: the stream holds the OpenLineage key in plain text:\n"
            + "\n".join(f"  - {item}" for item in found)
        )


def write_explain(options: dict[str, Any], data: dict[str, Any], reporter: Reporter) -> None:
    """Write the --explain/--report report (text or JSON) to stderr, FILE and the log file."""
    explain, path = bool(options.get("explain")), options.get("report")
    if not explain and not path:
        return
    from postrenderer.report import explain_text

    text = json.dumps(data, indent=2) + "\n" if options.get("report_format") == "json" else explain_text(data)
    text = reporter.scrub(text)
    if path:
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise ConfigError(f"--report {path}: cannot write ({exc.strerror})") from None
    reporter.report(text.rstrip("\n"), to_stderr=explain)


def run_check(options: dict[str, Any], values: dict[str, Any], data: bytes, reporter: Reporter) -> bytes:
    """--check: evaluate the stream as it is and hand it back unchanged when it passes."""
    from postrenderer import check, pipeline
    from postrenderer.discovery import ComponentRules
    from postrenderer.report import explain_check

    rules = ComponentRules.build(
        options.get("component_selector"), options.get("component_name"), options.get("container")
    )
    result = check.check_stream(
        data, rules, check.expectations(options, values), bool(options.get("forbid_plaintext"))
    )
    write_explain(options, explain_check(result), reporter)
    reporter.notice(check.verdict(result, bool(options.get("allow_no_match"))))
    return data if data.strip() else pipeline.EMPTY_OUTPUT.encode()


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
        _say("olrender: interrupted\n")
        status = ExitCode.INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        status = ExitCode.OK
    except Exception as exc:  # the last line of defence: no traceback without --debug
        if "--debug" in (argv if argv is not None else sys.argv):
            raise
        _say(f"olrender: internal error: {type(exc).__name__} (rerun with --debug)\n")
        status = ExitCode.INTERNAL
    sys.exit(int(status or 0))


def _say(text: str) -> None:
    """Write to stderr if it is still there."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
