"""Deterministic manifest streams for the benchmark: S, M, L, WM, WL, DM and DL.

S is the fixture chart's Helm 3 output (``fixtures/streams/helm3.yaml``, 17
documents). M (1,000 documents) and L (10,000 documents, about 7 MB) are
generated Helm 3 streams of an umbrella release: ConfigMaps with multi-line
data, Services and Deployments, with the agent's four components (two worker
pools, the DAG processor and the Triggerer) once per 1,000 documents, spread
through the stream. The same size always gives the same bytes:

    >>> generate(4)[:60]
    b'---\\n# Source: platform/templates/app-0000/configmap.yaml\\napiVe'

DM and DL (1,000 and 10,000 documents) are the Deployment-heavy shape: every
other document a Deployment of about 1 KB with ten env entries, one in fifty of
them an agent component, and ConfigMaps and Services in between.

The agent components carry the default discovery labels, so both olrender and
a kustomize JSON6902 patch with the matching label selector find them.
"""

from __future__ import annotations

from pathlib import Path

from postrenderer.read.stream import decode, split

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURE_STREAM = ROOT / "fixtures" / "streams" / "helm3.yaml"

SIZES = {"M": 1_000, "L": 10_000, "WM": 1_000, "WL": 10_000, "DM": 1_000, "DL": 10_000}
AGENT_EVERY = 1_000  # one agent (four components) per this many documents
DEPLOYMENT_AGENT_EVERY = 50  # DM, DL: one Deployment in this many is an agent component
WORKLOAD_AGENTS = 9  # W streams: 36 agent components whatever their size ("a few dozen")
ROLES = ("worker-default", "worker-gpu", "dag-processor", "triggerer")

VALUES = """\
openLineage:
  enabled: true
  url: https://o11y.astronomer.io
  namespace: ultraviolet-corona-6870
  endpoint: /api/v1/lineage?ASTRO_DEPLOYMENT_ID=cm1example
"""

_CONFIGMAP = """\
---
# Source: platform/templates/app-{n:04d}/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{n:04d}-config
  namespace: team-{team:02d}
  labels:
    app.kubernetes.io/name: app-{n:04d}
    app.kubernetes.io/instance: platform
data:
  LOG_LEVEL: "{level}"
  application.properties: |
    server.port={port}
    spring.application.name=app-{n:04d}
    spring.datasource.url=jdbc:postgresql://db-{team:02d}.team-{team:02d}.svc:5432/app_{n:04d}
    spring.datasource.hikari.maximum-pool-size={pool}
{extra}  entrypoint.sh: |
    #!/bin/sh
    set -eu
    until nc -z db-{team:02d}.team-{team:02d}.svc 5432; do sleep 1; done
    exec java -XX:MaxRAMPercentage=75 -jar /app/app.jar --spring.config.location=/etc/app/
"""

_SERVICE = """\
---
# Source: platform/templates/app-{n:04d}/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: app-{n:04d}
  namespace: team-{team:02d}
  labels:
    app.kubernetes.io/name: app-{n:04d}
    app.kubernetes.io/instance: platform
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: app-{n:04d}
  ports:
    - name: http
      port: 80
      targetPort: {port}
"""

_DEPLOYMENT = """\
---
# Source: platform/templates/app-{n:04d}/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n:04d}
  namespace: team-{team:02d}
  labels:
    app.kubernetes.io/name: app-{n:04d}
    app.kubernetes.io/instance: platform
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{n:04d}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{n:04d}
        app.kubernetes.io/instance: platform
    spec:
      serviceAccountName: app-{n:04d}
      containers:
        - name: app
          image: registry.example.com/platform/app-{n:04d}:1.{minor}.{patch}
          ports:
            - name: http
              containerPort: {port}
          env:
            - name: LOG_LEVEL
              valueFrom:
                configMapKeyRef:
                  name: app-{n:04d}-config
                  key: LOG_LEVEL
          volumeMounts:
            - name: config
              mountPath: /etc/app
      volumes:
        - name: config
          configMap:
            name: app-{n:04d}-config
"""

