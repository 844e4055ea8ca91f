"""``--method airflow-connection``: settings, every mode, conflicts, the lint, and the real Airflow provider.

The proof is the real consumer: the env olrender renders for each component is
handed to apache-airflow 3.3.2 with the provider 2.20.3 and openlineage-python
1.54.0 (``tests.realclients.airflow_conn``), an ``AIRFLOW_CONN_<ID>`` variable
standing in for the agent's secrets backend; the backend must receive exactly
``Bearer <key>``. The lint's claims about precedence are checked against the same
provider, case by case, and the connection ID rule against Airflow's own function.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from postrenderer.config.settings import resolve
from postrenderer.errors import ConfigError
from postrenderer.inject.methods import METHODS, method_for
from postrenderer.inject.methods.airflow_connection import AirflowConnectionMethod, conn_id_problem
from postrenderer.lint.container import lint_container
from tests.inprocess import run_in_process
from tests.oracles.consumers import BACKEND, CWD, Sent
from tests.realclients.airflow_conn import airflow_sends, conn_variable, connection
from tests.tools import oracles
from tests.tools.pytest_realtools import _in_ci
from tests.tools.realtools import ToolUnavailable

ROOT = Path(__file__).resolve().parent.parent
STREAM = (ROOT / "fixtures" / "streams" / "helm3.yaml").read_bytes()
KEY = "sk-test-airflow-conn-0001"
CHART_KEY = "sk-test-chart-transport-0002"
CONN = "openlineage_api_key"
NS = "ultraviolet-corona-6870"
ARGS = ["--method", "airflow-connection", "--airflow-conn-id", CONN, "--namespace", NS]
COMPONENTS = ("astro-agent-dag-processor", "astro-agent-triggerer", "astro-agent-worker-default-worker",
              "astro-agent-worker-gpu-worker")
TRANSPORT = "AIRFLOW__OPENLINEAGE__TRANSPORT"


def render(args: list[str], data: bytes = STREAM, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """olrender in this process: exit status, stdout, stderr."""
    ran = run_in_process(args, data, env)
    return ran.returncode, ran.stdout.decode(), ran.stderr.decode()


def component_envs(text: str) -> dict[str, list[dict[str, Any]]]:
    """The main container's env of each component in a rendered stream, by Deployment name."""
    found = {}
    for doc in yaml.safe_load_all(text):
        if isinstance(doc, dict) and doc.get("kind") == "Deployment" and doc["metadata"]["name"] in COMPONENTS:
            found[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]["containers"][0]["env"]
    return found


def literal(env: list[dict[str, Any]]) -> dict[str, str]:
    """The env as a process sees it, for the variables with literal values (references need a cluster)."""
    return {entry["name"]: entry["value"] for entry in env if "value" in entry}


def chart_with(*entries: dict[str, str]) -> bytes:
    """The Helm 3 stream with these env entries added to the DAG processor's main container (document 12)."""
    text = STREAM.decode()
    anchor = '            - name: OPENLINEAGE_NAMESPACE\n              value: "ultraviolet-corona-6870"\n'
    added = "".join(f"            - name: {e['name']}\n              value: {json.dumps(e['value'])}\n"
                    for e in entries)
    return text.replace(anchor, anchor + added, 1).encode()


# --------------------------------------------------------------------------- settings


def test_the_transport_is_compact_json_with_the_connection_and_no_key() -> None:
    """Fixed key order, no spaces, the endpoint only when given; no key needed, no document added."""
    settings, _ = resolve({"method": "airflow-connection", "airflow_conn_id": CONN, "url": "https://o11y.example",
                           "endpoint": "api/v2/lineage"}, {}, {}, lambda _: "")
    method = method_for(settings.openlineage)
    assert method.transport() == (  # type: ignore[attr-defined]
        '{"type":"http","url":"https://o11y.example","endpoint":"api/v2/lineage",'
        '"auth":{"type":"airflow_connection_api_key","conn_id":"openlineage_api_key"}}')
    assert method.documents("agents") == [] and not AirflowConnectionMethod.needs_key
    assert method.injection(None).init_containers == []  # type: ignore[arg-type]
    plain, _ = resolve({"method": "airflow-connection", "airflow_conn_id": CONN, "url": "https://o"}, {}, {},
                       lambda _: "")
    assert '"endpoint"' not in method_for(plain.openlineage).transport()  # type: ignore[attr-defined]


