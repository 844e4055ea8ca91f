"""The click command, built from the option table in ``options.py``, for what ``fast_parse`` leaves to click.

Click parses ``--help``, ``--version``, usage errors (exit 2) and the unusual forms of a command
line; it is imported only then, so a plain render starts without it. Both paths run the same
``execute.execute``.
"""

from __future__ import annotations

import functools

from postrenderer import version_text
from postrenderer.cli.options import DESCRIPTION, ENV_PREFIX, EPILOG, FLAG, GROUPS, MULTIPLE, OPTIONS
from postrenderer.errors import ExitCode, OlrenderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import click

    from postrenderer.cli.environment import Environment
    from postrenderer.cli.reporter import Reporter


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
        """Run the command with the options click parsed (main hands its Reporter and Environment in as ``obj``)."""
        from click.core import ParameterSource

        from postrenderer.cli.environment import Environment
        from postrenderer.cli.execute import execute

        ctx = click.get_current_context()
        reporter, env = ctx.obj if isinstance(ctx.obj, tuple) else (None, Environment.of_process())
        sources = {
            spec.name: next((var for var in spec.envvars if env.environ.get(var)), spec.envvar) for spec in OPTIONS
            if ctx.get_parameter_source(spec.name) is ParameterSource.ENVIRONMENT
        }
        return execute(options, reporter, sources, env)

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


def click_main(args: list[str], reporter: Reporter, env: Environment) -> int:
    """Let click parse args: --help, --version, usage errors (exit 2) and whatever fast_parse left to it."""
    import click

    from postrenderer.cli.environment import warn_unknown_variables

    command = build_command()
    try:
        return int(command.main(args=args, prog_name="olrender", standalone_mode=False, obj=(reporter, env)) or 0)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        open_usage_log(args, reporter, env)
        warn_unknown_variables(reporter, env.environ)
        reporter.error(f"invalid config: {usage_message(exc, env)} (see olrender --help)")
        return ExitCode.CONFIG
    except click.exceptions.Abort:  # click's form of Ctrl-C
        raise KeyboardInterrupt from None


def usage_message(exc: click.ClickException, env: Environment) -> str:
    """Click's message, naming the variable a bad value came from, and the likely cause of a word with a space."""
    import click
    from click.core import ParameterSource

    param, ctx = getattr(exc, "param", None), getattr(exc, "ctx", None)
    if (isinstance(exc, click.BadParameter) and param is not None and ctx is not None and param.name
            and ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT):
        spec = next((spec for spec in OPTIONS if spec.name == param.name), None)
        variable = next((var for var in spec.envvars if env.environ.get(var)), None) if spec else None
        if variable is not None:
            return f"{variable}={env.environ[variable]}: {exc.message}"
    if isinstance(exc, click.NoSuchOption) and " " in exc.option_name:
        decl, _, value = exc.option_name.partition(" ")
        if any(decl in spec.decls for spec in OPTIONS):
            return (
                f"{exc.option_name!r} is one argument with a space in it: Helm and helmfile hand each "
                f"--post-renderer-args value to olrender as one argument. Write it as one word without the "
                f"space, {decl}={value.strip()} (helm ... --post-renderer-args={decl}={value.strip()})"
            )
    return exc.format_message()


def open_usage_log(args: list[str], reporter: Reporter, env: Environment) -> None:
    """Give the reporter the log file the command line or OLRENDER_LOG_FILE names, if it can be opened.

    Helm 4 discards stderr, so without this a mistyped option would leave no trace there.
    """
    from postrenderer.cli.files import open_log

    path = env.environ.get("OLRENDER_LOG_FILE") or None
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