_AGENT = """\
---
# Source: astro-remote-execution-agent/templates/{role}-deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent-{a:02d}-astro-agent-{role}
  labels:
    app: astro-agent
    component: {component}
spec:
  selector:
    matchLabels:
      app: astro-agent
      component: {component}
      agent: agent-{a:02d}-{role}
  template:
    metadata:
      labels:
        app: astro-agent
        component: {component}
        agent: agent-{a:02d}-{role}
    spec:
      serviceAccountName: agent-{a:02d}-astro-agent-{role}
      securityContext:
        fsGroup: 50000
        runAsNonRoot: true
        runAsUser: 50000
      containers:
        - name: agent
          image: images.astronomer.cloud/baseimages/astro-remote-execution-agent:3.1-1-python-3.12-astro-agent-1.8.2
          imagePullPolicy: IfNotPresent
          env:
            - name: ASTRO_AGENT_CLIENT_API_TOKEN
              valueFrom:
                secretKeyRef:
                  name: agent-token-secret
                  key: token
            - name: OPENLINEAGE_URL
              value: "https://o11y.astronomer.io"
            - name: OPENLINEAGE_NAMESPACE
              value: "ultraviolet-corona-6870"
          resources:
            requests:
              cpu: "1"
              memory: 2Gi
"""


def _configmap(n: int) -> str:
    """A ConfigMap with two multi-line entries (their length varies with n)."""
    extra = "".join(f"    feature.flag-{k:02d}.enabled={'true' if (n + k) % 3 else 'false'}\n" for k in range(n % 9))
    return _CONFIGMAP.format(
        n=n, team=n % 40, level=("INFO", "DEBUG", "WARN")[n % 3], port=8000 + n % 100, pool=5 + n % 20, extra=extra
    )


def _service(n: int) -> str:
    """A ClusterIP Service."""
    return _SERVICE.format(n=n, team=n % 40, port=8000 + n % 100)


def _deployment(n: int) -> str:
    """An ordinary application Deployment (not an agent component)."""
    return _DEPLOYMENT.format(
        n=n, team=n % 40, replicas=1 + n % 3, minor=n % 17, patch=n % 5, port=8000 + n % 100
    )


_ENV_ENTRY = """\
            - name: {name}
              value: "{value}"
"""


def _busy_deployment(n: int) -> str:
    """An application Deployment with about ten env entries (the W streams)."""
    entries = "".join(
        _ENV_ENTRY.format(name=name, value=value)
        for name, value in (
            ("APP_ENV", "production"), ("LOG_FORMAT", "json"), ("HTTP_PORT", str(8000 + n % 100)),
            ("DB_HOST", f"db-{n % 40:02d}.team-{n % 40:02d}.svc"), ("DB_POOL", str(5 + n % 20)),
            ("CACHE_TTL", "300s"), ("FEATURE_FLAGS", "a,b,c"), ("TZ", "UTC"),
            ("OTEL_SERVICE_NAME", f"app-{n:05d}"), ("JAVA_OPTS", "-XX:MaxRAMPercentage=75"),
        )
    )
    return _deployment(n).replace("""                  key: LOG_LEVEL
""", """                  key: LOG_LEVEL
""" + entries, 1)


_SMALL_DEPLOYMENT = """\
---
# Source: platform/templates/svc-{n:05d}.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{n:05d}
  namespace: team-{team:02d}
  labels:
    app: svc-{n:05d}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: svc-{n:05d}
  template:
    metadata:
      labels:
        app: svc-{n:05d}
    spec:
      containers:
        - name: app
          image: registry.example.com/svc-{n:05d}:1.{minor}
          env:
{env}"""

_SMALL_ENTRY = """\
            - name: {name}
              value: "{value}"
"""


