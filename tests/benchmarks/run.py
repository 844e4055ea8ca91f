"""Benchmark olrender against kustomize, the Python start-up floor and a libyaml round-trip.

    python -m tests.benchmarks.run [--quick] [--json FILE]

Every figure is a whole process (wall time from spawn to exit, peak RSS from
``wait4``), run several times round-robin with the other commands of the same
stream (so background load hits all of them alike), after one unmeasured
warm-up run; the median is reported. The streams are S, M and L, the
workload-heavy WM and WL (half Deployments with ten env entries each), and the
Deployment-heavy DM and DL (half Deployments of about 1 KB with ten env entries,
one in fifty of them a component), from ``tests.benchmarks.streams``. Commands:

- ``olrender``: the secret method, ``olrender --values=values.yaml`` with the key
  in ``OPENLINEAGE_API_KEY`` — installed the way users install it (``pip install``
  of this checkout into a fresh virtual environment, cached per source hash);
- ``kustomize``: ``kubectl kustomize`` (kubectl 1.35.2 from the real-tools cache)
  on a directory holding the stream, the Secret and one JSON6902 patch that adds
  ``OPENLINEAGE_ENDPOINT`` and ``OPENLINEAGE_API_KEY`` to every agent component
  (label selector ``app=astro-agent,component in (worker,dag-processor,triggerer)``).
  Not run on L and WL by default: it is quadratic (minutes per run); ``--kustomize-l`` runs it once;
- ``start-up floor``: ``python -c "import yaml, click, jsonpatch"`` with the same interpreter;
- ``libyaml round-trip``: ``yaml.load_all`` + ``yaml.dump_all`` with the C loader and dumper;
- ``libyaml event parse``: DM and DL, ``yaml.parse`` of the stream with the C loader (every event, nothing built);
- ``olrender (checkout)``: S only, ``python -m postrenderer`` from this checkout with the
  current interpreter (how it runs during development), to compare with the installed command.

Each command's output is checked once before timing (exit 0, one API key entry
per agent component). The targets are printed beside the figures; the exit
status is 0 when all are met.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks import streams
from tests.tools import realtools

ROOT = streams.ROOT
KUBECTL = "kubectl-1.35.2"
FAKE_KEY = "sk-test-bench-0001"
FLOOR_CODE = "import yaml, click, jsonpatch"
ROUNDTRIP_CODE = (
    "import sys, yaml; yaml.dump_all(yaml.load_all(sys.stdin.buffer, Loader=yaml.CSafeLoader), "
    "sys.stdout, Dumper=yaml.CSafeDumper)"
)
EVENTS_CODE = "import sys, yaml\nfor _ in yaml.parse(sys.stdin.buffer, Loader=yaml.CSafeLoader): pass"
DEPENDENCIES = ("pyyaml", "click", "jsonpatch", "jsonpointer")
SOURCES = ("pyproject.toml", "README.md", "postrenderer")
KEY_ENTRY = b"name: OPENLINEAGE_API_KEY"

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - stream.yaml
  - secret.yaml
patches:
  - target:
      kind: Deployment
      labelSelector: app=astro-agent,component in (worker,dag-processor,triggerer)
    patch: |
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: OPENLINEAGE_ENDPOINT, value: "/api/v1/lineage?ASTRO_DEPLOYMENT_ID=cm1example"}
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: OPENLINEAGE_API_KEY, valueFrom: {secretKeyRef: {name: openlineage-api-key-secret, key: api-key}}}
"""

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: openlineage-api-key-secret
type: Opaque
data:
  api-key: c2stdGVzdC1iZW5jaC0wMDAx
