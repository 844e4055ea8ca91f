"""The ``olrender`` command: the only place that reads files, stdin and the environment, and prints.

``main`` is the program with error handling: every ``OlrenderError`` becomes
its exit code and a one-paragraph message on stderr and in ``--log-file``;
anything unexpected becomes exit 1 with a short message. Tracebacks appear
only with ``--debug``. Nothing is written to stdout unless the whole stream
succeeded. The API key is scrubbed from everything olrender prints or logs.

Start-up time matters (Helm runs olrender on every install and upgrade), so
the usual command lines are parsed by ``options.fast_parse`` and click is
imported only for ``--help``, ``--version``, errors and unusual forms; both
paths run the same ``execute``:

    olrender -f values.yaml < stream.yaml     # fast_parse, no click
    olrender -f values.yaml --halp            # click: "No such option", exit 2
"""

from __future__ import annotations

import functools
import gc
import json
import os
import stat
import sys
import time

from postrenderer import __version__
from postrenderer.errors import ConfigError, ExitCode, InputError, OlrenderError
from postrenderer.options import DESCRIPTION, ENV_PREFIX, EPILOG, FLAG, MULTIPLE, OPTIONS, fast_parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any, NoReturn

    import click

    from postrenderer.config import Settings


class Reporter:
    """Writes warnings and errors to stderr and the log file, with secrets scrubbed."""

    def __init__(self, stderr: IO[str] | None, log: IO[str] | None = None, debug: bool = False,
                 secrets: list[str] | None = None) -> None:
        """Report to stderr (None: it is closed) and, once set, the log file."""
        self.stderr = stderr
        self.log = log
        self.debug = debug
        self.secrets: list[str] = list(secrets or ())

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


@functools.cache
def build_command() -> click.Command:
    """The click command, built once from the option table (for --help, --version, errors and unusual forms)."""
    import click

    params: list[click.Parameter] = []
    for spec in OPTIONS:
        kwargs: dict[str, Any] = {"help": spec.help, "metavar": spec.metavar, "show_envvar": True}
        if spec.envvar != f"{ENV_PREFIX}_{spec.name.upper()}":
            kwargs["envvar"] = spec.envvar
        if spec.kind == FLAG:
            kwargs.update(is_flag=True, default=None)
        elif spec.kind == MULTIPLE:
            kwargs["multiple"] = True
        if spec.choices:
            kwargs["type"] = click.Choice(list(spec.choices))
        elif spec.path:
            kwargs["type"] = click.Path(dir_okay=False)
        params.append(click.Option([*spec.decls, spec.name], **kwargs))

    def callback(**options: Any) -> int:
        """Run the command with the options click parsed."""
        return execute(options)

    command = click.Command(
        "olrender", callback=callback, params=params, help=DESCRIPTION, epilog=EPILOG,
        context_settings={"auto_envvar_prefix": ENV_PREFIX, "help_option_names": ["-h", "--help"]},
    )
    return click.version_option(__version__, "--version", prog_name="olrender")(command)


def __getattr__(name: str) -> click.Command:
    """``cli.command``: the click command, built when first asked for."""
    if name == "command":
        return build_command()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def show_help() -> None:
    """Print --help to stderr (a terminal on stdin: the user is trying olrender out)."""
    import click

    command = build_command()
    context = click.Context(command, info_name="olrender", **command.context_settings)
    click.echo(context.get_help(), err=True)


def execute(options: dict[str, Any]) -> int:
    """The command with its error handling, for options from fast_parse or click: stdin in, stdout out."""
    reporter = Reporter(sys.stderr, debug=bool(options.get("debug")))
    try:
        if options.get("log_file"):
            reporter.log = open_log(options["log_file"])
        if sys.stdin is None or sys.stdout is None:
            closed = "stdin" if sys.stdin is None else "stdout"
            reporter.error(f"{closed} is closed; olrender reads the manifest stream on stdin and writes it to stdout")
            return ExitCode.CONFIG
        stdin = sys.stdin.buffer
        if stdin.isatty():
            show_help()
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
    if mode == "emit_kustomize_patches":  # stdout holds a generated Secret as rendering does: not scrubbed
        from postrenderer.kustomize import emit

        return emit(result, method, data).encode()
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


MODES = {"check": "--check", "emit_patches": "--emit-patches", "diff": "--diff",
         "emit_kustomize_patches": "--emit-kustomize-patches"}
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
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        options = fast_parse(args, os.environ)
        status = execute(options) if options is not None else click_main(args)
    except KeyboardInterrupt:
        _say("olrender: interrupted\n")
        status = ExitCode.INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        status = ExitCode.OK
    except Exception as exc:  # the last line of defence: no traceback without --debug
        if "--debug" in args:
            raise
        _say(f"olrender: internal error: {type(exc).__name__} (rerun with --debug)\n")
        status = ExitCode.INTERNAL
    sys.exit(int(status or 0))


def entry() -> NoReturn:
    """The ``olrender`` program: ``main``, then exit without tearing the interpreter down (about 4 ms a run).

    Everything olrender writes is flushed first; it registers no exit handlers. The cyclic garbage
    collector is off: a run leaves no reference cycles behind, so collecting would only cost time.
    """
    gc.disable()
    try:
        main()
    except SystemExit as exc:
        status = int(exc.code or 0)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # the reader went away: nothing left to tell
            pass
    os._exit(status)


def click_main(args: list[str]) -> int:
    """Let click parse args: --help, --version, usage errors (exit 2) and whatever fast_parse left to it."""
    import click

    try:
        return int(build_command().main(args=args, prog_name="olrender", standalone_mode=False) or 0)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return ExitCode.CONFIG
    except click.exceptions.Abort:  # click's form of Ctrl-C
        raise KeyboardInterrupt from None


def _say(text: str) -> None:
    """Write to stderr if it is still there."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
