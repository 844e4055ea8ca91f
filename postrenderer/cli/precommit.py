"""The pre-commit hooks (``.pre-commit-hooks.yaml``): ``olrender --check`` on rendered manifests or on charts.

pre-commit runs ``python -m postrenderer.cli.precommit`` with the hook's ``args`` and then the files it
selected. Arguments that start with ``-`` are olrender options (write them as ``--name=value``), the
others are files:

    olrender-check        ... --values=deploy/values.yaml deploy/rendered/agent.yaml
    olrender-check-chart  ... --chart --values=deploy/values.yaml charts/agent/Chart.yaml

Each rendered-manifests file is checked on its own. With ``--chart`` each ``Chart.yaml``'s directory is
rendered with ``helm template`` first (helm on PATH; the ``--values`` files go to helm too;
``--release=NAME`` names the release, default ``release-name`` as with helm). olrender prints its
verdict per file; the hook exits 0 when every file passes, else with the last failure's exit code.
"""

from __future__ import annotations

import subprocess
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

def split(args: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Hook options, olrender options and files, from the hook's arguments."""
    hook = [a for a in args if a == "--chart" or a.startswith("--release=")]
    options = [a for a in args if a.startswith("-") and a not in hook]
    return hook, options, [a for a in args if not a.startswith("-")]


def check_file(path: str, options: list[str]) -> int:
    """``olrender --check`` on one file of rendered manifests."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        sys.stderr.write(f"{path}: cannot read ({exc.strerror})\n")
        return 2
    return _olrender(path, options, data)


def check_chart(chart_yaml: str, options: list[str], release: str) -> int:
    """``helm template`` of the chart a Chart.yaml belongs to, then ``olrender --check`` on the result."""
    directory = chart_yaml.rpartition("/")[0] or "."
    values = [o for o in options if o.startswith("--values=")]
    helm = subprocess.run(["helm", "template", release, directory, *values], capture_output=True, check=False)
    if helm.returncode != 0:
        sys.stderr.write(f"{chart_yaml}: helm template failed:\n{helm.stderr.decode(errors='replace')}")
        return helm.returncode
    return _olrender(chart_yaml, options, helm.stdout)


def _olrender(label: str, options: list[str], data: bytes) -> int:
    """Run ``olrender --check`` on data and print its verdict under the file's name."""
    proc = subprocess.run([sys.executable, "-m", "postrenderer", "--check", *options], input=data,
                          capture_output=True, check=False)  # stdout is the stream passed through: not wanted
    sys.stderr.write(f"{label}:\n{proc.stderr.decode(errors='replace')}")
    return proc.returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Check every file; the exit status of the last failure, or 0."""
    hook, options, files = split(sys.argv[1:] if argv is None else argv)
    release = next((a.partition("=")[2] for a in hook if a.startswith("--release=")), "release-name")
    status = 0
    for path in files:
        result = check_chart(path, options, release) if "--chart" in hook else check_file(path, options)
        status = result or status
    return status


if __name__ == "__main__":
    sys.exit(main())