"""

RUNS = {"S": 21, "M": 7, "L": 5, "WM": 7, "WL": 5, "DM": 7, "DL": 5}
QUICK_RUNS = {"S": 7, "M": 3, "L": 1, "WM": 3, "WL": 1, "DM": 3, "DL": 1}
LARGE = ("L", "WL", "DL")  # kustomize is quadratic: not run on these unless --kustomize-l


@dataclass(frozen=True)
class Target:
    """A goal from the performance issue: numerator / denominator (or a plain figure) <= limit."""

    name: str
    limit: float
    unit: str  # "x" for a ratio, "MiB" for memory


TARGETS = (
    Target("S: olrender / kustomize (wall)", 0.8, "x"),
    Target("S: olrender / start-up floor (wall)", 1.2, "x"),
    Target("M: olrender / kustomize (wall)", 0.15, "x"),
    Target("L: olrender / libyaml round-trip (wall)", 1.0, "x"),
    Target("L: olrender peak RSS", 60.0, "MiB"),
    Target("linear: olrender L / M (wall)", 12.0, "x"),
    Target("WM: olrender / kustomize (wall)", 0.15, "x"),
    Target("WL: olrender / libyaml round-trip (wall)", 1.0, "x"),
    Target("WL: olrender peak RSS", 60.0, "MiB"),
    Target("DM: olrender / kustomize (wall)", 0.10, "x"),
    Target("DL: olrender / libyaml event parse (wall)", 2.0, "x"),
    Target("DL: olrender peak RSS", 60.0, "MiB"),
)


@dataclass
class Command:
    """One measured command on one stream."""

    label: str
    argv: list[str]
    stdin: Path | None = None
    components: int | None = None  # API key entries its output must hold
    cwd: Path | None = None
    once: bool = False  # one timed run, no check or warm-up (kustomize on L takes minutes)
    times: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        """Median/min/max wall time in seconds and peak RSS in MiB."""
        return {
            "runs": len(self.times),
            "median_s": round(statistics.median(self.times), 4),
            "min_s": round(min(self.times), 4),
            "max_s": round(max(self.times), 4),
            "peak_rss_mib": round(max(self.rss), 1),
        }


# Runs one command and reports its wall time and peak RSS on the fd it is given. This small
# launcher forks the command because Linux carries a process's peak RSS across exec: forked
# from the (larger) benchmark process, every command would report at least its size.
LAUNCHER = """\
import os, sys, time
report, argv = int(sys.argv[1]), sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.close(report)
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
os.write(report, b"%r %d %d" % (elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status)))
"""


def measure(command: Command, env: dict[str, str]) -> tuple[float, float]:
    """Run one process to completion; return its wall time (s) and peak RSS (MiB)."""
    read_end, write_end = os.pipe()
    try:
        with open(command.stdin or os.devnull, "rb") as source:
            proc = subprocess.Popen(
                [sys.executable, "-S", "-c", LAUNCHER, str(write_end), *command.argv], stdin=source,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=command.cwd, pass_fds=(write_end,),
            )  # fmt: skip
            os.close(write_end)
            write_end = -1
            _, err = proc.communicate()
        with os.fdopen(read_end, "rb") as pipe:
            read_end = -1
            report = pipe.read().split()
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    if proc.returncode != 0 or len(report) != 3 or report[2] != b"0":
        raise SystemExit(f"bench: {' '.join(command.argv)} failed: {err.decode(errors='replace')[-500:]}")
    return float(report[0]), int(report[1]) / 1024  # Linux reports KiB


def check(command: Command, env: dict[str, str]) -> None:
    """Run a command once with its output captured and check it did the injection."""
    with open(command.stdin or os.devnull, "rb") as source:
        proc = subprocess.run(command.argv, stdin=source, capture_output=True, env=env, cwd=command.cwd, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {command.label} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    if command.components is not None:
        found = proc.stdout.count(KEY_ENTRY)
        if found != command.components:
            raise SystemExit(f"bench: {command.label} wrote {found} API key entries, expected {command.components}")


def source_hash(python: str) -> str:
    """A hash of everything that goes into the installed package, of the interpreter and dependency versions."""
    digest = hashlib.sha256(sys.version.encode() + b"\0" + os.path.realpath(python).encode())
    digest.update(" ".join(pins()).encode())
    for path in sorted([ROOT / "pyproject.toml", ROOT / "README.md", *(ROOT / "postrenderer").rglob("*.py")]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def pins() -> list[str]:
    """The dependencies at the versions of this environment (the benchmark compares like with like)."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in DEPENDENCIES]


def installed_env(log: list[str], python: str) -> Path:
    """A virtual environment of python with olrender pip-installed from this checkout (cached); return its bin dir."""
    cache = realtools.cache_root().parent / "bench"
    venv = cache / f"venv-{source_hash(python)}"
    bindir = venv / "bin"
    done = venv / "complete"
    if done.exists():
        log.append(f"reusing {venv}")
        return bindir
    cache.mkdir(parents=True, exist_ok=True)
    for old in sorted(cache.glob("venv-*"), key=lambda path: path.stat().st_mtime)[:-1]:  # (keep one other)
        shutil.rmtree(old, ignore_errors=True)
    pinned = pins()
    try:
        with tempfile.TemporaryDirectory(prefix="olrender-src-") as src:
            # a copy, so that the build leaves nothing (build/, *.egg-info) in the checkout
            for name in SOURCES:
                if (ROOT / name).is_dir():
                    shutil.copytree(ROOT / name, Path(src) / name, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(ROOT / name, Path(src) / name)
            subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "--python", str(bindir / "python"), "install",
                 "--quiet", "--disable-pip-version-check", src, *pinned],
                check=True,
            )  # fmt: skip
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        raise SystemExit(f"bench: could not build the benchmark environment: {exc}") from None
    done.write_text(" ".join(pinned) + "\n")
    log.append(f"installed olrender ({', '.join(pinned)}) into {venv}")
    return bindir