def test_selected_and_configured_from_values() -> None:
    """openLineage.airflowConnection selects the method; the option beats it; a key in the values is ignored."""
    values = {"openLineage": {"airflowConnection": "from_values", "url": "https://o", "apiKey": KEY}}
    settings, warnings = resolve({}, values, {"OPENLINEAGE_API_KEY": KEY}, lambda _: "")
    assert (settings.openlineage.method, settings.openlineage.method_settings) == ("airflow-connection", "from_values")
    assert settings.openlineage.api_key is None, "the key is never read into the run"
    assert any("openLineage.apiKey/apiKeySecret are ignored" in w for w in warnings)
    settings, _ = resolve({"airflow_conn_id": "from_option"}, values, {}, lambda _: "")
    assert settings.openlineage.method_settings == "from_option"


def test_the_option_alone_selects_the_method() -> None:
    """--airflow-conn-id (or OLRENDER_AIRFLOW_CONN_ID) selects the method as its values key does; no key needed."""
    settings, _ = resolve({"airflow_conn_id": "openlineage", "url": "https://o"}, {}, {}, lambda _: "")
    assert settings.openlineage.method == "airflow-connection"
    assert settings.openlineage.method_settings == "openlineage"
    with pytest.raises(ConfigError, match="needs a key"):  # (without it the secret method is chosen, as before)
        resolve({"url": "https://o"}, {}, {}, lambda _: "")


def test_every_problem_in_one_error() -> None:
    """A bad connection ID and a missing URL are both named; --check needs neither the ID nor the URL."""
    with pytest.raises(ConfigError) as caught:
        resolve({"method": "airflow-connection", "airflow_conn_id": "two words"}, {}, {}, lambda _: "")
    assert "'two words' may only hold" in str(caught.value) and "needs the OpenLineage URL" in str(caught.value)
    with pytest.raises(ConfigError, match=r"needs --airflow-conn-id ID or openLineage\.airflowConnection"):
        resolve({"method": "airflow-connection", "url": "https://o"}, {}, {}, lambda _: "")
    with pytest.raises(ConfigError, match=r"openLineage\.airflowConnection must be a string"):
        resolve({}, {"openLineage": {"airflowConnection": 5, "url": "https://o"}}, {}, lambda _: "")
    resolve({"method": "airflow-connection"}, {}, {}, lambda _: "", check=True)


@pytest.mark.parametrize("conn_id", ["ol", "openlineage_api_key", "team-a.lineage", "a:b/c\\d", "x#!()", "ünïcode",
                                     "x" * 250])
def test_connection_ids_airflow_keeps(conn_id: str) -> None:
    """IDs Airflow's sanitize_conn_id keeps unchanged are accepted (the real function: test below)."""
    assert conn_id_problem(conn_id) is None


@pytest.mark.parametrize("conn_id", ["two words", "tab\there", "new\nline", "trailing\n", "x" * 251, "semi;colon",
                                     "quote'", "{templ}", "a$b"])
def test_connection_ids_airflow_would_alter_or_drop(conn_id: str) -> None:
    """Whitespace, other symbols or more than 250 characters: refused before anything renders."""
    assert conn_id_problem(conn_id) is not None


