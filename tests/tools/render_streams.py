"""Regenerate fixtures/streams/: the exact stdin each Helm generation pipes to a post-renderer.

Helm 3 (3.17.2) runs the capture script as ``--post-renderer <abs path>``; Helm 4 (4.3.1)
needs an installed ``postrenderer/v1`` plugin, so a throw-away one whose command is the
capture script is installed into temporary Helm homes. Both render the fixture chart
``fixtures/chart/astro-agent`` as release ``astro-agent`` with
``--set openLineage.namespace=ultraviolet-corona-6870`` (no API key configured).

Usage: ``python -m tests.tools.render_streams [--check]`` (``--check``: compare only,
exit 1 when a committed stream differs from a fresh capture).
"""

from __future__ import annotations

import argparse
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.tools.realtools import ensure, helm_env

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "fixtures" / "chart" / "astro-agent"
STREAMS = REPO / "fixtures" / "streams"
CAPTURE_SCRIPT = Path(__file__).resolve().with_name("capture_stdin.sh")
RELEASE = "astro-agent"
SET_ARGS = ("--set", "openLineage.namespace=ultraviolet-corona-6870")
PLUGIN_NAME = "olrender-capture"

PLUGIN_YAML = f"""\
apiVersion: v1
type: postrenderer/v1
name: {PLUGIN_NAME}
version: 0.1.0
runtime: subprocess
runtimeConfig:
  platformCommand:
    - command: {{command}}
"""


@dataclass(frozen=True)
class Stream:
    """One stream file: which helm produced it and where it is stored."""

    tool: str
    filename: str

    @property
    def generation(self) -> int:
        """The Helm major version (3 or 4)."""
        return int(self.tool.split("-", 1)[1].split(".", 1)[0])


STREAM_FILES: tuple[Stream, ...] = (
    Stream("helm-3.17.2", "helm3.yaml"),
    Stream("helm-4.3.1", "helm4.yaml"),
)


def _run(cmd: list[str], env: dict[str, str]) -> None:
    """Run a command from the repo root; raise with its stderr on failure."""
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stderr.strip() or proc.stdout}"
        )


def capture(stream: Stream, chart: Path = CHART, extra: tuple[str, ...] = SET_ARGS) -> bytes:
    """Render ``chart`` with the stream's helm through the capture renderer; return stdin."""
    helm = ensure(stream.tool)
    with tempfile.TemporaryDirectory(prefix="olrender-streams-") as tmp:
        tmpdir = Path(tmp)
        env = helm_env(tmpdir)
        script = tmpdir / "capture_stdin.sh"  # private copy: exec bit independent of git
        shutil.copyfile(CAPTURE_SCRIPT, script)
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        out = tmpdir / "captured.yaml"
        env["CAPTURE_FILE"] = str(out)
        if stream.generation >= 4:
            plugin = tmpdir / "plugin-src"
            plugin.mkdir()
            (plugin / "plugin.yaml").write_text(PLUGIN_YAML.format(command=script))
            _run([str(helm), "plugin", "install", str(plugin)], env)
            renderer = PLUGIN_NAME
        else:
            renderer = str(script)
        cmd = [str(helm), "template", RELEASE, str(chart), *extra, "--post-renderer", renderer]
        _run(cmd, env)
        if not out.exists():
            raise RuntimeError(f"{stream.tool} never ran the post-renderer (no {out.name})")
        return out.read_bytes()


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) every stream file under fixtures/streams/."""
    parser = argparse.ArgumentParser(prog="python -m tests.tools.render_streams")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    status = 0
    for stream in STREAM_FILES:
        data = capture(stream)
        target = STREAMS / stream.filename
        rel = target.relative_to(REPO)
        if args.check:
            same = target.exists() and target.read_bytes() == data
            print(f"{rel}: {'up to date' if same else 'DIFFERS'}")
            status |= 0 if same else 1
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            print(f"{rel}: {len(data)} bytes from {stream.tool}")
    return status


if __name__ == "__main__":
    sys.exit(main())
