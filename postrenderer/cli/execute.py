"""The command body with its error handling, for options from ``fast_parse`` or click: stdin in, stdout out.

Before anything is read, the log file and the report are checked against the inputs, the log is
opened, and a value given as a name that is no valid name is scrubbed (it may be a pasted key).
An ``OlrenderError`` becomes its exit code and one message naming the variable a setting came
from; an interruption is exit 130; anything else is exit 1 (a bug), with a traceback only with
``--debug``.
"""

from __future__ import annotations

from postrenderer.cli.environment import Environment, check_environment, name_variables
from postrenderer.cli.options import USAGE
from postrenderer.cli.reporter import Reporter
from postrenderer.cli.signals import Interrupted
from postrenderer.errors import ConfigError, ExitCode, InputError, OlrenderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME_OPTIONS = (("api_key_secret", "SECRET"), ("api_key_secret_key", "SECRET_KEY"))  # where a key gets pasted


def suspect_names(options: dict[str, Any], reporter: Reporter) -> None:
    """Scrub a name option's value that is no valid name: it may be a key pasted in the wrong place."""
    from postrenderer.config import kubenames

    for name, rule in NAME_OPTIONS:
        value = options.get(name)
        if isinstance(value, str) and (value != value.strip() or kubenames.problem(value, getattr(kubenames, rule))):
            reporter.add_secret(value)


def execute(options: dict[str, Any], reporter: Reporter | None = None, sources: dict[str, str] | None = None,
            env: Environment | None = None) -> int:
    """The command with its error handling, for options from fast_parse or click: stdin in, stdout out.

    ``sources`` maps each option that came from the environment to its variable, so that messages name it.
    """
    env = env if env is not None else Environment.of_process()
    reporter = reporter if reporter is not None else Reporter(env.stderr)
    reporter.debug = bool(options.get("debug"))
    reporter.sources = sources or {}
    try:
        return _execute(options, reporter, env)
    except OlrenderError as exc:
        message = str(exc)
        reporter.error(name_variables(message, options, reporter.sources)
                       if isinstance(exc, ConfigError) and reporter.sources else message)
        reporter.debug_traceback()
        return exc.exit_code
    except KeyboardInterrupt as exc:
        signal_name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        done = " after writing the whole stream to stdout" if reporter.wrote_output else "; nothing written to stdout"
        reporter.error(f"interrupted ({signal_name}){done}")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: one line (and the log file); the traceback only with --debug
        reporter.error(f"internal error: {type(exc).__name__} (rerun with --debug)")
        reporter.debug_traceback()
        return ExitCode.INTERNAL


def _execute(options: dict[str, Any], reporter: Reporter, env: Environment) -> int:
    """The command without its error handling."""
    if any(options.get(name) for name, _ in NAME_OPTIONS):
        suspect_names(options, reporter)
    if options.get("log_file") or options.get("report"):
        from postrenderer.cli.files import refuse_shared_files

        refuse_shared_files(options, env.stdin)
    if options.get("log_file"):
        from postrenderer.cli.files import open_log

        reporter.log, readable = open_log(options["log_file"])
        reporter.log_path = options["log_file"]
        if readable:
            reporter.warn(f"--log-file {options['log_file']} is readable by other users; chmod 600 it")
    check_environment(reporter, env.environ)
    if env.stdin is None or env.stdout is None:
        closed = "stdin" if env.stdin is None else "stdout"
        reporter.error(f"{closed} is closed; olrender reads the manifest stream on stdin and writes it to stdout")
        return ExitCode.CONFIG
    if env.stdin.isatty():
        reporter.error("no manifest stream on stdin (it is a terminal); pipe Helm's output in")
        reporter.report(f"{USAGE}\nTry 'olrender --help' for the options and examples.", to_stderr=True)
        return ExitCode.CONFIG
    from postrenderer.cli.files import read_to_eof
    from postrenderer.cli.run import run
    from postrenderer.cli.signals import write_output
    from postrenderer.read.stream import MAX_STREAM_BYTES

    try:  # a byte past the limit is enough to refuse the stream
        data = read_to_eof(env.stdin, MAX_STREAM_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the manifest stream on stdin ({exc.strerror})") from None
    output = run(options, data, reporter, env.environ)
    if reporter.log_failure:  # (already reported)
        return ExitCode.CONFIG
    if options.get("strict") and reporter.warnings:
        from postrenderer.errors import Warned

        raise Warned(f"--strict: {reporter.warnings} warning(s) above; nothing written to stdout")
    status = write_output(output, reporter, env)
    return ExitCode.CHANGES if status == ExitCode.OK and options.get("exit_code") and reporter.changed else status