def _small_deployment(n: int) -> str:
    """A Deployment of about 1 KB with ten env entries (the DM and DL streams)."""
    team = n % 40
    env = "".join(
        _SMALL_ENTRY.format(name=name, value=value)
        for name, value in (
            ("APP_ENV", "production"), ("LOG_LEVEL", ("INFO", "DEBUG", "WARN")[n % 3]), ("PORT", str(8000 + n % 100)),
            ("DB_HOST", f"db-{team:02d}.team-{team:02d}.svc"), ("DB_POOL", str(5 + n % 20)), ("CACHE_TTL", "300s"),
            ("FEATURES", "a,b,c"), ("TZ", "UTC"), ("SERVICE", f"svc-{n:05d}"), ("JAVA_OPTS", "-Xmx512m"),
        )
    )
    return _SMALL_DEPLOYMENT.format(n=n, team=team, replicas=1 + n % 3, minor=n % 17, env=env)


def _agent(a: int, role: str) -> str:
    """One component Deployment of agent number a."""
    component = "worker" if role.startswith("worker") else role
    return _AGENT.format(a=a, role=role, component=component)


def components(count: int, workload_heavy: bool = False) -> int:
    """How many agent components a generated stream of count documents holds."""
    return len(ROLES) * (WORKLOAD_AGENTS if workload_heavy else max(1, count // AGENT_EVERY))


def generate(count: int, workload_heavy: bool = False) -> bytes:
    """A Helm 3 stream of exactly count documents (at least four).

    Its other documents are ConfigMaps, Services and Deployments in equal parts or, workload_heavy,
    half Deployments with about ten env entries each, and ConfigMaps and Services for the rest.
    """
    agents = components(count, workload_heavy) // len(ROLES)
    stride = count // (agents * len(ROLES))
    slots = {stride // 2 + k * stride: k for k in range(agents * len(ROLES))}
    makers = (_busy_deployment, _configmap, _busy_deployment, _service) if workload_heavy else (
        _configmap, _service, _deployment)
    parts: list[str] = []
    app = 0
    for i in range(count):
        k = slots.get(i)
        if k is not None:
            parts.append(_agent(k // len(ROLES), ROLES[k % len(ROLES)]))
            continue
        parts.append(makers[app % len(makers)](app if workload_heavy else app // len(makers)))  # (unique names)
        app += 1
    return "".join(parts).encode()


def deployment_heavy(count: int) -> bytes:
    """A Helm 3 stream of count documents: every other one a Deployment (one in fifty of them an agent component).

    The rest alternate between ConfigMaps and Services.
    """
    parts: list[str] = []
    agent = 0
    for i in range(count):
        n = i // 2
        if i % 2:
            parts.append((_configmap, _service)[n % 2](n))
        elif n % DEPLOYMENT_AGENT_EVERY == DEPLOYMENT_AGENT_EVERY // 2:
            parts.append(_agent(agent // len(ROLES), ROLES[agent % len(ROLES)]))
            agent += 1
        else:
            parts.append(_small_deployment(n))
    return "".join(parts).encode()


def stream(name: str) -> bytes:
    """The named benchmark stream: S (the fixture), M, L, workload-heavy WM and WL, Deployment-heavy DM and DL."""
    if name == "S":
        return FIXTURE_STREAM.read_bytes()
    if name.startswith("D"):
        return deployment_heavy(SIZES[name])
    return generate(SIZES[name], workload_heavy=name.startswith("W"))


def expected_components(name: str) -> int:
    """How many agent components olrender must find in the named stream."""
    if name.startswith("D"):
        return (SIZES[name] + 1) // 2 // DEPLOYMENT_AGENT_EVERY
    return 4 if name == "S" else components(SIZES[name], workload_heavy=name.startswith("W"))


def document_count(data: bytes) -> int:
    """How many documents a stream holds (as olrender counts them)."""
    return sum(1 for segment in split(decode(data)) if segment.has_document)
