"""Helpers for the hardening tests: run the real process with its time and peak memory, generate huge inputs.

``run_measured`` runs olrender's entry point the way Helm does (stdin in,
stdout out) and reports, besides the output, the wall time and the process's
own peak resident memory, so that limits can be asserted per run. The peak is
``VmHWM`` read as the process exits: ``wait4``'s ``ru_maxrss`` would also count
the memory of the (large) test process the child was forked from.

    >>> run = run_measured([], b"", {"OPENLINEAGE_API_KEY": "sk-test-doc-000001"})
    >>> run.returncode, run.stdout[:10]
    (0, b'# olrender')

The generators build the inputs too large to commit, always byte for byte the
same for the same size.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ``python -m postrenderer``, plus: write the peak resident set (kB) to the file named first, at exit
LAUNCHER = """\
import atexit, sys
peak_file = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as status:
        kb = next((line.split()[1] for line in status if line.startswith("VmHWM:")), "")
    with open(peak_file, "w") as out:
        out.write(kb)
atexit.register(peak)
from postrenderer.cli import main
main(sys.argv[1:])
"""
HELM3 = (ROOT / "fixtures" / "streams" / "helm3.yaml").read_bytes()


@dataclass
class Measured:
    """What one run of olrender produced, and what it cost."""

    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float
    max_rss_mb: float

    @property
    def text(self) -> str:
        """stderr as text."""
        return self.stderr.decode("utf-8", errors="replace")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any olrender setting, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLRENDER_") and k != "OPENLINEAGE_API_KEY"}
    env.update(extra or {})
    return env


def run_measured(
    args: list[str], data: bytes, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> Measured:
    """Run olrender on data; return its output, exit code, wall time and peak RSS (MiB)."""
    with tempfile.NamedTemporaryFile(prefix="olrender-peak-", delete=False) as handle:
        peak_file = Path(handle.name)
    proc_command = [sys.executable, "-m", "postrenderer", *args]
    if Path("/proc/self/status").exists():
        proc_command = [sys.executable, "-c", LAUNCHER, str(peak_file), *args]
    start = time.monotonic()
    proc = subprocess.Popen(
        proc_command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=clean_env(env), cwd=cwd,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    chunks: dict[str, bytes] = {}

    def feed() -> None:
        try:
            proc.stdin.write(data)  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except (BrokenPipeError, ValueError):  # olrender stopped reading (over a limit): fine
            pass

    def drain(name: str, pipe: object) -> None:
        chunks[name] = pipe.read()  # type: ignore[attr-defined]

    threads = [threading.Thread(target=feed), threading.Thread(target=drain, args=("out", proc.stdout)),
               threading.Thread(target=drain, args=("err", proc.stderr))]
    for thread in threads:
        thread.start()
    killer = threading.Timer(timeout, lambda: os.kill(proc.pid, signal.SIGKILL))
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start
    assert proc.returncode != -signal.SIGKILL, f"olrender took longer than {timeout} s"
    peak_kb = peak_file.read_text().strip() or str(usage.ru_maxrss)
    peak_file.unlink()
    return Measured(proc.returncode, chunks["out"], chunks["err"], seconds, int(peak_kb) / 1024)


def configmap(name: str, size: int, *, block: bool = False) -> bytes:
    """A Helm 3 ConfigMap document of about size bytes: many short keys, or one block scalar."""
    head = (
        f"---\n# Source: big/templates/{name}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        f"  name: {name}\ndata:\n"
    )
    if block:
        line = "    " + "y" * 91 + "\n"
        return (head + "  blob: |\n" + line * max(1, (size - len(head)) // len(line))).encode()
    line = "  key-{:08d}: " + "x" * 80 + "\n"
    count = max(1, (size - len(head)) // len(line.format(0)))
    return (head + "".join(line.format(i) for i in range(count))).encode()


def component(size: int, name: str = "agent-triggerer") -> bytes:
    """An agent component (Deployment) of about size bytes, its bulk in pod annotations: the costliest shape."""
    head = (
        f"---\n# Source: agent/templates/{name}.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: {name}\nspec:\n  template:\n    metadata:\n      annotations:\n"
    )
    tail = "    spec:\n      containers:\n        - name: triggerer\n          image: agent:1\n"
    line = "        note-{:08d}: " + "x" * 80 + "\n"
    count = max(1, (size - len(head) - len(tail)) // len(line.format(0)))
    return (head + "".join(line.format(i) for i in range(count)) + tail).encode()


def many_lines(lines: int) -> bytes:
    """The fixture chart's Helm 3 stream followed by small ConfigMaps, lines lines in all."""
    doc = (
        "---\n# Source: app/templates/cm-{n}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        "  name: cm-{n}\n  labels:\n    app.kubernetes.io/name: app\ndata:\n"
        + "".join(f"  key{i}: value-{i}\n" for i in range(11))
    )
    per = doc.count("\n")
    count = (lines - HELM3.count(b"\n")) // per
    tail = "".join(doc.format(n=i) for i in range(count))
    filler = "# padding\n" * (lines - HELM3.count(b"\n") - count * per)
    return HELM3 + (tail + filler).encode()


