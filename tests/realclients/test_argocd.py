"""The Argo CD Config Management Plugin's ``generate``, run as the CMP server runs it, with real helm 4.3.1.

No Argo CD runs here (no cluster, no images). What the CMP server does with ``generate`` is taken
from Argo CD's source and reproduced: the command is ``spec.generate.command`` plus its ``args``
(``bash -c SCRIPT``), run in the application's directory inside the server's work directory, with
the sidecar's environment plus the build environment, the Application's plugin env as
``ARGOCD_ENV_<NAME>``, its parameters as ``ARGOCD_APP_PARAMETERS`` (JSON) and ``PARAM_<NAME>...``,
each entry dropped when its value is empty. ``cmp_environment`` is that test double (sources:
argo-cd ``reposerver/repository/repository.go`` getPluginEnvs and getPluginParamEnvs,
``pkg/apis/application/v1alpha1`` ApplicationSourcePluginParameters.Environ, ``cmpserver/plugin/plugin.go``
environ and runCommand). The sidecar's own environment is the one ``values-argo-cd.yaml`` gives it,
with its paths moved into the test's directories; ``PATH`` holds real helm 4.3.1 and olrender.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.realclients.clients import (
    CHART,
    EMPTY_CHART,
    EXISTING_SECRET,
    OL_NAMESPACE,
    REPO,
    VAULT_ADDR,
    VAULT_PATH,
    VAULT_ROLE,
    Client,
    Run,
    assert_injected,
    make_client,
    olrender_script,
    parse_documents,
)
from tests.tools.pytest_realtools import RealTool

pytestmark = pytest.mark.realclient

PLUGIN = REPO / "integrations" / "argocd" / "plugin.yaml"
VALUES = REPO / "integrations" / "argocd" / "values-argo-cd.yaml"
APP = "astro-agent"
APP_NAMESPACE = "astro"
KEY = "sk-test-argocd-0001"
VAULT_PARAMS = {"method": "vault", "vault-addr": VAULT_ADDR, "vault-role": VAULT_ROLE,
                "vault-secret-path": VAULT_PATH, "vault-secret-field": "key", "namespace": OL_NAMESPACE,
                "url": "https://o11y.astronomer.io"}


def escaped(name: str) -> str:
    """Argo CD's escaping of a parameter name (or map key) into an environment variable name."""
    return re.sub(r"[^A-Z0-9_]", "_", name.upper())


def cmp_environment(sidecar: dict[str, str], kube_version: str, env: dict[str, str],
                    parameters: list[dict[str, Any]]) -> dict[str, str]:
    """Test double: the environment Argo CD gives a CMP command (see the module docstring for the sources)."""
    entries = [
        ("ARGOCD_APP_NAME", APP), ("ARGOCD_APP_NAMESPACE", APP_NAMESPACE),
        ("ARGOCD_APP_REVISION", "f913b6cbf58aa5ae5ca1f8a2b149477aebcbd9d8"),
        ("ARGOCD_APP_SOURCE_PATH", "deploy/agent"), ("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example/deploy.git"),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main"),
        ("KUBE_VERSION", kube_version.replace("+", "")),  # text.SemVer drops every "+"
        ("KUBE_API_VERSIONS", "v1,apps/v1,batch/v1,autoscaling/v2"),
        *((f"ARGOCD_ENV_{name}", value) for name, value in env.items()),  # (values are Envsubst'ed: none here)
        ("ARGOCD_APP_PARAMETERS", json.dumps(parameters)),
    ]
    for parameter in parameters:
        base = "PARAM_" + escaped(parameter["name"])
        if "string" in parameter:
            entries.append((base, parameter["string"]))
        entries += [(f"{base}_{escaped(k)}", v) for k, v in parameter.get("map", {}).items()]
        entries += [(f"{base}_{i}", v) for i, v in enumerate(parameter.get("array", []))]
    return {**sidecar, **{name: value for name, value in entries if name and value}}


def olrender_map(**options: str) -> dict[str, Any]:
    """The ``olrender`` map parameter."""
    return {"name": "olrender", "map": options}


@pytest.fixture(scope="module")
def helm(real_tool: RealTool, tmp_path_factory: pytest.TempPathFactory) -> Client:
    """Real helm 4.3.1 (for baselines, and its bin/ directory for the sidecar's PATH)."""
    return make_client(real_tool, tmp_path_factory.mktemp("argocd"), "helm-4.3.1")