def prepare(
    work: Path, names: Sequence[str], bindir: Path, kubectl: Path, kustomize_l: bool
) -> tuple[dict[str, list[Command]], dict[str, dict[str, int]]]:
    """Write the streams and kustomize directories; return the commands and the facts per stream."""
    values = work / "values.yaml"
    values.write_text(streams.VALUES)
    python = str(bindir / "python")
    plan: dict[str, list[Command]] = {}
    facts: dict[str, dict[str, int]] = {}
    for name in names:
        data = streams.stream(name)
        path = work / f"{name}.yaml"
        path.write_bytes(data)
        expected = streams.expected_components(name)
        facts[name] = {"bytes": len(data), "documents": streams.document_count(data), "components": expected}
        commands = [Command("olrender", [str(bindir / "olrender"), f"--values={values}"], path, expected)]
        if name not in LARGE or kustomize_l:
            kdir = work / f"kustomize-{name}"
            kdir.mkdir()
            (kdir / "stream.yaml").write_bytes(data)
            (kdir / "secret.yaml").write_text(SECRET)
            (kdir / "kustomization.yaml").write_text(KUSTOMIZATION)
            commands.append(Command("kustomize", [str(kubectl), "kustomize", str(kdir)], None, expected,
                                    once=name in LARGE))
        if name == "S":
            commands.append(Command("start-up floor", [python, "-c", FLOOR_CODE]))
            commands.append(Command(
                "olrender (checkout)", [sys.executable, "-m", "postrenderer", f"--values={values}"], path, expected,
                cwd=ROOT,
            ))  # the development set-up: this interpreter, the source tree (bytecode as the environment allows)
        elif name.startswith("D"):
            commands.append(Command("libyaml event parse", [python, "-c", EVENTS_CODE], path))
        else:
            commands.append(Command("libyaml round-trip", [python, "-c", ROUNDTRIP_CODE], path))
        plan[name] = commands
    return plan, facts


def run_all(plan: dict[str, list[Command]], runs: dict[str, int], env: dict[str, str]) -> None:
    """Check every command once, warm it up, then time it round-robin with its stream's others."""
    for name, commands in plan.items():
        repeated = [c for c in commands if not c.once]
        for command in repeated:
            check(command, env)
        print(f"bench: {name}: {len(commands)} commands x {runs[name]} runs", file=sys.stderr, flush=True)
        for command in repeated:  # warm-up: page caches, kubectl's binary
            measure(command, env)
        for command in commands:
            if command.once:
                print(f"bench: {name}: {command.label} once (this takes minutes)", file=sys.stderr, flush=True)
        for run in range(runs[name]):
            for command in commands:
                if command.once and run > 0:
                    continue
                elapsed, rss = measure(command, env)
                command.times.append(elapsed)
                command.rss.append(rss)


@dataclass(frozen=True)
class Verdict:
    """A target and the figure measured for it (None when its streams were not run)."""

    target: Target
    measured: float | None

    @property
    def met(self) -> bool:
        """Whether the figure is within the limit."""
        return self.measured is not None and self.measured <= self.target.limit

    def as_json(self) -> dict[str, object]:
        """The verdict for the JSON file."""
        measured = None if self.measured is None else round(self.measured, 3)
        return {"target": self.target.name, "limit": self.target.limit, "unit": self.target.unit,
                "measured": measured, "met": self.met}


def evaluate(plan: dict[str, list[Command]]) -> list[Verdict]:
    """Compute each target's figure from the medians (peak RSS: the largest of the runs)."""

    def find(stream: str, label: str) -> Command | None:
        return next((c for c in plan.get(stream, []) if c.label == label and c.times), None)

    def ratio(stream_a: str, a: str, stream_b: str, b: str) -> float | None:
        first, second = find(stream_a, a), find(stream_b, b)
        if first is None or second is None:
            return None
        return statistics.median(first.times) / statistics.median(second.times)

    large = find("L", "olrender")
    busy = find("WL", "olrender")
    heavy = find("DL", "olrender")
    figures = [
        ratio("S", "olrender", "S", "kustomize"),
        ratio("S", "olrender", "S", "start-up floor"),
        ratio("M", "olrender", "M", "kustomize"),
        ratio("L", "olrender", "L", "libyaml round-trip"),
        max(large.rss) if large else None,
        ratio("L", "olrender", "M", "olrender"),
        ratio("WM", "olrender", "WM", "kustomize"),
        ratio("WL", "olrender", "WL", "libyaml round-trip"),
        max(busy.rss) if busy else None,
        ratio("DM", "olrender", "DM", "kustomize"),
        ratio("DL", "olrender", "DL", "libyaml event parse"),
        max(heavy.rss) if heavy else None,
    ]
    return [Verdict(t, f) for t, f in zip(TARGETS, figures, strict=True)]


