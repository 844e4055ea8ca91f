"""The ``olrender`` command: the only place that reads files, stdin and the environment, and prints.

``main`` is the program with error handling: every ``OlrenderError`` becomes
its exit code and a one-paragraph message on stderr and in ``--log-file``;
anything unexpected becomes exit 1 with a short message. Tracebacks appear
only with ``--debug``. Nothing is written to stdout unless the whole stream
succeeded, and then all of it: SIGINT and SIGTERM wait while it is written
(exit 130 after). The API key is scrubbed, in every spelling, from everything
olrender prints or logs. Files are read only when regular and within their
limits; the log and the report are never written through a symbolic link.

A setting that came from the environment is named by its variable in messages
(``OLRENDER_METHOD=vualt: ...``); unknown ``OLRENDER_*`` variables are warnings.
Helm 4 discards stderr, so a run that fails as Helm 4's plugin without a working
``--log-file`` appends its messages to ``olrender/errors.log`` in Helm's cache
directory (``helm env HELM_CACHE_HOME``).

Start-up time matters (Helm runs olrender on every install and upgrade), so
the usual command lines are parsed by ``options.fast_parse`` and click is
imported only for ``--help``, ``--version``, errors and unusual forms; both
paths run the same ``execute``:

    olrender -f values.yaml < stream.yaml     # fast_parse, no click
    olrender -f values.yaml --halp            # click: "No such option", exit 2
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import json
import os
import stat
import sys
import time

from postrenderer import version_text
from postrenderer.cli.options import (
    DESCRIPTION,
    ENV_PREFIX,
    EPILOG,
    FLAG,
    GROUPS,
    KEY_VARIABLE,
    MISTAKEN_KEY_VARIABLE,
    MULTIPLE,
    OPTIONS,
    USAGE,
    fast_parse,
    from_environment,
    given_on_command_line,
    unknown_variables,
)
from postrenderer.errors import ConfigError, ExitCode, InputError, OlrenderError, printable, where

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import IO, Any, NoReturn

    import click

    from postrenderer.config.settings import Settings
    from postrenderer.program import Result
    from postrenderer.read.analysis import Analysis


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the run stops where it is (a KeyboardInterrupt, so click treats it alike)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class Reporter:
    """Writes warnings and errors to stderr and the log file, with secrets scrubbed and control characters escaped."""

    def __init__(self, stderr: IO[str] | None, log: IO[str] | None = None, debug: bool = False,
                 secrets: list[str] | None = None) -> None:
        """Report to stderr (None: it is closed) and, once set, the log file."""
        self.stderr = stderr
        self.log = log
        self.log_path = ""
        self.log_failure: str | None = None  # why the log file could not be written, once that happened
        self.debug = debug
        self.wrote_output = False
        self.changed = False  # --diff/--emit-patches showed a change (for --exit-code)
        self.said: list[str] = []  # every message meant for stderr, as written (for Helm's error log)
        self.warnings = 0  # how many warnings (for --strict and Helm's error log)
        self.sources: dict[str, str] = {}  # option name -> the OLRENDER_* variable its value came from
        self.secrets: list[str] = list(secrets or ())

    def add_secret(self, value: object) -> None:
        """Scrub this value (trimmed, as olrender uses it) in all its written forms from now on.

        A value shorter than MIN_KEY_LENGTH is left alone: olrender refuses such a key, and scrubbing it
        would garble messages.
        """
        if not isinstance(value, str):
            return
        from postrenderer.config.settings import MIN_KEY_LENGTH

        if len(value.strip()) >= MIN_KEY_LENGTH:
            forms = set(self.secrets) | secret_forms(value.strip())
            self.secrets = sorted(forms, key=len, reverse=True)  # longest first: no form hides in another

    def scrub(self, text: str) -> str:
        """Replace every known secret value in text, and the credentials of every URL (``https://KEY@host``)."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "<redacted>")
        return hide_url_credentials(text) if "://" in text and "@" in text else text

    def _write(self, text: str, to_stderr: bool = True, free_lines: bool = False) -> None:
        """Emit one message; unless free_lines, its line breaks only before a list item or a header (``--x``)."""
        text = printable(self.scrub(text), keep="\n")
        if not free_lines and "\n" in text:  # a name from the stream must not start a line ("olrender: ...")
            first, *rest = text.split("\n")
            text = first + "".join(("\n" if line.startswith(("  ", "--")) else "\\n") + line for line in rest)
        if to_stderr:
            self.said.append(text)
        if to_stderr and self.stderr is not None:
            try:
                self.stderr.write(text + "\n")
                self.stderr.flush()
            except (OSError, ValueError):  # stderr closed or nobody reads it any more: the log file still does
                self.stderr = None
        if self.log is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            try:
                self.log.write("".join(f"{stamp} [{os.getpid()}] {line}\n" for line in text.split("\n")))
                self.log.flush()
            except (OSError, ValueError) as exc:
                self.log = None
                self.log_failure = f"--log-file {self.log_path}: cannot write ({getattr(exc, 'strerror', exc)})"
                self._write(f"olrender: error: invalid config: {self.log_failure}")

    def warn(self, message: str) -> None:
        """A problem that did not stop the run."""
        self.warnings += 1
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
        """The --explain report (its values escaped by ``printable_values``): the log file, and stderr if asked."""
        self._write(text, to_stderr=to_stderr, free_lines=True)


_NOT_USERINFO = frozenset(" \t\r\n/?#@<>")  # (quotes may be part of it: a key can hold them)


def hide_url_credentials(text: str) -> str:
    """``https://user:password@host`` as ``https://<redacted>@host``: what stands before the @ is a secret.

    One pass: each scan from a ``://`` stops at the next ``/``, so scans never overlap.
    """
    parts: list[str] = []
    done = 0
    found = text.find("://")
    while found != -1:
        start = end = found + 3
        while end < len(text) and text[end] not in _NOT_USERINFO:
            end += 1
        if end < len(text) and text[end] == "@" and end > start and text[start:end] != "<redacted>":
            parts += [text[done:start], "<redacted>"]
            done = end
        found = text.find("://", found + 1)
    return "".join(parts) + text[done:]


def secret_forms(key: str) -> set[str]:
    """The key as olrender's outputs could spell it: raw, base64, and escaped by repr, JSON or YAML (also twice)."""
    import base64

    raw = key.encode("utf-8", "surrogateescape")
    forms = {key, base64.b64encode(raw).decode()}
    if key.isascii() and key.isprintable() and not any(ch in key for ch in "\\\"'"):
        return forms  # every escaped form is the key itself
    escaped = {key}
    for _ in range(2):  # a repr'd message inside a JSON report escapes the key twice
        escaped |= {form for value in escaped for form in _escaped_forms(value)}
    return forms | escaped | {repr(raw)[2:-1], repr(b'"' + raw)[3:-1]}


def _escaped_forms(value: str) -> set[str]:
    """What value becomes inside a repr, ascii, JSON or YAML double-quoted string (quotes stripped)."""
    import json

    import yaml

    forms = {
        repr('"' + value)[2:-1], ascii('"' + value)[2:-1],  # in single quotes: \\' escaped
        json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
        value.replace("'", "''"),  # YAML single-quoted
    }
    from postrenderer.write.edit import quoted

    forms.add(quoted(value)[1:-1])  # as olrender writes a double-quoted scalar
    if '"' not in value:  # repr may choose double quotes
        forms |= {repr("'" + value)[2:-1], ascii("'" + value)[2:-1]}
    dumpers = [yaml.Dumper] + ([yaml.CDumper] if hasattr(yaml, "CDumper") else [])
    for dumper in dumpers:
        for allow_unicode in (True, False):
            try:
                dumped = yaml.dump(value, Dumper=dumper, default_style='"', width=2**30, allow_unicode=allow_unicode)
            except UnicodeEncodeError:  # libyaml cannot write undecodable bytes (olrender refuses such keys)
                continue
            forms.add(dumped[dumped.index('"') + 1 : dumped.rindex('"')])
    return forms


KEY_FILE_LIMIT = 64 * 1024  # a key is one line: Astro's tokens are a few hundred bytes
VALUES_FILE_LIMIT = 16 * 2**20  # like one document: Helm stores the values in the release, whole
_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
               (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages."""
    return next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")


def read_text(path: str, setting: str, limit: int) -> str:
    """Read a regular UTF-8 text file named by a setting, of at most limit bytes.

    It is opened without blocking, so that a named pipe nobody writes to is refused instead of
    waiting forever; FIFOs, devices and directories are refused, and so is a file over the limit
    (``/dev/zero`` would otherwise fill the memory).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot read ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ConfigError(f"{setting} {path}: {file_kind(mode)}, not a regular file; olrender reads only files")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise ConfigError(f"{setting} {path}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise ConfigError(f"{setting} {path}: the file is over {_size(limit)}, olrender's limit for it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{setting} {path}: not UTF-8 text") from None


def _size(limit: int) -> str:
    """A limit in KiB or MiB, for messages."""
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 1024} KiB"


def key_file_reader(reporter: Reporter) -> Callable[[str], str]:
    """A reader for --api-key-file (each file read once) that warns about group/world-readable files."""

    @functools.cache
    def read(path: str) -> str:
        text = read_text(path, "--api-key-file", KEY_FILE_LIMIT)
        reporter.add_secret(text)
        try:
            mode = os.stat(path).st_mode
        except OSError:  # pragma: no cover - just read it
            mode = 0
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            reporter.warn(f"--api-key-file {path} is readable by other users; chmod 600 it")
        return text

    return read


LOG_LINK = "a symbolic link; olrender writes its log only to a real file, never through a link"


def open_log(path: str) -> tuple[IO[str], bool]:
    """Open the log file for appending, created owner-only (0600); also say whether others can read it.

    A symbolic link is refused (``O_NOFOLLOW``): appending through it would write into whatever it
    points to, and a dangling one would create its target. So are files that are not regular (a
    FIFO would block, ``/dev/full`` fails every write) and files with other hard links.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        if os.path.islink(path):  # (O_NOFOLLOW refuses it too, where the system has it)
            raise ConfigError(f"--log-file {path}: {LOG_LINK}")
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"--log-file {path}: {LOG_LINK}") from None
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads
            raise ConfigError(f"--log-file {path}: a named pipe (FIFO), not a regular file") from None
        raise ConfigError(f"--log-file {path}: cannot open ({exc.strerror})") from None
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = f"{file_kind(info.st_mode)}, not a regular file"
    elif info.st_nlink > 1:
        problem = "the file has other names (hard links); olrender appends only to a file of its own"
    if problem:
        os.close(fd)
        raise ConfigError(f"--log-file {path}: {problem}")
    readable = bool(info.st_mode & (stat.S_IRGRP | stat.S_IROTH))
    return os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace"), readable


def write_private(path: str, text: str, setting: str) -> None:
    """Write a file atomically, owner-only (0600): a new file renamed over path, never through a link.

    An existing symbolic link, directory or other non-regular file at path is refused; a regular file
    is replaced, so its other hard links keep their content.
    """
    try:
        info: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot write ({exc.strerror})") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{setting} {path}: {file_kind(info.st_mode)}; olrender writes only a regular file there")
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temporary, flags, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # whatever the umask
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise ConfigError(f"{setting} {path}: cannot write ({exc.strerror})") from None


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
        """Run the command with the options click parsed (main hands its Reporter in as ``obj``)."""
        from click.core import ParameterSource

        ctx = click.get_current_context()
        sources = {
            spec.name: next((var for var in spec.envvars if os.environ.get(var)), spec.envvar) for spec in OPTIONS
            if ctx.get_parameter_source(spec.name) is ParameterSource.ENVIRONMENT
        }
        return execute(options, ctx.obj if isinstance(ctx.obj, Reporter) else None, sources)

    class Grouped(click.Command):
        """A command whose --help lists its options in ``options.GROUPS``."""

        def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            """One section per group, in the table's order; anything not in the table last."""
            help_option = self.get_help_option(ctx)  # (its name depends on click's version)
            records = {"help" if p is help_option else p.name: p.get_help_record(ctx) for p in self.get_params(ctx)}
            listed = {name for _, names in GROUPS for name in names}
            groups = [*GROUPS, ("Other options", tuple(name for name in records if name not in listed))]
            for title, names in groups:
                rows = [record for name in names if (record := records.get(name))]
                if rows:
                    with formatter.section(title):
                        formatter.write_dl(rows)

    command = Grouped(
        "olrender", callback=callback, params=params, help=DESCRIPTION, epilog=EPILOG,
        context_settings={"auto_envvar_prefix": ENV_PREFIX, "help_option_names": ["-h", "--help"]},
    )
    return click.version_option(version_text(), "--version", prog_name="olrender")(command)


def __getattr__(name: str) -> click.Command:
    """``cli.command``: the click command, built when first asked for."""
    if name == "command":
        return build_command()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def warn_unknown_variables(reporter: Reporter) -> None:
    """Warn about every OLRENDER_* variable that is no setting, naming the closest one."""
    for name, closest in unknown_variables(os.environ):
        hint = f" (did you mean {closest}?)" if closest else ""
        reporter.warn(f"{printable(name)} is not an olrender setting{hint}; it is ignored (see olrender --help)")


def check_environment(reporter: Reporter) -> None:
    """Warn about OLRENDER_* variables that are no setting; refuse OLRENDER_API_KEY, which is never read."""
    warn_unknown_variables(reporter)
    if os.environ.get(MISTAKEN_KEY_VARIABLE) is not None:
        reporter.add_secret(os.environ[MISTAKEN_KEY_VARIABLE])
        raise ConfigError(
            f"{MISTAKEN_KEY_VARIABLE} is set, but olrender reads the key only from {KEY_VARIABLE} (the variable "
            "the OpenLineage client reads too) or --api-key-file FILE: rename the variable"
        )


def name_variables(message: str, options: dict[str, Any], sources: dict[str, str]) -> str:
    """A configuration message naming the variable a setting came from (``OLRENDER_URL=x``) instead of its option."""
    import re

    for name, variable in sources.items():
        spec = next(spec for spec in OPTIONS if spec.name == name)
        value = options.get(name)
        shown = [str(v) for v in (value if isinstance(value, tuple) else (value,)) if v is not None]

        def replace(match: re.Match[str], variable: str = variable, shown: list[str] = shown) -> str:
            rest = match.string[match.end():]
            given = any(rest.startswith(spelling) for text in shown for spelling in (repr(text), text))
            return f"{variable}=" if match[1] and given else variable + match[1]

        for decl in spec.decls:
            message = re.sub(rf"(?<![\w-]){re.escape(decl)}(?![\w-])( ?)", replace, message)
    return message


def execute(options: dict[str, Any], reporter: Reporter | None = None, sources: dict[str, str] | None = None) -> int:
    """The command with its error handling, for options from fast_parse or click: stdin in, stdout out.

    ``sources`` maps each option that came from the environment to its variable, so that messages name it.
    """
    reporter = reporter if reporter is not None else Reporter(sys.stderr)
    reporter.debug = bool(options.get("debug"))
    reporter.sources = sources or {}
    try:
        if options.get("log_file"):
            reporter.log, readable = open_log(options["log_file"])
            reporter.log_path = options["log_file"]
            if readable:
                reporter.warn(f"--log-file {options['log_file']} is readable by other users; chmod 600 it")
        check_environment(reporter)
        if sys.stdin is None or sys.stdout is None:
            closed = "stdin" if sys.stdin is None else "stdout"
            reporter.error(f"{closed} is closed; olrender reads the manifest stream on stdin and writes it to stdout")
            return ExitCode.CONFIG
        stdin = sys.stdin.buffer
        if stdin.isatty():
            reporter.error("no manifest stream on stdin (it is a terminal); pipe Helm's output in")
            reporter.report(f"{USAGE}\nTry 'olrender --help' for the options and examples.", to_stderr=True)
            return ExitCode.CONFIG
        from postrenderer.read.stream import MAX_STREAM_BYTES

        try:  # a byte past the limit is enough to refuse the stream
            data = read_to_eof(stdin, MAX_STREAM_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read the manifest stream on stdin ({exc.strerror})") from None
        output = run(options, data, reporter)
        if reporter.log_failure:  # (already reported)
            return ExitCode.CONFIG
        if options.get("strict") and reporter.warnings:
            from postrenderer.errors import Warned

            raise Warned(f"--strict: {reporter.warnings} warning(s) above; nothing written to stdout")
        status = write_output(output, reporter)
        return ExitCode.CHANGES if status == ExitCode.OK and options.get("exit_code") and reporter.changed else status
    except OlrenderError as exc:
        message = str(exc)
        reporter.error(name_variables(message, options, sources) if isinstance(exc, ConfigError) and sources
                       else message)
        _debug_traceback(reporter)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        signal_name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        done = " after writing the whole stream to stdout" if reporter.wrote_output else "; nothing written to stdout"
        reporter.error(f"interrupted ({signal_name}){done}")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: one line (and the log file); the traceback only with --debug
        reporter.error(f"internal error: {type(exc).__name__} (rerun with --debug)")
        _debug_traceback(reporter)
        return ExitCode.INTERNAL


STOP_SIGNALS = ("SIGINT", "SIGTERM")


def write_output(output: list[bytes | memoryview], reporter: Reporter) -> int:
    """Write the whole output to stdout, or nothing: SIGINT and SIGTERM wait until the write is done.

    A signal that arrives during the write is held back, then discarded, and the run exits 130 once
    the reader has the whole stream (a partial stream is worse than a late exit).
    """
    import signal

    stops = {getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)}
    can_block = hasattr(signal, "pthread_sigmask")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stops) if can_block else set()
    status = ExitCode.OK
    try:
        out = sys.stdout.buffer
        for part in output:  # (the stream in parts: untouched input is never copied)
            out.write(part)
        out.flush()
        reporter.wrote_output = True
    except BrokenPipeError:  # the reader went away (``olrender | head``): nothing left to tell
        _quiet_stdout()
    except OSError as exc:
        _quiet_stdout()
        reporter.error(f"cannot write the output to stdout ({exc.strerror})")
        status = ExitCode.INTERNAL
    finally:
        held = sorted(signal.sigpending() & stops) if can_block else []
        for signum in held:  # ignoring a pending signal discards it
            signal.signal(signum, signal.SIG_IGN)
        if can_block:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    if held and status == ExitCode.OK:
        raise Interrupted(signal.Signals(held[0]).name)
    return status


def install_signal_handlers() -> None:
    """Turn SIGINT and SIGTERM into ``Interrupted`` (unless they are ignored, as in a background job)."""
    import signal

    def interrupt(signum: int, _frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    for name in STOP_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, interrupt)


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

        reporter._write(traceback.format_exc().rstrip(), free_lines=True)


def run(options: dict[str, Any], data: bytes, reporter: Reporter) -> list[bytes | memoryview]:
    """The program without error handling: options and stdin bytes to output bytes."""
    from postrenderer import program as pipeline
    from postrenderer.config import settings as config

    if any(not path for path in options.get("values_files") or ()):
        raise ConfigError(
            "--values: an empty file name" + (
                f" ({os.pathsep!r} separates files: use a single one, and none at either end)"
                if "values_files" in reporter.sources else ""
            )
        )
    files = [(p, read_text(p, "--values", VALUES_FILE_LIMIT)) for p in options.get("values_files") or ()]
    values_warnings: list[str] = []
    values = config.load_values(files, values_warnings)
    read_key_file = key_file_reader(reporter)
    register_keys(options, values, reporter, read_key_file)
    for warning in values_warnings:
        reporter.warn(warning)
    mode = output_mode(options)
    if options.get("exit_code") and mode not in ("emit_patches", "diff"):
        raise ConfigError("--exit-code goes with --diff or --emit-patches (it exits 7 when they show a change)")
    if options.get("committed_patches") and mode != "emit_kustomize_patches":
        raise ConfigError("--committed-patches goes with --emit-kustomize-patches (it compares what that prints)")
    if mode == "check":
        return run_check(options, values, data, reporter)
    if options.get("forbid_plaintext") and options.get("method") == "secret":
        raise ConfigError(FORBID_SECRET_METHOD)
    try:
        settings, warnings = config.resolve(options, values, os.environ, read_key_file)
    except ConfigError as exc:
        raise keys_already_there(options, values, data) or exc from None
    if settings.openlineage.api_key is not None:
        reporter.add_secret(settings.openlineage.api_key.reveal())
    for warning in warnings:
        reporter.warn(warning)
    from postrenderer.inject.methods import method_for

    forbid = bool(options.get("forbid_plaintext"))
    if forbid:
        forbid_secret_method(settings)
    chosen = method_for(settings.openlineage)
    analysis = pipeline.read(data, settings, chosen, full=forbid)
    if forbid:
        forbid_plaintext(analysis)
    method = settings.openlineage.method if settings.openlineage.enabled else "disabled"
    planned: list[pipeline.Result] = []
    try:
        result = pipeline.analyse(data, settings, chosen, observe=planned.append, analysis=analysis)
    finally:
        if planned and (options.get("explain") or options.get("report")):  # also after conflicts or no match
            from postrenderer.write.report import explain_render

            write_explain(options, explain_render(planned[0], method), reporter)
    for warning in result.plan.warnings:
        reporter.warn(warning)
    from postrenderer.read.discovery import HOOKS_ONLY, hooks_only

    if not result.plan.components and hooks_only([report.reason for report in result.plan.reports]):
        reporter.notice(HOOKS_ONLY)
    reporter.changed = bool(result.plan.ops or result.plan.new_documents)
    if mode == "emit_patches":
        from postrenderer.write.report import patches

        return [reporter.scrub(json.dumps(patches(result, method), indent=2) + "\n").encode()]
    if mode == "diff":
        from postrenderer.write.report import diff

        return [reporter.scrub(diff(result)).encode()]
    if mode == "emit_kustomize_patches":  # stdout holds a generated Secret as rendering does: not scrubbed
        from postrenderer.write import kustomize

        if options.get("committed_patches"):
            compare_patches(result, options["committed_patches"])
        return [kustomize.emit(result, method, data).encode()]
    parts = pipeline.output(result)
    for report in result.plan.reports:  # one short line each: what, then why and what was done below it
        place = where(report.index, report.kind, report.name)
        if report.component:
            reporter.info("\n  ".join([
                f"{place}: component {printable(report.role)}", f"why: {report.reason}",
                f"container: {printable(report.container)} ({report.container_reason})",
                *([str(action) for action in report.actions] or ["nothing to do"]),
            ]))
        else:
            reporter.info(f"{place}: skipped\n  why: {report.reason}")
    only_verified = method == "existing-secret" and result.plan.components and not reporter.changed
    reporter.info(
        f"{len(result.plan.components)} component(s), {len(result.plan.ops)} document(s) changed, "
        f"{len(result.plan.new_documents)} added ({result.format} stream, method {method})" + (
            ": the chart already references the Secret in every component, so olrender only verified it"
            if only_verified else "")
    )
    return parts


def register_keys(options: dict[str, Any], values: dict[str, Any], reporter: Reporter,
                  read_key_file: Callable[[str], str]) -> None:
    """Read every configured key source (in every mode, --check too), scrub each key, refuse one olrender cannot use.

    Each is registered for scrubbing as soon as it is read, before it is checked, so that even a
    failing check cannot print it. Blank values are left to ``config.resolve``.
    """
    from postrenderer.config import settings as config

    block = values.get("openLineage")
    sources = [(os.environ.get(config.KEY_ENV), f"environment variable {config.KEY_ENV}"),
               (block.get("apiKey") if isinstance(block, dict) else None, "openLineage.apiKey")]
    if options.get("api_key_file"):
        sources.append((read_key_file(options["api_key_file"]), f"--api-key-file {options['api_key_file']}"))
    for value, _ in sources:
        reporter.add_secret(value)
    for value, source in sources:
        if isinstance(value, str) and value.strip():
            config.clean_key(value, source)


def keys_already_there(options: dict[str, Any], values: dict[str, Any], data: bytes) -> ConfigError | None:
    """When no key source is configured but every component already has its key, the error that says so."""
    if options.get("method") or options.get("api_key_file") or options.get("api_key_secret") or values:
        return None
    from postrenderer.lint import verdict as check
    from postrenderer.read.analysis import read
    from postrenderer.read.discovery import ComponentRules

    rules = ComponentRules.build(
        options.get("component_selector"), options.get("component_name"), options.get("container"))
    try:
        result = check.evaluate(read(data, rules), rules, check.expectations(options, values), False)
    except OlrenderError:
        return None
    if not result.components or not result.ok:
        return None
    return ConfigError(
        f"no key source is configured, and every agent component already has {KEY_VARIABLE} in the stream "
        "(the chart's own openLineage.apiKeySecret, say): pass the chart's values with --values (olrender then "
        "only verifies them), or use --check"
    )


def compare_patches(result: Result, path: str) -> None:
    """--committed-patches: fail (exit 7, the difference in the message) unless FILE holds the patches of result."""
    from postrenderer.errors import PatchesDiffer
    from postrenderer.write import kustomize

    difference = kustomize.compare(result, kustomize.committed_patches(
        read_text(path, "--committed-patches", VALUES_FILE_LIMIT), path), path)
    if difference is not None:
        raise PatchesDiffer(f"--committed-patches {path}: the committed kustomize patches are not those olrender "
                            f"generates now; regenerate them (docs/flux.md):\n{difference}")


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


def forbid_secret_method(settings: Settings) -> None:
    """--forbid-plaintext refuses the secret method."""
    if settings.openlineage.enabled and settings.openlineage.method == "secret":
        raise ConfigError(FORBID_SECRET_METHOD)


def forbid_plaintext(analysis: Analysis) -> None:
    """--forbid-plaintext in render modes: no plaintext key in the input."""
    from postrenderer.errors import CheckFailed
    from postrenderer.lint.verdict import plaintext_findings

    found = plaintext_findings(analysis.documents.items())
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
    from postrenderer.write.report import explain_text

    if options.get("report_format") == "json":
        text = json.dumps(data, indent=2) + "\n"  # (JSON escapes control characters itself)
    elif options.get("report_format") in ("markdown", "github"):
        from postrenderer.write import review

        text = getattr(review, options["report_format"])(printable_values(data))
    else:  # every value on its own line: a name cannot start a line of its own
        text = explain_text(printable_values(data))
    text = printable(reporter.scrub(text), keep="\n")
    if path:
        write_private(path, text, "--report")
    reporter.report(text.rstrip("\n"), to_stderr=explain)


def printable_values(data: Any) -> Any:
    """A copy of report data with control characters escaped in every string (names come from the stream)."""
    if isinstance(data, dict):
        return {printable(key): printable_values(value) for key, value in data.items()}
    if isinstance(data, list):
        return [printable_values(item) for item in data]
    return printable(data) if isinstance(data, str) else data


def run_check(
    options: dict[str, Any], values: dict[str, Any], data: bytes, reporter: Reporter
) -> list[bytes | memoryview]:
    """--check: evaluate the stream as it is and hand it back unchanged when it passes."""
    from postrenderer import program as pipeline
    from postrenderer.lint import verdict as check
    from postrenderer.read.analysis import read
    from postrenderer.read.discovery import ComponentRules
    from postrenderer.write.report import explain_check

    rules = ComponentRules.build(
        options.get("component_selector"), options.get("component_name"), options.get("container")
    )
    forbid = bool(options.get("forbid_plaintext"))
    analysis = read(data, rules, full=forbid)
    result = check.evaluate(analysis, rules, check.expectations(options, values), forbid)
    write_explain(options, explain_check(result, analysis), reporter)
    strict = "" if options.get("strict") else " (in CI add --strict, so that a warning fails the run too)"
    reporter.notice(check.verdict(result, bool(options.get("allow_no_match"))) + strict)
    return [data if data.strip() else pipeline.EMPTY_OUTPUT.encode()]


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the command and exit with its status; under Helm 4, leave a failure's reason behind."""
    args = sys.argv[1:] if argv is None else list(argv)
    reporter = Reporter(sys.stderr)
    try:
        for variable in (KEY_VARIABLE, MISTAKEN_KEY_VARIABLE):  # scrubbed from the start, usage errors included
            reporter.add_secret(os.environ.get(variable))
        install_signal_handlers()
        options = fast_parse(args, os.environ)
        if options is not None:
            status = execute(options, reporter, from_environment(given_on_command_line(args) or (), os.environ))
        else:
            status = click_main(args, reporter)
    except KeyboardInterrupt as exc:  # before execute could open the log file
        reporter.error(f"interrupted ({exc.signal_name if isinstance(exc, Interrupted) else 'SIGINT'})")
        status = ExitCode.INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        status = ExitCode.OK
    except Exception as exc:  # the last line of defence: no traceback without --debug
        if "--debug" in args:
            raise
        reporter.error(f"internal error: {type(exc).__name__} (rerun with --debug)")
        status = ExitCode.INTERNAL
    if (status or reporter.warnings) and reporter.log is None:  # no log file took them: Helm 4 would hide them
        write_helm_error_log(reporter, int(status))
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


def click_main(args: list[str], reporter: Reporter | None = None) -> int:
    """Let click parse args: --help, --version, usage errors (exit 2) and whatever fast_parse left to it."""
    import click

    reporter = reporter if reporter is not None else Reporter(sys.stderr)
    try:
        return int(build_command().main(args=args, prog_name="olrender", standalone_mode=False, obj=reporter) or 0)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        open_usage_log(args, reporter)
        warn_unknown_variables(reporter)
        reporter.error(f"invalid config: {usage_message(exc)} (see olrender --help)")
        return ExitCode.CONFIG
    except click.exceptions.Abort:  # click's form of Ctrl-C
        raise KeyboardInterrupt from None


def usage_message(exc: click.ClickException) -> str:
    """Click's message, naming the variable a bad value came from, and the likely cause of a word with a space."""
    import click
    from click.core import ParameterSource

    param, ctx = getattr(exc, "param", None), getattr(exc, "ctx", None)
    if (isinstance(exc, click.BadParameter) and param is not None and ctx is not None and param.name
            and ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT):
        spec = next((spec for spec in OPTIONS if spec.name == param.name), None)
        variable = next((var for var in spec.envvars if os.environ.get(var)), None) if spec else None
        if variable is not None:
            return f"{variable}={os.environ[variable]}: {exc.message}"
    if isinstance(exc, click.NoSuchOption) and " " in exc.option_name:
        decl, _, value = exc.option_name.partition(" ")
        if any(decl in spec.decls for spec in OPTIONS):
            return (
                f"{exc.option_name!r} is one argument with a space in it: Helm and helmfile hand each "
                f"--post-renderer-args value to olrender as one argument. Write it as one word without the "
                f"space, {decl}={value.strip()} (helm ... --post-renderer-args={decl}={value.strip()})"
            )
    return exc.format_message()


def open_usage_log(args: list[str], reporter: Reporter) -> None:
    """Give the reporter the log file the command line or OLRENDER_LOG_FILE names, if it can be opened.

    Helm 4 discards stderr, so without this a mistyped option would leave no trace there.
    """
    path = os.environ.get("OLRENDER_LOG_FILE") or None
    for index, arg in enumerate(args):
        if arg.startswith("--log-file="):
            path = arg.partition("=")[2]
        elif arg == "--log-file" and index + 1 < len(args):
            path = args[index + 1]
    if not path or reporter.log is not None:
        return
    try:
        reporter.log, _ = open_log(path)
        reporter.log_path = path
    except OlrenderError:
        return


HELM_ERROR_LOG = os.path.join("olrender", "errors.log")  # in Helm's cache directory
HELM_ERROR_LOG_LIMIT = 2**20  # a log over 1 MiB starts again


def helm_cache_home(environ: Mapping[str, str]) -> str:
    """Helm's cache directory, as Helm computes it: HELM_CACHE_HOME, else $XDG_CACHE_HOME/helm, else the default."""
    if environ.get("HELM_CACHE_HOME"):
        return environ["HELM_CACHE_HOME"]
    base = environ.get("XDG_CACHE_HOME")
    if not base:
        home = environ.get("HOME", "")  # as Helm reads it: without HOME, a relative .cache
        if sys.platform == "darwin":
            base = os.path.join(home, "Library", "Caches")
        elif os.name == "nt":
            import tempfile

            base = tempfile.gettempdir()
        else:
            base = os.path.join(home, ".cache")
    return os.path.join(base, "helm")


def runs_as_helm4_plugin(environ: Mapping[str, str]) -> bool:
    """Whether Helm 4 runs olrender as its post-renderer plugin (so stderr is discarded).

    Helm sets HELM_PLUGIN_NAME and HELM_PLUGIN_DIR for a plugin; a parent plugin may leave them set
    under Helm 3, so the plugin named there must also be a ``postrenderer/v1`` plugin, which only
    Helm 4 can run.
    """
    name, directory = environ.get("HELM_PLUGIN_NAME"), environ.get("HELM_PLUGIN_DIR")
    if not name or not directory:
        return False
    try:
        import yaml

        plugin = yaml.safe_load(read_text(os.path.join(directory, "plugin.yaml"), "plugin.yaml", KEY_FILE_LIMIT))
    except (OlrenderError, yaml.YAMLError):
        return False
    return isinstance(plugin, dict) and plugin.get("type") == "postrenderer/v1" and plugin.get("name") == name


def write_helm_error_log(reporter: Reporter, status: int) -> None:
    """Under Helm 4 with no working log file, append the messages of a run that failed or warned to olrender/errors.log.

    The log is in Helm's cache; the directory is created owner-only (0700), the file 0600, never
    through a symbolic link; a file over 1 MiB starts again. Nothing is written outside Helm 4 or
    when that place cannot be written. The messages also go to the terminal helm runs in, if any
    (``terminal.tell``).
    """
    if not reporter.said or not runs_as_helm4_plugin(os.environ):
        return
    from postrenderer.cli.terminal import tell

    tell(reporter.said)
    path = os.path.join(helm_cache_home(os.environ), HELM_ERROR_LOG)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        log, _ = open_log(path)
    except (OSError, OlrenderError):
        return
    with log:
        try:
            if os.fstat(log.fileno()).st_size > HELM_ERROR_LOG_LIMIT:
                log.truncate(0)  # (appending goes on at the new end)
        except OSError:
            return
        record = Reporter(None, log)
        record.log_path = path
        outcome = f"failed with exit status {status}" if status else f"succeeded with {reporter.warnings} warning(s)"
        record.report(f"olrender: {outcome} (working directory {os.getcwd()})", False)
        for text in reporter.said:
            record.report(text, to_stderr=False)


