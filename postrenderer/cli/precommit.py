"""The pre-commit hooks (``.pre-commit-hooks.yaml``): ``olrender --check`` on rendered manifests or on charts.

pre-commit runs ``python -m postrenderer.cli.precommit`` with the hook's ``args`` and then the files it
selected. Arguments that start with ``-`` are options (write them as ``--name=value``), the others
are files. ``--chart``, ``--chart-dir=DIR`` and ``--release=NAME`` are the hook's own; the rest go
to olrender:

    olrender-check        ... --values=deploy/values.yaml deploy/rendered/agent.yaml
    olrender-check-chart  ... --chart --chart-dir=charts/agent --values=deploy/values.yaml deploy/values.yaml

Each rendered-manifests file is checked on its own; a file that is no manifest stream (a chart's
``Chart.yaml`` or values, a file under a chart's ``templates/``, ``charts/`` or ``crds/``, YAML
without a top-level ``apiVersion`` and ``kind``) is skipped with a note, never checked. With
``--chart`` the charts are the ``--chart-dir`` directories, or else those the files belong to (the
nearest directory upwards holding a ``Chart.yaml``; a file of no chart, such as a values file kept
beside the charts, is an error that asks for ``--chart-dir``); each is rendered with ``helm
template`` (helm on PATH; the ``--values`` files go to helm too; ``--release=NAME`` names the
release, default ``release-name`` as with helm), then THROUGH olrender with the configured options,
as Helm's post-renderer would, and the result is checked. olrender prints its verdict per file or
chart; the hook exits 0 when every one passes, else with the last failure's exit code.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

HOOK_OPTIONS = ("--chart-dir=", "--release=")
CHART_FILES = re.compile(r"(^|/)(Chart\.ya?ml|Chart\.lock|values[^/]*\.(ya?ml|json))$")
TOP_LEVEL = re.compile(rb"^apiVersion:.*^kind:|^kind:.*^apiVersion:", re.MULTILINE | re.DOTALL)


def split(args: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Hook options, olrender options and files, from the hook's arguments."""
    hook = [a for a in args if a == "--chart" or a.startswith(HOOK_OPTIONS)]
    options = [a for a in args if a.startswith("-") and a not in hook]
    return hook, options, [a for a in args if not a.startswith("-")]


def chart_of(path: str) -> str | None:
    """The chart directory a file belongs to: the nearest directory upwards holding a Chart.yaml."""
    directory = os.path.dirname(os.path.abspath(path))
    while True:
        if os.path.isfile(os.path.join(directory, "Chart.yaml")):
            return os.path.relpath(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def not_a_stream(path: str, data: bytes) -> str | None:
    """Why a file is no stream of rendered manifests (so --check must not see it), or None."""
    if CHART_FILES.search(path.replace(os.sep, "/")):
        return "a chart's Chart.yaml or values file"
    chart = chart_of(path)
    if chart is not None and os.path.relpath(path, chart).split(os.sep)[0] in ("templates", "charts", "crds"):
        return "a chart's template (the chart hook renders it)"
    if not TOP_LEVEL.search(data):
        return "no top-level apiVersion and kind"
    return None


def check_file(path: str, options: list[str]) -> int:
    """``olrender --check`` on one file of rendered manifests; other files are skipped with a note."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        sys.stderr.write(f"{path}: cannot read ({exc.strerror})\n")
        return 2
    reason = not_a_stream(path, data)
    if reason:
        sys.stderr.write(f"{path}: skipped, not rendered manifests ({reason})\n")
        return 0
    return _olrender(path, ["--check", *options], data)[0]


def check_chart(directory: str, options: list[str], release: str) -> int:
    """``helm template`` of a chart, rendered through olrender with the options, then ``olrender --check``."""
    values = [o for o in options if o.startswith("--values=")]
    helm = subprocess.run(["helm", "template", release, directory, *values], capture_output=True, check=False)
    if helm.returncode != 0:
        sys.stderr.write(f"{directory}: helm template failed:\n{helm.stderr.decode(errors='replace')}")
        return helm.returncode
    status, rendered = _olrender(f"{directory} (through olrender)", options, helm.stdout, quiet_success=True)
    return status or _olrender(directory, ["--check", *options], rendered)[0]


def _olrender(label: str, options: list[str], data: bytes, quiet_success: bool = False) -> tuple[int, bytes]:
    """Run olrender on data; print its messages under the label (unless it succeeded quietly); status and stdout."""
    proc = subprocess.run([sys.executable, "-m", "postrenderer", *options], input=data, capture_output=True,
                          check=False)
    if proc.returncode or not quiet_success:
        sys.stderr.write(f"{label}:\n{proc.stderr.decode(errors='replace')}")
    return proc.returncode, proc.stdout


def charts(hook: list[str], files: list[str]) -> tuple[list[str], list[str]]:
    """The charts to render (the --chart-dir ones, else those the files belong to, each once); files of no chart."""
    named = [a.partition("=")[2] for a in hook if a.startswith("--chart-dir=")]
    if named:
        return list(dict.fromkeys(os.path.normpath(c) for c in named)), []
    found = {path: chart_of(path) for path in files}
    return list(dict.fromkeys(c for c in found.values() if c is not None)), [p for p, c in found.items() if c is None]


def main(argv: Sequence[str] | None = None) -> int:
    """Check every file or chart; the exit status of the last failure, or 0."""
    hook, options, files = split(sys.argv[1:] if argv is None else argv)
    release = next((a.partition("=")[2] for a in hook if a.startswith("--release=")), "release-name")
    status = 0
    if "--chart" in hook:
        directories, orphans = charts(hook, files)
        for path in orphans:
            sys.stderr.write(f"{path}: belongs to no chart; name the chart to render with --chart-dir=DIR\n")
            status = 2
        for directory in directories:
            status = check_chart(directory, options, release) or status
        return status
    for path in files:
        status = check_file(path, options) or status
    return status


if __name__ == "__main__":
    sys.exit(main())
