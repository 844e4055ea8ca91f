"""One exception hierarchy, one exit code per class.

Every error olrender reports is an ``OlrenderError``; ``cli.main`` turns it into
its ``exit_code`` and a one-paragraph message. Messages name the setting or the
document (``document 7 (Deployment/astro-agent-triggerer): ...``) and never
contain the API key. Text taken from the stream (names) goes through
``printable``, so that a name cannot end a message line or move the cursor:

    >>> where(3, "Deployment", "x\\nolrender: check passed")
    'document 3 (Deployment/x\\\\nolrender: check passed)'
"""

from __future__ import annotations


class ExitCode:
    """Process exit statuses; documented in the README. (Plain ints: an IntEnum takes 0.2 ms to build at start-up.)"""

    OK = 0
    INTERNAL = 1
    CONFIG = 2
    INPUT = 3
    CONFLICT = 4
    NO_MATCH = 5
    CHECK_FAILED = 6
    CHANGES = 7  # --exit-code: --diff or --emit-patches found something to change; --committed-patches differ
    WARNINGS = 8  # --strict: the run warned
    INTERRUPTED = 130


class OlrenderError(Exception):
    """Base of every error olrender reports to the user."""

    exit_code = ExitCode.INTERNAL


class ConfigError(OlrenderError):
    """An option, environment variable or values-file setting is wrong."""

    exit_code = ExitCode.CONFIG

    def __init__(self, message: str) -> None:
        super().__init__(f"invalid config: {message}")


class InputError(OlrenderError):
    """The manifest stream (or one document in it) cannot be used."""

    exit_code = ExitCode.INPUT


class ConflictError(OlrenderError):
    """The stream already holds a different value for something olrender would set."""

    exit_code = ExitCode.CONFLICT


class NoMatchError(OlrenderError):
    """A non-empty stream holds no agent component."""

    exit_code = ExitCode.NO_MATCH


class CheckFailed(OlrenderError):
    """``--check`` found a component that would run without working OpenLineage auth."""

    exit_code = ExitCode.CHECK_FAILED


class PatchesDiffer(OlrenderError):
    """``--committed-patches``: the committed kustomize patches are not those olrender generates now."""

    exit_code = ExitCode.CHANGES


class Warned(OlrenderError):
    """``--strict``: the run warned, so it fails."""

    exit_code = ExitCode.WARNINGS


def printable(text: object, keep: str = "") -> str:
    """The text with each character that is not printable (except those in keep) escaped: ``\\n``, ``\\x1b``."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch in keep else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in text
    )


def where(index: int, kind: object = None, name: object = None) -> str:
    """Describe a document for messages: ``document 3 (Deployment/x)``."""
    if kind or name:
        return f"document {index} ({printable(kind or '?')}/{printable(name or '?')})"
    return f"document {index}"