def test_the_rule_is_airflows_own(airflow_python: Path, tmp_path: Path) -> None:
    """An ID is accepted exactly when apache-airflow 3.3.2's sanitize_conn_id returns it unchanged."""
    corpus = ["ol", "openlineage_api_key", "team-a.lineage", "a:b/c\\d", "x#!()", "ünïcode", "x" * 250, "x" * 251,
              "two words", "tab\there", "trailing\n", "semi;colon", "quote'", "{templ}", "a$b", "a@b", "a,b", "-",
              "a=b", "é-ß"]
    script = ("import json, sys\nfrom airflow.models.connection import sanitize_conn_id\n"
              "print(json.dumps([sanitize_conn_id(c) == c for c in json.load(sys.stdin)]))")
    proc = subprocess.run([str(airflow_python), "-c", script], input=json.dumps(corpus), capture_output=True, text=True,
                          timeout=300, check=False, env={"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    kept = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [conn_id_problem(c) is None for c in corpus] == kept
    assert kept.count(True) >= 7 and kept.count(False) >= 7, "the corpus has both sides"


def test_rotation_hooks() -> None:
    """The reference follows the connection ID and the transport; no Secret for Reloader, and why."""
    def method(conn: str, url: str) -> AirflowConnectionMethod:
        settings, _ = resolve({"method": "airflow-connection", "airflow_conn_id": conn, "url": url}, {}, {},
                              lambda _: "")
        found = method_for(settings.openlineage)
        assert isinstance(found, AirflowConnectionMethod)
        return found

    one = method("a", "https://o")
    assert one.reference() == method("a", "https://o").reference()
    assert one.reference() != method("b", "https://o").reference() != method("a", "https://p").reference()
    assert "a" in str(one.reference()) and one.reload_secret() is None
    assert one.reload_reason == ("the key is read from the Airflow secrets backend at each use; "
                                 "nothing in Kubernetes changes")
    assert METHODS["airflow-connection"] is AirflowConnectionMethod


# --------------------------------------------------------------------------- every mode


def test_render_check_and_a_second_run() -> None:
    """Components get the transport and the namespace; --check and --forbid-plaintext pass; a rerun changes nothing."""
    status, out, err = render([*ARGS, "--url", "https://o11y.astronomer.io"])
    assert status == 0, err
    envs = component_envs(out)
    assert sorted(envs) == sorted(COMPONENTS)
    for env in envs.values():
        values = literal(env)
        assert json.loads(values[TRANSPORT])["auth"] == {"type": "airflow_connection_api_key", "conn_id": CONN}
        assert values["OPENLINEAGE_NAMESPACE"] == NS and "OPENLINEAGE_API_KEY" not in values
    assert "kind: Secret\nmetadata:\n  name: openlineage-api-key-secret" not in out
    assert err.count("env OPENLINEAGE_URL is ignored: the Airflow provider sends with") == 4
    status, _, err = render(["--check", "--forbid-plaintext", "--strict"], out.encode())
    assert status == 0, err
    status, again, err = render([*ARGS, "--url", "https://o11y.astronomer.io", "--explain"], out.encode())
    assert (status, again) == (0, out) and "0 document(s) changed" in err
    status, _, err = render(["--check"])  # the chart alone: no key at all
    assert status != 0 and "OPENLINEAGE_API_KEY: is not set" in err


def test_other_modes(tmp_path: Path) -> None:
    """--emit-patches, --diff and --explain show the transport as the one sensitivity rule allows; OLRENDER_* works."""
    env = {"OLRENDER_METHOD": "airflow-connection", "OLRENDER_AIRFLOW_CONN_ID": CONN,
           "OLRENDER_URL": "https://o11y.astronomer.io", "OLRENDER_NAMESPACE": NS}
    status, patches, err = render(["--emit-patches"], env=env)
    assert status == 0, err
    assert patches.count(TRANSPORT) == 4 and '"method": "airflow-connection"' in patches
    status, diff, err = render(["--diff"], env=env)
    assert status == 0 and diff.count(f"+            - name: {TRANSPORT}") == 4, err
    report = tmp_path / "report.json"
    status, _, err = render(["--explain", "--report", str(report), "--report-format", "json"], env=env)
    assert status == 0, err
    assert '"method": "airflow-connection"' in err and json.loads(report.read_text())["method"] == "airflow-connection"


@pytest.mark.parametrize("case", ["airflow-connection-helm3", "airflow-connection-endpoint"])
def test_changed_workloads_validate_strictly(case: str) -> None:
    """Every component of the golden outputs passes kubernetes-validate's strict schema (Kubernetes 1.35)."""
    import kubernetes_validate

    expected = ROOT / "fixtures" / "cases" / case / "expected.yaml"
    docs = [d for d in yaml.safe_load_all(expected.read_text()) if isinstance(d, dict)]
    changed = [d for d in docs if d.get("kind") == "Deployment" and d["metadata"]["name"] in COMPONENTS]
    assert len(changed) == 4
    for doc in changed:
        kubernetes_validate.validate(doc, "1.35", strict=True)


# --------------------------------------------------------------------------- conflicts


def test_a_chart_transport_is_a_conflict_and_its_key_is_never_printed(tmp_path: Path) -> None:
    """The chart's own transport (with a key inside its JSON) is a conflict naming the variable; the key stays out."""
    chart = json.dumps({"type": "http", "url": "https://o11y.astronomer.io",
                        "auth": {"type": "api_key", "apiKey": CHART_KEY}})
    data = chart_with({"name": TRANSPORT, "value": chart})
    for mode in ([], ["--diff"], ["--emit-patches"], ["--explain"], ["--debug"]):
        log, report = tmp_path / "olrender.log", tmp_path / "report.txt"
        status, out, err = render([*ARGS, "--url", "https://o11y.astronomer.io", *mode, "--log-file", str(log),
                                   "--report", str(report)], data)
        assert status == 4, err
        out += log.read_text() + report.read_text()
        assert f"document 12 (Deployment/astro-agent-dag-processor), container 'agent': env {TRANSPORT} is " \
               "already set (a literal value (redacted))" in err
        assert CHART_KEY not in out + err and CHART_KEY[:14] not in out + err, mode
    status, out, err = render([*ARGS, "--url", "https://o11y.astronomer.io", "--overwrite"], data)
    assert status == 0 and CHART_KEY not in out + err
    assert literal(component_envs(out)["astro-agent-dag-processor"])[TRANSPORT].count(CONN) == 1


@pytest.mark.parametrize("name", ["AIRFLOW__OPENLINEAGE__CONFIG_CONN_ID", "AIRFLOW__OPENLINEAGE__CONFIG_PATH"])
def test_what_overrides_the_transport_is_a_conflict(name: str) -> None:
    """config_conn_id and config_path beat [openlineage] transport: a conflict, removed under --overwrite."""
    data = chart_with({"name": name, "value": "/etc/openlineage/openlineage.yml" if "PATH" in name else "ol_config"})
    status, _, err = render([*ARGS, "--url", "https://o"], data)
    assert status == 4 and f"container 'agent': env {name} is already set" in err and "ignores " + TRANSPORT in err
    status, out, err = render([*ARGS, "--url", "https://o", "--overwrite"], data)
    assert status == 0, err
    assert name not in out and out.count(TRANSPORT) == 4
    status, _, err = render(["--check"], out.encode())
    assert status == 0, err


def test_the_client_key_beside_the_transport_is_ignored_with_a_warning() -> None:
    """OPENLINEAGE_API_KEY stays (the chart's), and the warning says the provider ignores it."""
    data = chart_with({"name": "OPENLINEAGE_API_KEY", "value": CHART_KEY})
    status, _, err = render([*ARGS, "--url", "https://o"], data)
    assert status == 0, err
    assert "document 12 (Deployment/astro-agent-dag-processor), container 'agent': env OPENLINEAGE_API_KEY is " \
           "ignored" in err and CHART_KEY not in err


# --------------------------------------------------------------------------- the lint against the real provider

CONFIG_DIR = "/etc/openlineage"
OURS = json.dumps({"type": "http", "url": BACKEND, "auth": {"type": "airflow_connection_api_key", "conn_id": CONN}})
FILE_KEY = "sk-test-file-0003"
FILE_API_KEY = {"transport": {"type": "http", "url": BACKEND, "endpoint": "from-file",
                              "auth": {"type": "api_key", "apiKey": FILE_KEY}}}
FILE_CONN = {"transport": {"type": "composite", "transports": [
    {"type": "http", "url": BACKEND, "endpoint": "from-file-conn",
     "auth": {"type": "airflow_connection_api_key", "conn_id": CONN}}]}}
CLIENT_OWN = {"OPENLINEAGE__TRANSPORT__TYPE": "http", "OPENLINEAGE__TRANSPORT__URL": BACKEND,
              "OPENLINEAGE__TRANSPORT__AUTH__TYPE": "airflow_connection_api_key",
              "OPENLINEAGE__TRANSPORT__AUTH__CONN_ID": CONN}
# name -> (env, config file or None, what the lint says: (key source, finding codes), what is sent: (path, key))
PRECEDENCE: dict[str, tuple[dict[str, str], Any, tuple[str | None, list[str]], tuple[str, str] | None]] = {
    "transport": ({TRANSPORT: OURS}, None, ("the Airflow connection ID", []), ("/api/v1/lineage", KEY)),
    "transport > client vars": ({TRANSPORT: OURS, "OPENLINEAGE_URL": BACKEND, "OPENLINEAGE_API_KEY": "sk-test-env-04"},
                                None, ("the Airflow connection ID", []), ("/api/v1/lineage", KEY)),
    "config_path > transport": ({TRANSPORT: OURS, "AIRFLOW__OPENLINEAGE__CONFIG_PATH": "openlineage.yml"},
                                FILE_API_KEY, ("the config file", []), ("/from-file", FILE_KEY)),
    "config_path with a connection": ({"AIRFLOW__OPENLINEAGE__CONFIG_PATH": "openlineage.yml"}, FILE_CONN,
                                      ("the Airflow connection ID", []), ("/from-file-conn", KEY)),
    "client's own auth is not the provider's": (CLIENT_OWN, None, (None, ["transport-invalid"]), None),
    "no conn_id": ({TRANSPORT: json.dumps({"type": "http", "url": BACKEND,
                                           "auth": {"type": "airflow_connection_api_key"}})},
                   None, (None, ["transport-invalid"]), None),
}


def lint_case(env: dict[str, str], config: Any) -> tuple[str | None, list[str]]:
    """What the lint says of a container with this env (a config file from a ConfigMap in the stream)."""
    entries = [{"name": "OPENLINEAGE_NAMESPACE", "value": NS}]
    entries += [{"name": k, "value": f"{CONFIG_DIR}/{v}" if k.endswith("CONFIG_PATH") else v.replace(BACKEND, "https://o")}
                for k, v in env.items()]
    container: dict[str, Any] = {"name": "agent", "env": entries}
    spec: dict[str, Any] = {}
    if config is not None:
        container["volumeMounts"] = [{"name": "ol", "mountPath": CONFIG_DIR}]
        spec["volumes"] = [{"name": "ol", "configMap": {"name": "ol"}}]
    text = json.dumps(config).replace(BACKEND, "https://o")
    result = lint_container(container, spec, lambda kind, name: {"openlineage.yml": text} if config else None)
    return result.key, [f.code for f in result.findings]


@pytest.fixture(scope="module")
def airflow_python() -> Path:
    """The Airflow virtualenv's interpreter (a missing one fails under CI, else skips)."""
    try:
        return oracles.airflow_python()
    except ToolUnavailable as exc:
        if _in_ci():
            pytest.fail(f"{exc} (CI must not skip)", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """olrender's output for the Helm 3 stream, without and with an endpoint: each component's env."""
    found = {}
    for name, extra in (("default", []), ("endpoint", ["--endpoint", "api/v2/lineage"])):
        status, out, err = render([*ARGS, "--url", BACKEND, *extra])
        assert status == 0, err
        found[name] = component_envs(out)
    return found


@pytest.fixture(scope="module")
def sent(airflow_python: Path, rendered: dict[str, dict[str, list[dict[str, Any]]]],
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sent]:
    """Every case through the real provider in one batch: the rendered envs, then the precedence cases."""
    cases: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    for variant, envs in rendered.items():
        for component, env in envs.items():
            cases[f"{variant} {component} password"] = ({**literal(env), conn_variable(CONN): connection(KEY)}, {})
            cases[f"{variant} {component} extra"] = (
                {**literal(env), conn_variable(CONN): connection(extra={"api_key": KEY})}, {})
    for name, (env, config, _, _) in PRECEDENCE.items():
        path = f"{CWD}/openlineage.yml"
        real = {k: path if k.endswith("CONFIG_PATH") else v for k, v in env.items()}
        cases[name] = ({"OPENLINEAGE_NAMESPACE": NS, **real, conn_variable(CONN): connection(KEY)},
                       {path: json.dumps(config)} if config else {})
    names = list(cases)
    found = airflow_sends([cases[n][0] for n in names], tmp_path_factory.mktemp("airflow-connection"),
                          airflow_python, files=[cases[n][1] for n in names])
    return dict(zip(names, found, strict=True))


@pytest.mark.parametrize("variant", ["default", "endpoint"])
@pytest.mark.parametrize("secret", ["password", "extra"])
def test_the_rendered_env_sends_the_connections_key(sent: dict[str, Sent], variant: str, secret: str) -> None:
    """Every component's rendered env, with the key as the connection's password or in its extra: Bearer <key>."""
    path = "/api/v2/lineage" if variant == "endpoint" else "/api/v1/lineage"
    for component in COMPONENTS:
        request = sent[f"{variant} {component} {secret}"].only
        assert (request.path, request.authorization) == (path, f"Bearer {KEY}")


@pytest.mark.parametrize("case", PRECEDENCE)
def test_the_lint_says_what_the_provider_does(sent: dict[str, Sent], case: str) -> None:
    """The lint's key source and verdict match what the real provider sends, precedence included."""
    env, config, (source, codes), expected = PRECEDENCE[case]
    key, found = lint_case(env, config)
    assert found == codes, (case, key)
    assert (key is None) if source is None else (key is not None and key.startswith(source)), key
    if expected is None:
        assert sent[case].requests == []
    else:
        request = sent[case].only
        assert (request.path, request.authorization) == (expected[0], f"Bearer {expected[1]}")


# --------------------------------------------------------------------------- one render through the real Helm 4


def test_through_helm4(real_tool: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Helm 4 with the plugin: each component's env is what olrender renders for that stream, and nothing else moved."""
    from tests.realclients.clients import CHART, HELM4_VERSIONS, RELEASE, install_plugin, make_client

    tool = f"helm-{HELM4_VERSIONS[0]}"
    helm = install_plugin(make_client(real_tool, tmp_path_factory.mktemp(tool), tool))
    args = [*ARGS, "--url", "https://o11y.astronomer.io"]
    plain = helm.run("template", RELEASE, str(CHART)).ok().stdout
    rendered = helm.run("template", RELEASE, str(CHART), "--post-renderer", "olrender",
                        *(f"--post-renderer-args={arg}" for arg in args)).ok().stdout
    status, direct, err = render(args, plain.encode())
    assert status == 0, err
    envs, expected = component_envs(rendered), component_envs(direct)
    assert sorted(envs) == sorted(COMPONENTS) and envs == expected
    assert all(literal(env)[TRANSPORT] == literal(expected[name])[TRANSPORT] for name, env in envs.items())
    untouched = [d for d in yaml.safe_load_all(rendered) if d and d["metadata"]["name"] not in COMPONENTS]
    assert untouched == [d for d in yaml.safe_load_all(plain) if d and d["metadata"]["name"] not in COMPONENTS]
