"""A chart whose templates are all Helm hooks, through real Helm 4: olrender passes the stream through.

Helm 4.2 added post-render strategies (helm#32049): with ``separate`` (Flux's
``HelmRelease.spec.postRenderStrategy``, the SDK's ``PostRenderStrategy``) a post-renderer also gets a
stream holding the hooks alone. The helm command line always uses ``combined``, so a chart whose
templates are all hooks makes Helm send exactly such a stream. olrender must answer it unchanged,
exit 0, with a note, for every method.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.realclients.clients import Client

pytestmark = pytest.mark.realclient

HOOK_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-1"
spec:
  template:
    metadata:
      labels: {app: astro-agent, component: worker}
    spec:
      restartPolicy: Never
      containers:
        - name: agent
          image: agent:1
          env:
            - {name: TZ, value: UTC}
"""
HOOK_TEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: astro-agent-worker-test-connection
  annotations:
    helm.sh/hook: test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox
      command: ["wget", "astro-agent-worker:8080"]
"""
METHOD_ARGS = {
    "secret": ("--post-renderer-args=--namespace=ns",),
    "existing-secret": ("--post-renderer-args=--api-key-secret=team-key", "--post-renderer-args=--namespace=ns"),
    "check": ("--post-renderer-args=--check",),
}


def sources(text: str) -> list[str]:
    """The ``# Source:`` lines of a render."""
    return [line for line in text.splitlines() if line.startswith("# Source:")]


@pytest.fixture(scope="module")
def hooks_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chart whose two templates are hooks: a pre-install Job that looks like a worker, and a test Pod."""
    chart = tmp_path_factory.mktemp("hooks") / "hooks-only"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: hooks-only\nversion: 0.1.0\n")
    (chart / "templates" / "migrate-job.yaml").write_text(HOOK_JOB)
    (chart / "templates" / "test-connection.yaml").write_text(HOOK_TEST)
    return chart


@pytest.mark.parametrize("method", METHOD_ARGS)
def test_hooks_only_chart_renders_unchanged(helm4: Client, hooks_chart: Path, method: str, tmp_path: Path) -> None:
    """Helm 4 with olrender renders the objects it renders without it, and succeeds, for every method."""
    plain = helm4.run("template", "astro-agent", str(hooks_chart), cwd=tmp_path).ok()
    assert "helm.sh/hook" in plain.stdout
    log = tmp_path / "olrender.log"
    rendered = helm4.run("template", "astro-agent", str(hooks_chart), "--post-renderer", "olrender",
                         *METHOD_ARGS[method], f"--post-renderer-args=--log-file={log}", cwd=tmp_path,
                         env={"OPENLINEAGE_API_KEY": "sk-hooks-only-000000000000"}).ok()
    assert list(yaml.safe_load_all(rendered.stdout)) == list(yaml.safe_load_all(plain.stdout)), \
        "the same objects (Helm 4 re-indents what a post-renderer returns)"
    assert sources(rendered.stdout) == sources(plain.stdout)
    assert "every workload in the stream is a Helm hook" in log.read_text()


def test_hooks_only_stream_is_byte_identical(helm4: Client, hooks_chart: Path, tmp_path: Path) -> None:
    """olrender on Helm's hooks-only output: the same bytes back, exit 0, the note on stderr."""
    stream = helm4.run("template", "astro-agent", str(hooks_chart), cwd=tmp_path).ok().stdout.encode()
    proc = subprocess.run([sys.executable, "-m", "postrenderer", "--api-key-secret=team-key", "--strict"],
                          input=stream, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == stream
    assert b"olrender: every workload in the stream is a Helm hook" in proc.stderr
