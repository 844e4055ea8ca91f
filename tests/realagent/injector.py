"""The Vault Agent Injector oracle: the real OpenBao agent renders an annotation's template as the injector's would.

For a pod annotated ``vault.hashicorp.com/agent-inject-template-<file>``, the
vault-k8s webhook starts an init container whose agent configuration (JSON) holds
``auto_auth`` with the ``kubernetes`` method (the annotation's role and auth path,
the pod's service-account token), a file sink for the token, ``exit_after_auth``
(init-only: ``agent-pre-populate-only``), and one ``template`` whose ``contents``
is the annotation's value verbatim and whose ``destination`` is
``/vault/secrets/<file>`` (``error_on_missing_key`` and the method's
``exit_on_err`` from their annotations). ``agent_config`` builds that
configuration (pure; every path under a work directory instead of the pod's
root). ``InjectorVault`` runs it with the real ``bao agent`` (OpenBao 2.7.2)
against the loopback dev server and the TokenReview test double of this tier
(no root needed: no pod is simulated), and returns the file it wrote.

``openlineage_template`` is one template a method may put in the annotation: a
whole ``openlineage.yml`` whose key goes through consul-template's ``toJSON`` (a
JSON string is a YAML double-quoted scalar, so ``"``, ``:``, ``#`` and ``'`` survive).
``annotation_problems`` checks annotation names against vault-k8s 1.7.6's list.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.realagent.scenario import CA_PEM, NAMESPACE, SERVICE_ACCOUNT, SERVICE_ACCOUNTS
from tests.realagent.server import ROLE, DevServer, Secret
from tests.realagent.tokenreview import TokenReviewDouble, service_account_jwt

PREFIX = "vault.hashicorp.com/"
# vault-k8s v1.7.6, agent-inject/agent/annotations.go, as listed in the project's secret-manager notes
ANNOTATIONS = frozenset(PREFIX + name for name in (
    "agent-inject", "role", "agent-pre-populate-only", "agent-init-first", "agent-inject-containers", "auth-path",
    "service", "agent-auto-auth-exit-on-err", "template-config-exit-on-retry-failure", "secret-volume-path"))
PER_FILE = tuple(PREFIX + name for name in ("agent-inject-secret-", "agent-inject-template-", "error-on-missing-key-"))
AGENT_TIMEOUT_S = 20
WORKERS = 4
FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
EXAMPLE_SECRETS = [  # what the oracle's own tests store: a KV v2 key, a hostile one, a KV v1 key
    Secret("secret", "openlineage/api-key", {"key": "sk-test-injector-0001"}),
    Secret("secret", "openlineage/hostile", {"key": "sk-test-injector-0002 \"q\" a: b #c 'd \\e <&> \u00e9 {{x}}"}),
    Secret("kv1", "openlineage/api-key", {"key": "sk-test-injector-0003"}, kv_version=1),
]


def annotation_problems(annotations: dict[str, Any]) -> list[str]:
    """Names under vault.hashicorp.com/ that the injector does not know, and values that are not strings."""
    problems = []
    for name, value in annotations.items():
        if not name.startswith(PREFIX):
            continue
        known = name in ANNOTATIONS or any(name.startswith(p) and len(name) > len(p) for p in PER_FILE)
        if not known:
            problems.append(f"{name}: not an annotation of the Vault Agent Injector")
        if not isinstance(value, str):
            problems.append(f"{name}: value {value!r} is not a string")
    return problems


def openlineage_template(path: str, field: str, kv_version: int, url: str, endpoint: str) -> str:
    """A consul-template template that writes a whole openlineage.yml with the key from ``path``."""
    if not FIELD.fullmatch(field):
        raise ValueError(f"field {field!r} is not a template identifier")
    data = ".Data.data" if kv_version == 2 else ".Data"
    key = f'{{{{ with secret {json.dumps(path)} }}}}{{{{ {data}.{field} | toJSON }}}}{{{{ end }}}}'
    return (f"transport:\n  type: http\n  url: {json.dumps(url)}\n  endpoint: {json.dumps(endpoint)}\n"
            f"  auth:\n    type: api_key\n    apiKey: {key}\n")


def agent_config(template: str, *, addr: str, role: str, file: str, root: Path, auth_path: str = "auth/kubernetes",
                 error_on_missing_key: bool = True, exit_on_err: bool = True) -> dict[str, Any]:
    """The injector's init-agent configuration for one templated file, with the pod's paths under ``root``."""
    return {
        "auto_auth": {
            "method": {"type": "kubernetes", "mount_path": auth_path, "exit_on_err": exit_on_err,
                       "config": {"role": role, "token_path": str(root / "serviceaccount" / "token")}},
            "sink": [{"type": "file", "config": {"path": str(root / "home" / "vault" / ".vault-token")}}],
        },
        "exit_after_auth": True,
        "pid_file": str(root / "home" / "vault" / ".pid"),
        "vault": {"address": addr},
        "template": [{"destination": str(root / "vault" / "secrets" / file), "contents": template,
                      "left_delimiter": "{{", "right_delimiter": "}}", "error_on_missing_key": error_on_missing_key}],
        "template_config": {"exit_on_retry_failure": True},
    }


@dataclass(frozen=True)
class Injection:
    """One annotated pod, as far as the agent sees it: the template, the role, the file, the auth path."""

    template: str
    role: str = ROLE
    file: str = "openlineage.yml"
    auth_path: str = "auth/kubernetes"


@dataclass(frozen=True)
class Rendered:
    """What the agent did: exit status, the file it wrote (None: none), its log, seconds."""

    exit_code: int
    data: bytes | None
    log: str
    seconds: float


class InjectorVault:
    """A real OpenBao dev server with the kubernetes auth method, and the real agent to run against it."""

    def __init__(self, bao: Path, workdir: Path) -> None:
        self.bao, self.workdir, self.runs = bao, workdir, 0
        self.token = service_account_jwt(NAMESPACE, SERVICE_ACCOUNT, "7a2b-injector-test-double-uid")
        self.double = TokenReviewDouble(self.token, NAMESPACE, SERVICE_ACCOUNT, "7a2b-injector-test-double-uid")
        self.server = DevServer(bao, workdir)

    def start(self, secrets: list[Secret]) -> InjectorVault:
        """Start the double and the server; store ``secrets``; let the role read every KV path."""
        self.double.start()
        self.server.start()
        readable = sorted({f"{s.mount}/data/*" if s.kv_version == 2 else f"{s.mount}/*" for s in secrets})
        self.server.setup(secrets, readable, self.double.url, CA_PEM, NAMESPACE, SERVICE_ACCOUNTS)
        return self

    def stop(self) -> None:
        """Stop the server (by PID) and the double."""
        self.server.stop()
        self.double.stop()

    def render(self, injection: Injection, number: int) -> Rendered:
        """Run the real agent with the injector's configuration for one injection."""
        root = self.workdir / f"pod-{number}"
        for folder in ("serviceaccount", "home/vault", "vault/secrets"):
            (root / folder).mkdir(parents=True)
        (root / "serviceaccount" / "token").write_text(self.token)
        config = agent_config(injection.template, addr=self.server.addr, role=injection.role, file=injection.file,
                              root=root, auth_path=injection.auth_path)
        (root / "config.json").write_text(json.dumps(config))
        start = time.monotonic()
        try:
            proc = subprocess.run([str(self.bao), "agent", f"-config={root / 'config.json'}"], capture_output=True,
                                  text=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                                  "HOME": str(root / "home" / "vault")},
                                  timeout=AGENT_TIMEOUT_S, check=False, cwd=root)
            code, log = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, log = 124, f"killed after {AGENT_TIMEOUT_S} s: {exc.stdout!r}"
        target = root / "vault" / "secrets" / injection.file
        return Rendered(code, target.read_bytes() if target.exists() else None, log, time.monotonic() - start)

    def render_all(self, injections: list[Injection]) -> list[Rendered]:
        """Run the agent for every injection, a few at a time (most of a run is waiting)."""
        first = self.runs
        self.runs += len(injections)
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="injector") as pool:
            return list(pool.map(self.render, injections, range(first, first + len(injections))))