def nested(depth: int, flow: bool = True) -> str:
    """A value nested depth levels deep, as flow (``[[...]]``) or block (``- - ...``) YAML, at indent 10."""
    if flow:
        return "[" * depth + "x" + "]" * depth
    return "\n" + "".join(" " * (10 + 2 * i) + "-\n" for i in range(depth - 1)) + " " * (10 + 2 * depth) + "- x"


def worst_case() -> bytes:
    """The costliest stream within every limit: a 16 MiB component (the most changed text) and 48 MiB more."""
    return component(16 * 2**20 - 4096) + b"".join(configmap(f"big-{i}", 16 * 2**20 - 4096) for i in range(3))


def pods(count: int) -> bytes:
    """count one-line agent components (the cheapest component: the most of them per MiB)."""
    return "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}-worker-a}}\nspec: {{containers: [{{name: c}}]}}\n"
        for i in range(count)
    ).encode()


def many_documents() -> bytes:
    """200,000 documents (the document limit): half of them empty, half ConfigMaps, and four components."""
    config_maps = b"".join(b"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\n" % i for i in range(99_996))
    return b"---\n" * 100_000 + config_maps + pods(4)


def aliases(size: int, count: int) -> bytes:
    """An agent component whose args hold one string of size characters and count aliases of it."""
    return ("apiVersion: v1\nkind: Pod\nmetadata: {name: a-worker-b}\nspec:\n  containers:\n  - name: c\n"
            f"    args: [&a \"{'x' * size}\"" + ", *a" * count + "]\n").encode()


def _agent(name: str, container: str, namespace: str = "agent") -> str:
    """A one-container agent component (Deployment) whose container gets ``container`` (YAML lines at indent 10)."""
    return (
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n"
        f"  template:\n    spec:\n      containers:\n        - name: agent\n{container}"
    )


def _mounted_config(name: str = "agent-triggerer", config_map: str = "ol-config") -> str:
    """A component whose OPENLINEAGE_CONFIG names openlineage.yml of a ConfigMap mounted at /etc/ol."""
    return _agent(name, (
        "          env: [{name: OPENLINEAGE_CONFIG, value: /etc/ol/openlineage.yml}]\n"
        "          volumeMounts: [{name: ol, mountPath: /etc/ol}]\n"
    )) + f"      volumes: [{{name: ol, configMap: {{name: {config_map}}}}}]\n"


def _config_map(text: str, name: str = "ol-config") -> str:
    """A ConfigMap holding text as openlineage.yml (a literal block scalar)."""
    body = "".join(f"    {line}\n" for line in text.splitlines())
    return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: agent}}\ndata:\n" \
        f"  openlineage.yml: |\n{body}"


