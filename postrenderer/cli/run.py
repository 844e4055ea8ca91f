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
from postrenderer.cli.options import KEY_VARIABLE
from postrenderer.errors import ConfigError, OlrenderError, printable, where

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from postrenderer.cli.reporter import Reporter
    from postrenderer.config.settings import Settings
    from postrenderer.program import Result
    from postrenderer.read.analysis import Analysis


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
    reporter.info(
        f"{len(result.plan.components)} component(s), {len(result.plan.ops)} document(s) changed, "
        f"{len(result.plan.new_documents)} added ({result.format} stream, method {method})" + (
            ": the chart already references the Secret in every component, so olrender only verified it"
            if method == "existing-secret" and result.plan.components and not reporter.changed else "")
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
    result = check.evaluate(read(data, rules, full=forbid), rules, check.expectations(options, values), forbid)
    write_explain(options, explain_check(result), reporter)
    strict = "" if options.get("strict") else " (in CI add --strict, so that a warning fails the run too)"
    reporter.notice(check.verdict(result, bool(options.get("allow_no_match"))) + strict)
    return [data if data.strip() else pipeline.EMPTY_OUTPUT.encode()]