def _figure(value: float, unit: str) -> str:
    """A ratio as ``0.13x``, memory as ``56.4 MiB``."""
    return f"{value:.2f}x" if unit == "x" else f"{value:.1f} {unit}"


def report(plan: dict[str, list[Command]], facts: dict[str, dict[str, int]], verdicts: list[Verdict]) -> str:
    """The human-readable table."""
    lines = [f"{'stream':6} {'command':22} {'median':>9} {'min':>9} {'max':>9} {'peak RSS':>10}  runs"]
    for name, commands in plan.items():
        for command in commands:
            s = command.summary()
            lines.append(
                f"{name:6} {command.label:22} {s['median_s']:8.3f}s {s['min_s']:8.3f}s {s['max_s']:8.3f}s "
                f"{s['peak_rss_mib']:6.1f} MiB  {s['runs']}"
            )
        labels = {c.label: c for c in commands}
        if "olrender" in labels and "start-up floor" in labels:
            extra = statistics.median(labels["olrender"].times) - statistics.median(labels["start-up floor"].times)
            lines.append(f"{'':6} (olrender takes {extra * 1000:+.0f} ms over the start-up floor)")
        if "kustomize" not in labels:
            lines.append(f"{name:6} {'kustomize':22} not run (quadratic: minutes; --kustomize-l runs it once)")
        fact = facts[name]
        lines.append(
            f"{'':6} ({fact['bytes']:,} bytes, {fact['documents']:,} documents, {fact['components']} agent components)"
        )
    lines.append("")
    lines.append(f"{'target':42} {'measured':>10} {'limit':>12}")
    for verdict in verdicts:
        target = verdict.target
        limit = "<= " + _figure(target.limit, target.unit)
        if verdict.measured is None:
            lines.append(f"{target.name:42} {'-':>10} {limit:>12}  not measured")
            continue
        measured = _figure(verdict.measured, target.unit)
        lines.append(f"{target.name:42} {measured:>10} {limit:>12}  {'met' if verdict.met else 'NOT MET'}")
    unmet = sum(v.measured is not None and not v.met for v in verdicts)
    missing = sum(v.measured is None for v in verdicts)
    lines.append("")
    if not unmet and not missing:
        lines.append("all targets met")
    else:
        lines.append(f"{unmet} of {len(verdicts)} targets not met" + (f", {missing} not measured" if missing else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the environment, run the benchmark, print the table, write JSON."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"fewer runs ({QUICK_RUNS}) instead of {RUNS}")
    parser.add_argument("--runs", type=int, help="runs per command for every stream")
    parser.add_argument("--streams", default="S,M,L,WM,WL,DM,DL",
                        help="which streams (default S,M,L,WM,WL,DM,DL)")
    parser.add_argument("--kustomize-l", action="store_true", help="also time kustomize on L and WL (minutes per run)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON here")
    parser.add_argument("--python", default=sys.executable, metavar="PATH",
                        help="the interpreter olrender is installed with (default: this one; same dependency versions)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.streams.split(",") if n.strip()]
    if not set(names) <= set(RUNS):
        parser.error(f"--streams takes {', '.join(RUNS)}")
    runs = {n: args.runs or (QUICK_RUNS if args.quick else RUNS)[n] for n in names}

    log: list[str] = []
    bindir = installed_env(log, args.python)
    which = "import os, sys; print(os.path.realpath(sys.executable), sys.version.split()[0])"
    interpreter = subprocess.run([str(bindir / "python"), "-c", which], capture_output=True, text=True,
                                 check=True).stdout.strip()
    log.append(f"olrender runs on {interpreter}")
    kubectl = realtools.ensure(KUBECTL)
    for line in log:
        print(f"bench: {line}", file=sys.stderr)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLRENDER_")}
    env["OPENLINEAGE_API_KEY"] = FAKE_KEY
    with tempfile.TemporaryDirectory(prefix="olrender-bench-") as tmp:
        plan, facts = prepare(Path(tmp), names, bindir, kubectl, args.kustomize_l)
        run_all(plan, runs, env)
        verdicts = evaluate(plan)
        print(report(plan, facts, verdicts))
        result = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"python": interpreter, "platform": platform.platform(), "cpus": os.cpu_count()},
            "olrender": "pip install of this checkout into a fresh virtual environment",
            "kubectl": KUBECTL,
            "streams": facts,
            "results": {n: {c.label: c.summary() for c in plan[n]} for n in names},
            "targets": [v.as_json() for v in verdicts],
        }  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if all(v.met for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