def config_alias_bomb(levels: int = 7) -> bytes:
    """A ConfigMap's OpenLineage config file with an alias bomb of levels levels (10 ** levels nodes), mounted."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels)]
    lines.append("transport: {type: http, url: 'https://o11y.astronomer.io'}")
    return (_config_map("\n".join(lines)) + _mounted_config()).encode()


def config_nested(depth: int) -> bytes:
    """A mounted config file nested depth levels deep (flow style)."""
    return (_config_map("transport: " + "[" * depth + "x" + "]" * depth) + _mounted_config()).encode()


def large_config(size: int, components: int) -> bytes:
    """A config file of about size bytes (many transports' worth of settings) mounted by components components."""
    line = "  option-{:07d}: " + "v" * 60
    count = max(1, size // len(line.format(0)))
    text = "\n".join(["transport: {type: http, url: 'https://o11y.astronomer.io'}", "facets:"]
                     + [line.format(i) for i in range(count)])
    return (_config_map(text) + "".join(_mounted_config(f"agent-{i}-triggerer") for i in range(components))).encode()


def env_from_fanout(keys: int, references: int) -> bytes:
    """A ConfigMap of keys keys, referenced by envFrom references times with different prefixes."""
    data = "".join(f"  KEY_{i:05d}: v\n" for i in range(keys))
    config_map = f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: many, namespace: agent}}\ndata:\n{data}"
    entry = "            - {{prefix: P{:03d}_, configMapRef: {{name: many}}}}\n"
    env_from = "".join(entry.format(i) for i in range(references))
    return (config_map + _agent("agent-triggerer", "          envFrom:\n" + env_from)).encode()


def same_named(config_maps: int, components: int) -> bytes:
    """config_maps ConfigMaps named alike in other namespaces, and components components that refer to that name."""
    maps = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: shared, namespace: ns-{i}}}\ndata: {{a: b}}\n"
        for i in range(config_maps)
    )
    container = "          envFrom: [{configMapRef: {name: shared}}]\n"
    return (maps + "".join(_agent(f"a{i}-worker-x", container) for i in range(components))).encode()


def json_env(name: str, depth: int) -> bytes:
    """A component whose variable name holds a JSON value nested depth levels deep."""
    value = '{"type": "http", "url": "https://o11y.astronomer.io", "x": ' + "[" * depth + "]" * depth + "}"
    return _agent("agent-triggerer", f"          env: [{{name: {name}, value: '{value}'}}]\n").encode()


def tagged_merge() -> bytes:
    """A component whose container is written ``- !!merge <<: {...}``: a merge key on the path olrender edits."""
    return _agent("agent-triggerer", "").replace(
        "        - name: agent\n", "        - !!merge <<: {name: agent, image: agent:1}\n").encode()


def cost_shapes() -> list[tuple[str, bytes, int]]:
    """The cost and internal-error shapes of the read side: (label, stream, expected exit code)."""
    return [
        ("964-byte config file, seven-level alias bomb, mounted by OPENLINEAGE_CONFIG (refused: 10^7 nodes)",
         config_alias_bomb(7), 3),
        ("the same with five levels (10^5 nodes, within the limits)", config_alias_bomb(5), 0),
        ("ConfigMap of 10,000 keys, envFrom 200 times with different prefixes", env_from_fanout(10_000, 200), 0),
        ("1 MiB config file mounted by 10 components", large_config(2**20, 10), 0),
        ("100,000 same-named ConfigMaps in other namespaces, 10,000 components", same_named(100_000, 10_000), 0),
        ("AIRFLOW__OPENLINEAGE__TRANSPORT nested 1,000 deep (refused)",
         json_env("AIRFLOW__OPENLINEAGE__TRANSPORT", 1_000), 3),
        ("OPENLINEAGE__TRANSPORT JSON nested 1,000 deep (refused)", json_env("OPENLINEAGE__TRANSPORT", 1_000), 3),
        ("mounted config file nested 500 deep (refused)", config_nested(500), 3),
        ("- !!merge <<: {...} as the edited container (refused)", tagged_merge(), 3),
    ]


