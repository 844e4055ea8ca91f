"""Helm 4 discards a post-renderer plugin's stderr: a failed run leaves its reason in Helm's cache instead.

When olrender runs as Helm 4's ``postrenderer/v1`` plugin and no ``--log-file`` took its messages,
a failed run appends them to ``olrender/errors.log`` in Helm's cache directory (``helm env
HELM_CACHE_HOME``), through the same ``Reporter`` as every other channel, so scrubbed alike.
"""

from __future__ import annotations

import os
import sys

from postrenderer.cli.files import KEY_FILE_LIMIT, open_log, read_text
from postrenderer.cli.reporter import Reporter
from postrenderer.errors import OlrenderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

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
    import yaml

    from postrenderer.read import reader

    try:
        plugin = reader.load(read_text(os.path.join(directory, "plugin.yaml"), "plugin.yaml", KEY_FILE_LIMIT))[0]
    except (OlrenderError, yaml.YAMLError, reader.TooLarge):
        return False
    return isinstance(plugin, dict) and plugin.get("type") == "postrenderer/v1" and plugin.get("name") == name


def write_helm_error_log(reporter: Reporter, status: int, environ: Mapping[str, str]) -> None:
    """Under Helm 4 with no working log file, append the messages of a run that failed or warned to olrender/errors.log.

    The log is in Helm's cache; the directory is created owner-only (0700), the file 0600, never
    through a symbolic link; a file over 1 MiB starts again. Nothing is written outside Helm 4 or
    when that place cannot be written. The messages also go to the terminal helm runs in, if any
    (``terminal.tell``).
    """
    if not reporter.said or not runs_as_helm4_plugin(environ):
        return
    from postrenderer.cli.terminal import tell

    tell([reporter.scrubber.scrub_message(text) for text in reporter.said])
    path = os.path.join(helm_cache_home(environ), HELM_ERROR_LOG)
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
        record.scrubber = reporter.scrubber
        record.log_path = path
        outcome = f"failed with exit status {status}" if status else f"succeeded with {reporter.warnings} warning(s)"
        record.report(f"olrender: {outcome} (working directory {os.getcwd()})", False)
        for text in reporter.said:
            record.report(text, to_stderr=False)