@pytest.fixture(scope="module")
def sidecar(helm: Client, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The sidecar's environment from values-argo-cd.yaml, its directories moved here, helm and olrender on PATH."""
    root = tmp_path_factory.mktemp("sidecar")
    (container,) = yaml.safe_load(VALUES.read_text())["repoServer"]["extraContainers"]
    env = {entry["name"]: entry["value"] for entry in container["env"]}
    assert env.pop("PATH").startswith("/olrender/venv/bin:/olrender:")  # where the init containers put them
    moved = {name: str(root / value.lstrip("/")) for name, value in env.items()}
    path = ":".join([str(helm.home / "bin"), str(olrender_script().parent), "/usr/bin", "/bin"])
    return {**moved, "PATH": path, "HOME": str(root / "home"), "HOSTNAME": "argocd-repo-server-0"}


def generate(sidecar: dict[str, str], workdir: Path, chart: Path = CHART, *, kube_version: str = "1.35.2",
             env: dict[str, str] | None = None, parameters: list[dict[str, Any]] | None = None,
             files: dict[str, str] | None = None) -> Run:
    """Run the plugin's generate as the CMP server does: in the app's directory, with only Argo CD's environment."""
    spec = yaml.safe_load(PLUGIN.read_text())["spec"]
    argv = [*spec["generate"]["command"], *spec["generate"]["args"]]
    app = workdir / "_cmp_server" / "0b0c2d" / "deploy" / "agent"  # the repository as the server unpacks it
    shutil.copytree(chart, app)
    for name, text in (files or {}).items():
        (app / name).write_text(text)
    proc = subprocess.run(argv, cwd=app, env=cmp_environment(sidecar, kube_version, env or {}, parameters or []),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90, check=False)
    return Run(tuple(argv[:2]), proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def baseline(helm: Client) -> str:
    """The chart rendered by helm alone, as the plugin's helm renders it."""
    return helm.run("template", APP, str(CHART), "--namespace", APP_NAMESPACE).ok().stdout


def main_env(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The env entries of a workload's agent container, by name."""
    (agent,) = [c for c in doc["spec"]["template"]["spec"]["containers"] if c["name"] == "agent"]
    return {entry["name"]: entry for entry in agent.get("env", [])}


def workers(text: str) -> list[dict[str, Any]]:
    """The agent components in a render."""
    return [d.obj for d in parse_documents(text) if d.obj["kind"] == "Deployment" and "sentinel" not in d.key[1]]


def test_generate_injects_the_key_with_settings_from_parameters_and_env(
    sidecar: dict[str, str], baseline: str, tmp_path: Path,
) -> None:
    """Success: an existing Secret from the parameter map, the namespace from the Application's env."""
    run = generate(sidecar, tmp_path, parameters=[olrender_map(**{"api-key-secret": EXISTING_SECRET})],
                   env={"OLRENDER_NAMESPACE": OL_NAMESPACE}).ok()
    assert_injected(parse_documents(run.stdout), parse_documents(baseline), "existing-secret")
    assert run.stderr == ""


def test_parameters_win_over_the_application_env(sidecar: dict[str, str], tmp_path: Path) -> None:
    """The same option in both places: the plugin parameter decides."""
    run = generate(sidecar, tmp_path, parameters=[olrender_map(**{"api-key-secret": "from-parameter"})],
                   env={"OLRENDER_API_KEY_SECRET": "from-env", "OLRENDER_NAMESPACE": OL_NAMESPACE}).ok()
    for doc in workers(run.stdout):
        assert main_env(doc)["OPENLINEAGE_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "from-parameter"


@pytest.mark.parametrize(("kube_version", "delivery"), [("1.35.2", "fileKeyRef"), ("1.33.4", "config-file"),
                                                        ("1.34+", "config-file")])
def test_kube_version_reaches_olrender(sidecar: dict[str, str], baseline: str, tmp_path: Path,
                                       kube_version: str, delivery: str) -> None:
    """Argo CD's KUBE_VERSION picks the Vault method's delivery: fileKeyRef from 1.35, else a config file."""
    run = generate(sidecar, tmp_path, kube_version=kube_version, parameters=[olrender_map(**VAULT_PARAMS)]).ok()
    if delivery == "fileKeyRef":
        assert_injected(parse_documents(run.stdout), parse_documents(baseline), "vault")
        return
    for doc in workers(run.stdout):
        env = main_env(doc)
        assert "OPENLINEAGE_API_KEY" not in env and "OPENLINEAGE_CONFIG" in env


def test_values_files_reach_helm_and_olrender(sidecar: dict[str, str], tmp_path: Path) -> None:
    """A values file from the parameter array: helm renders with it, olrender reads its openLineage block."""
    values = {"openLineage": {"namespace": "from-values", "apiKeySecret": "values-key"}, "commonEnv": []}
    run = generate(sidecar, tmp_path, parameters=[{"name": "values-files", "array": ["values-prod.yaml"]}],
                   files={"values-prod.yaml": yaml.safe_dump(values)}).ok()
    for doc in workers(run.stdout):
        env = main_env(doc)
        assert "TZ" not in env, "helm did not read the values file"
        assert env["OPENLINEAGE_NAMESPACE"]["value"] == "from-values"
        assert env["OPENLINEAGE_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "values-key"


def test_values_file_outside_the_application_is_refused(sidecar: dict[str, str], tmp_path: Path) -> None:
    """A values file given as an absolute path or with ``..`` is refused before anything runs."""
    for path in ("/etc/passwd", "../other/values.yaml"):
        run = generate(sidecar, tmp_path / path.replace("/", "_"),
                       parameters=[{"name": "values-files", "array": [path]}])
        assert run.failed().returncode == 2 and run.stdout == ""
        assert "inside the application's directory" in run.stderr


def test_olrender_failure_fails_generate_with_the_reason_on_stderr(sidecar: dict[str, str], tmp_path: Path) -> None:
    """A URL that contradicts the chart's: exit 4, nothing on stdout, olrender's reason on stderr."""
    run = generate(sidecar, tmp_path, parameters=[olrender_map(**{
        "api-key-secret": EXISTING_SECRET, "url": "https://other.example"})])
    assert run.failed().returncode == 4 and run.stdout == ""
    assert "olrender: error: 4 conflict(s)" in run.stderr and "OPENLINEAGE_URL" in run.stderr


def test_helm_failure_fails_generate(sidecar: dict[str, str], tmp_path: Path) -> None:
    """A values file that does not exist: helm fails, and pipefail makes generate fail too, printing nothing."""
    run = generate(sidecar, tmp_path, parameters=[olrender_map(**{"api-key-secret": EXISTING_SECRET}),
                                                  {"name": "values-files", "array": ["missing.yaml"]}])
    assert run.failed().stdout == ""
    assert "missing.yaml" in run.stderr


def test_plaintext_key_is_refused_and_never_printed(sidecar: dict[str, str], tmp_path: Path) -> None:
    """A key in the values (exit 2) or rendered by the chart into a Secret (exit 6): refused, on neither stream."""
    encoded = base64.b64encode(KEY.encode()).decode()
    values = yaml.safe_dump({"openLineage": {"apiKey": KEY, "namespace": OL_NAMESPACE}})
    in_values = generate(sidecar, tmp_path / "values", files={"values-key.yaml": values},
                         parameters=[{"name": "values-files", "array": ["values-key.yaml"]}])
    assert in_values.failed().returncode == 2
    assert "--forbid-plaintext refuses the secret method" in in_values.stderr
    chart_defaults = (CHART / "values.yaml").read_text().replace('  apiKey: ""\n', f"  apiKey: {KEY}\n")
    assert KEY in chart_defaults  # the chart's own defaults, which olrender does not read
    rendered = generate(sidecar, tmp_path / "chart", files={"values.yaml": chart_defaults},
                        parameters=[olrender_map(**{"api-key-secret": EXISTING_SECRET})])
    assert rendered.failed().returncode == 6
    assert "--forbid-plaintext: the stream holds the OpenLineage key in plain text" in rendered.stderr
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    as_file = generate(sidecar, tmp_path / "file", env={"OLRENDER_API_KEY_FILE": str(key_file)})
    assert as_file.failed().returncode == 2
    assert "ARGOCD_ENV_OLRENDER_API_KEY_FILE: not an olrender option this plugin passes on" in as_file.stderr
    for run in (in_values, rendered, as_file):
        assert KEY not in run.stdout + run.stderr and encoded not in run.stdout + run.stderr


def test_empty_render_is_refused(sidecar: dict[str, str], tmp_path: Path) -> None:
    """A chart that renders nothing: generate fails instead of letting Argo CD prune the application."""
    run = generate(sidecar, tmp_path, EMPTY_CHART, parameters=[olrender_map(**{"api-key-secret": EXISTING_SECRET})])
    assert run.failed().returncode == 1 and run.stdout == ""
    assert "refusing to hand Argo CD an empty manifest" in run.stderr


def test_chart_values_carry_the_plugin_and_its_sidecar() -> None:
    """values-argo-cd.yaml: the same spec as plugin.yaml, and a sidecar as the CMP documentation requires."""
    plugin, values = yaml.safe_load(PLUGIN.read_text()), yaml.safe_load(VALUES.read_text())
    assert plugin["kind"] == "ConfigManagementPlugin" and plugin["metadata"]["name"] == "olrender"
    assert values["configs"]["cmp"]["create"] is True
    assert values["configs"]["cmp"]["plugins"]["olrender"] == plugin["spec"]
    repo_server = values["repoServer"]
    (sidecar,) = repo_server["extraContainers"]
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    config = mounts["/home/argocd/cmp-server/config/plugin.yaml"]
    assert (config["name"], config["subPath"]) == ("argocd-cmp-cm", "olrender.yaml")  # the chart's <name>.yaml key
    assert {"/var/run/argocd", "/home/argocd/cmp-server/plugins", "/tmp", "/olrender"} <= set(mounts)
    init = {c["name"]: c for c in repo_server["initContainers"]}
    assert init["olrender-install"]["image"] == sidecar["image"], "the environment needs the same Python"
    assert "/olrender/venv" in " ".join(init["olrender-install"]["command"])
    assert init["olrender-helm"]["command"][-1] == "/olrender/helm"
    volumes = {v["name"] for v in repo_server["volumes"]}
    assert {m["name"] for m in sidecar["volumeMounts"]} - volumes == {"var-files", "plugins"}  # the chart's own
