"""A real OpenBao dev server on a free loopback port, set up with the ordinary CLI as docs/vault.md says.

``bao server -dev`` keeps everything in memory. ``DevServer.start`` waits until
it answers, ``setup`` runs the commands a Vault administrator runs (a KV version 1
mount besides the dev server's KV version 2 at ``secret/``, the secrets, a policy,
the ``kubernetes`` auth method pointed at the TokenReview test double, a role;
the first secret with ``bao kv put``, the others with the same HTTP request, which
saves a process start each), and ``stop`` ends the server by its PID.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT_TOKEN = "root"
START_TIMEOUT_S = 30
ROLE = "astro-agent"
POLICY = "astro-agent-openlineage"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Secret:
    """One secret the server holds: its mount (KV version), its name and its fields."""

    mount: str
    name: str
    fields: dict[str, str]
    kv_version: int = 2

    @property
    def read_path(self) -> str:
        """The path a client reads it at: ``<mount>/data/<name>`` for KV version 2."""
        return f"{self.mount}/data/{self.name}" if self.kv_version == 2 else f"{self.mount}/{self.name}"


class DevServer:
    """``bao server -dev`` on 127.0.0.1, its address and a way to run the CLI against it."""

    def __init__(self, bao: Path, workdir: Path) -> None:
        self.bao, self.workdir = bao, workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "server.log"

    @property
    def addr(self) -> str:
        """``VAULT_ADDR`` of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DevServer:
        """Start the server and wait until it reports itself unsealed."""
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(self.bao), "server", "-dev", f"-dev-listen-address=127.0.0.1:{self.port}",
                 f"-dev-root-token-id={ROOT_TOKEN}"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir)},
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bao server -dev exited {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.addr}/v1/sys/health", timeout=2) as answer:
                    if not json.load(answer).get("sealed", True):
                        return self
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bao server -dev did not come up within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """End the server (its process group) by PID."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run ``bao ARGS`` against the server as the root token; fail loudly on error."""
        env = {"BAO_ADDR": self.addr, "BAO_TOKEN": ROOT_TOKEN, "HOME": str(self.workdir),
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        proc = subprocess.run([str(self.bao), *args], input=stdin, capture_output=True, text=True, env=env,
                              cwd=self.workdir, timeout=60, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"bao {' '.join(args[:3])} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout

    def write(self, secret: Secret) -> None:
        """Store a secret through the HTTP API, the request ``bao kv put`` makes (one process start less)."""
        body = {"data": secret.fields} if secret.kv_version == 2 else secret.fields
        request = urllib.request.Request(f"{self.addr}/v1/{secret.read_path}", data=json.dumps(body).encode(),
                                         headers={"X-Vault-Token": ROOT_TOKEN}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            if answer.status not in (200, 204):
                raise RuntimeError(f"writing {secret.read_path}: HTTP {answer.status}")

    def setup(self, secrets: list[Secret], readable: list[str], kubernetes_host: str, ca_pem: Path,
              namespace: str, service_accounts: list[str]) -> None:
        """Mounts, secrets, a policy that may read ``readable``, the kubernetes auth method and its role."""
        mounts = {(s.mount, s.kv_version) for s in secrets if s.mount != "secret"}
        for mount, version in sorted(mounts):
            self.cli("secrets", "enable", f"-path={mount}", "kv" if version == 1 else "kv-v2")
        first, *others = secrets  # the documented command for one secret; its HTTP request for the others
        self.cli("kv", "put", f"-mount={first.mount}", first.name, *(f"{k}={v}" for k, v in first.fields.items()))
        for secret in others:
            self.write(secret)
        policy = "\n".join(f'path "{path}" {{\n  capabilities = ["read"]\n}}' for path in readable)
        self.cli("policy", "write", POLICY, "-", stdin=policy + "\n")
        self.cli("auth", "enable", "kubernetes")
        self.cli("write", "auth/kubernetes/config", f"kubernetes_host={kubernetes_host}",
                 f"kubernetes_ca_cert=@{ca_pem}", "disable_local_ca_jwt=true")
        self.cli("write", f"auth/kubernetes/role/{ROLE}", f"bound_service_account_names={','.join(service_accounts)}",
                 f"bound_service_account_namespaces={namespace}", f"token_policies={POLICY}", "token_ttl=5m")