def measure() -> list[tuple[str, Measured]]:
    """Run the inputs behind the figures in docs/reliability.md (``python -m tests.hardening``)."""
    key = {"OPENLINEAGE_API_KEY": "sk-test-measure-0001"}
    corpus = ROOT / "fixtures" / "bad-input"
    alias_bomb = (corpus / "alias-bomb.yaml").read_bytes()
    deep = configmap("deep", 200) + b"  deep: " + nested(100_000).encode() + b"\n"
    inputs = [
        ("fixture chart (Helm 3, 17 documents)", HELM3),
        ("500,000-line stream (24,988 documents)", many_lines(500_000)),
        ("16 MiB ConfigMap, 173,000 keys (passed through)", configmap("big", 16 * 2**20 - 4096) + HELM3),
        ("16 MiB ConfigMap, one block scalar (passed through)",
         configmap("big", 16 * 2**20 - 4096, block=True) + HELM3),
        ("16 MiB agent component, 161,000 annotations (changed)", component(16 * 2**20 - 4096)),
        ("64 MiB stream: 4 components of 16 MiB (refused: 16 MiB of components at most)",
         b"".join(component(16 * 2**20 - 4096, f"agent-{i}-triggerer") for i in range(4))),
        ("64 MiB stream: a 16 MiB component and 3 ConfigMaps of 16 MiB (changed: the worst case)", worst_case()),
        ("64 MiB stream: 4 ConfigMaps of 16 MiB (passed through)",
         b"".join(configmap(f"big-{i}", 16 * 2**20 - 4096) for i in range(4)) + HELM3),
        ("100 MB single document (refused: stream limit)", HELM3 + configmap("huge", 100_000_000)),
        ("17 MiB document (refused: document limit)", HELM3 + configmap("big", 17 * 2**20)),
        ("alias bomb, 10^9 nodes when expanded (refused)", alias_bomb),
        ("201 aliases of a 1 MiB string (refused: 201 MiB expanded)", aliases(2**20, 200)),
        ("10,000 one-line agent components (the component limit, changed)", pods(10_000)),
        ("100,000 one-line agent components (refused: component limit)", pods(100_000)),
        ("200,000 documents: empty ones, ConfigMaps, 4 components", many_documents()),
        ("64 MiB of empty documents and a component (refused: document limit)",
         b"---\n" * (16 * 2**20 - 40) + pods(1)),
        ("nesting 100,000 levels deep (refused)", HELM3 + deep),
    ]
    inputs += [(label, data) for label, data, _ in cost_shapes()]
    runs = [(label, run_measured([], data, key, timeout=600)) for label, data in inputs]
    return runs + measure_files(key, corpus)


def measure_files(key: dict[str, str], corpus: Path) -> list[tuple[str, Measured]]:
    """The rows on names, key files, values files and FIFOs."""
    hostile = (corpus / "backtracking-name.yaml").read_bytes()
    folder = Path(tempfile.mkdtemp(prefix="olrender-measure-"))
    line = "  key-{:08d}: " + "v" * 80 + "\n"
    head = "openLineage:\n  url: https://o11y.astronomer.io\nextra:\n"
    count = (16 * 2**20 - len(head) - 100) // len(line.format(0))
    (folder / "values.yaml").write_text(head + "".join(line.format(i) for i in range(count)))
    (folder / "key").write_text("k" * (64 * 1024 - 1))
    (folder / "key").chmod(0o600)
    os.mkfifo(folder / "fifo")
    pattern = "-worker-[a-z0-9]([-a-z0-9]*[a-z0-9])?$|-triggerer$"
    inputs = [
        ("one workload name of 180 KB, default rules", [], hostile),
        ("the same name with --component-name", ["--component-name", pattern], hostile),
        ("--api-key-file /dev/zero (refused)", ["--api-key-file", "/dev/zero"], HELM3),
        ("-f /dev/zero (refused)", ["-f", "/dev/zero"], HELM3),
        ("a FIFO as key file (refused)", ["--api-key-file", str(folder / "fifo")], HELM3),
        ("a FIFO as values file (refused)", ["-f", str(folder / "fifo")], HELM3),
        ("a FIFO as log file (refused)", ["--log-file", str(folder / "fifo")], HELM3),
        ("a 16 MiB values file, 173,000 keys (accepted)", ["-f", str(folder / "values.yaml"), "--allow-no-match"],
         HELM3),
        ("a 64 KiB key file (accepted)", ["--api-key-file", str(folder / "key")], HELM3),
    ]
    return [(label, run_measured(args, data, key, timeout=600)) for label, args, data in inputs]


if __name__ == "__main__":
    for label, run in measure():
        print(f"| {label} | {run.returncode} | {run.seconds:.1f} s | {run.max_rss_mb:.0f} MiB |")
