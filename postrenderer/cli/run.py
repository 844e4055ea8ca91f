"""The program's modes without error handling: options and stdin's bytes in, the output's parts out.

``run`` reads the values and key files, resolves the configuration and runs the render, ``--diff``,
``--emit-patches`` or ``--emit-kustomize-patches``; ``run_check`` is ``--check``. Everything they
say goes through the ``Reporter``.
"""

from __future__ import annotations

import functools
import json
import os
import stat

from postrenderer.cli.files import KEY_FILE_LIMIT, VALUES_FILE_LIMIT, read_text
from postrenderer.errors import ConfigError, OlrenderError, printable
from postrenderer.read.variables import KEY_VAR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from postrenderer.cli.reporter import Reporter
    from postrenderer.config.settings import Settings
    from postrenderer.result import Result


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



def run(options: dict[str, Any], data: bytes, reporter: Reporter,
        environ: Mapping[str, str]) -> list[bytes | memoryview]:
    """The program without error handling: options, stdin bytes and the variables to output bytes, in every mode."""
    from postrenderer import program

    mode = output_mode(options)
    settings = configure(options, data, mode, reporter, environ)
    forbid = bool(options.get("forbid_plaintext"))
    if forbid and mode != "check":
        forbid_secret_method(settings)
    result = program.program(data, settings, mode, forbid)
    if options.get("explain") or options.get("report"):  # also after conflicts, no match or a failed check
        write_explain(options, program.explain(result), reporter)
    if result.failure is not None:
        raise result.failure
    for warning in result.warnings:
        reporter.warn(warning)
    if mode == "check":
        strict = "" if options.get("strict") else " (in CI add --strict, so that a warning fails the run too)"
        reporter.notice(result.notice + strict)
        return result.parts
    if result.notice:
        reporter.notice(result.notice)
    reporter.changed = result.changed
    if mode in program.SHAREABLE:
        return [reporter.scrub(b"".join(result.parts).decode()).encode()]
    if mode == "emit_kustomize_patches" and options.get("committed_patches"):
        compare_patches(result, options["committed_patches"])
    if mode == "render" and reporter.noting:  # (a summary nobody reads is not worth its time on large streams)
        for line in program.summary(result):
            reporter.info(line)
    return result.parts


def configure(options: dict[str, Any], data: bytes, mode: str, reporter: Reporter,
              environ: Mapping[str, str]) -> Settings:
    """The mode's settings (one resolution for every mode, values files included), every warning reported."""
    from postrenderer.config import settings as config
    from postrenderer.inject.methods import METHODS

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
    register_keys(options, values, reporter, read_key_file, environ)
    for warning in values_warnings:
        reporter.warn(warning)
    if options.get("exit_code") and mode not in ("emit_patches", "diff"):
        raise ConfigError("--exit-code goes with --diff or --emit-patches (it exits 7 when they show a change)")
    if options.get("committed_patches") and mode != "emit_kustomize_patches":
        raise ConfigError("--committed-patches goes with --emit-kustomize-patches (it compares what that prints)")
    named = METHODS.get(str(options.get("method")))
    if options.get("forbid_plaintext") and mode != "check" and named is not None and named.needs_key:
        raise ConfigError(FORBID_SECRET_METHOD)  # (before the key is asked for)
    try:
        settings, warnings = config.resolve(options, values, environ, read_key_file, check=mode == "check")
    except ConfigError as exc:
        raise keys_already_there(options, values, data, environ) or exc from None
    if settings.openlineage.api_key is not None:
        reporter.add_secret(settings.openlineage.api_key.reveal())
    for warning in warnings:
        reporter.warn(warning)
    return settings


def register_keys(options: dict[str, Any], values: dict[str, Any], reporter: Reporter,
                  read_key_file: Callable[[str], str], environ: Mapping[str, str]) -> None:
    """Read every configured key source (in every mode, --check too), scrub each key, refuse one olrender cannot use.

    Each is registered for scrubbing as soon as it is read, before it is checked, so that even a
    failing check cannot print it. Blank values are left to ``config.resolve``.
    """
    from postrenderer.config import settings as config

    block = values.get("openLineage")
    sources = [(environ.get(KEY_VAR), f"environment variable {KEY_VAR}"),
               (block.get("apiKey") if isinstance(block, dict) else None, "openLineage.apiKey")]
    if options.get("api_key_file"):
        sources.append((read_key_file(options["api_key_file"]), f"--api-key-file {options['api_key_file']}"))
    for value, _ in sources:
        reporter.add_secret(value)
    for value, source in sources:
        if isinstance(value, str) and value.strip():
            config.clean_key(value, source)


def keys_already_there(options: dict[str, Any], values: dict[str, Any], data: bytes,
                       environ: Mapping[str, str]) -> ConfigError | None:
    """When no key source is configured but every component already has its key, the error that says so."""
    if options.get("method") or options.get("api_key_file") or options.get("api_key_secret") or values:
        return None
    from postrenderer import program
    from postrenderer.config import settings as config

    try:
        settings, _ = config.resolve(options, values, environ, lambda path: "", check=True)
        result = program.program(data, settings, "check")
    except OlrenderError:
        return None
    if result.failure is not None or result.check is None or not result.check.components:
        return None
    return ConfigError(
        f"no key source is configured, and every agent component already has {KEY_VAR} in the stream "
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
    """--forbid-plaintext refuses a method that needs the plaintext key."""
    from postrenderer.inject.methods import method_for

    if method_for(settings.openlineage).needs_key:
        raise ConfigError(FORBID_SECRET_METHOD)


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
        reporter.write_file(path, text, "--report")
    reporter.report(text.rstrip("\n"), to_stderr=explain)


def printable_values(data: Any) -> Any:
    """A copy of report data with control characters escaped in every string (names come from the stream)."""
    if isinstance(data, dict):
        return {printable(key): printable_values(value) for key, value in data.items()}
    if isinstance(data, list):
        return [printable_values(item) for item in data]
    return printable(data) if isinstance(data, str) else data


