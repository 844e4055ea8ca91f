"""``--method external-secret``: settings, the generated ExternalSecret against ESO's real CRD, every mode, conflicts.

The oracle for the generated object is ESO's ExternalSecret CRD (helm-chart-2.9.0), made strict as the API
server's strict field validation is (``tests/oracles/crd.py``); changed workloads go through
kubernetes-validate strict; one render runs through the real Helm 4.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from postrenderer import program
from postrenderer.config.settings import Settings, resolve
from postrenderer.errors import CheckFailed, ConfigError, ConflictError
from postrenderer.inject.methods import method_for
from postrenderer.inject.methods.external_secret import API_VERSION, ExternalSecretMethod
from postrenderer.read.workloads import iter_workloads
from postrenderer.write import report
from tests import programs
from tests.oracles.crd import violations
from tests.realclients.clients import (
    CHART,
    COMPONENTS,
    OL_NAMESPACE,
    RELEASE,
    MethodCase,
    by_key,
    install_plugin,
    make_client,
    parse_documents,
)
from tests.tools.pytest_realtools import RealTool

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ROOT / "fixtures" / "streams"
CASES = ROOT / "fixtures" / "cases"
NAMESPACE = "ultraviolet-corona-6870"
BASE = {"method": "external-secret", "external_secret_store": "vault", "external_secret_key": "openlineage/api-key",
        "namespace": NAMESPACE}
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "secret-store-property": {"external_secret_store_kind": "SecretStore", "external_secret_property": "key",
                              "external_secret_refresh": "0s", "secret_name": "team-key", "api_key_secret_key": "tok"},
    "refresh-1h30m": {"external_secret_refresh": "1h30m"},
}


def settings_for(check: bool = False, values: dict[str, Any] | None = None, **options: Any) -> Settings:
    """Settings resolved as the command line gives them (no key in the environment)."""
    resolved, _ = resolve({**BASE, **options}, values or {}, {}, lambda _: "", check=check)
    return resolved


def render(data: bytes, settings: Settings) -> tuple[bytes, list[dict[str, Any]]]:
    """The output stream and its documents."""
    output = programs.render(data, settings).output
    return output, [doc for doc in yaml.safe_load_all(output) if isinstance(doc, dict)]


def external_secrets(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ExternalSecrets among documents."""
    return [doc for doc in docs if doc.get("kind") == "ExternalSecret"]


# --------------------------------------------------------------------------- settings


def test_options_and_values_give_the_same_settings() -> None:
    """The values block selects the method; options win over it; defaults are ClusterSecretStore and 1h."""
    values = {"openLineage": {"externalSecret": {"store": "from-values", "key": "k", "storeKind": "SecretStore",
                                                 "property": "p", "refreshInterval": "30m"}}}
    settings, _ = resolve({}, values, {}, lambda _: "")
    es = settings.openlineage.method_settings
    assert settings.openlineage.method == "external-secret"
    assert (es.store, es.store_kind, es.key, es.property, es.refresh) == ("from-values", "SecretStore", "k", "p", "30m")
    settings, _ = resolve({"external_secret_store": "from-option"}, values, {}, lambda _: "")
    assert settings.openlineage.method_settings.store == "from-option"
    es = settings_for().openlineage.method_settings
    assert (es.store_kind, es.property, es.refresh) == ("ClusterSecretStore", None, "1h")


def test_every_problem_in_one_error() -> None:
    """Missing store and key, a wrong-case store kind and a bad duration: one error naming each."""
    given = {"method": "external-secret", "external_secret_store_kind": "clustersecretstore",
             "external_secret_refresh": "1 hour"}
    with pytest.raises(ConfigError) as raised:
        resolve(given, {}, {}, lambda _: "")
    message = str(raised.value)
    assert "4 external-secret settings are missing or invalid" in message
    for part in ("needs --external-secret-store (or openLineage.externalSecret.store)",
                 "needs --external-secret-key (or openLineage.externalSecret.key)",
                 "--external-secret-store-kind 'clustersecretstore': choose one of ClusterSecretStore, SecretStore",
                 "--external-secret-refresh '1 hour': expected a Go duration"):
        assert part in message, message
    resolve({"method": "external-secret"}, {}, {}, lambda _: "", check=True)  # --check needs neither
    with pytest.raises(ConfigError, match=r"openLineage\.externalSecret must be a mapping"):
        resolve({}, {"openLineage": {"externalSecret": "vault"}}, {}, lambda _: "")
    with pytest.raises(ConfigError, match=r"--secret-name 'Bad_Name' is not a valid Secret name"):
        settings_for(secret_name="Bad_Name")


@pytest.mark.parametrize("duration", ["1h", "30m", "0s", "0", "1h30m", "1.5h", "500ms", "2h45m30s", "10us"])
def test_go_durations_are_accepted(duration: str) -> None:
    """What time.ParseDuration (metav1.Duration) accepts without a sign."""
    assert settings_for(external_secret_refresh=duration).openlineage.method_settings.refresh == duration


@pytest.mark.parametrize("duration", ["1", "1d", "h", "-1h", "+1h", "1H", "1h 30m", "P1H", "1.h.5"])
def test_what_is_not_a_go_duration_is_refused(duration: str) -> None:
    """Units are required (except for 0), lower case, no day unit, no sign, no spaces, no ISO 8601."""
    with pytest.raises(ConfigError, match="expected a Go duration"):
        settings_for(external_secret_refresh=duration)


def test_a_vault_kv2_api_path_gets_a_hint_not_an_error() -> None:
    """secret/data/openlineage: ESO's Vault provider adds /data itself; a warning, since the store is not visible."""
    _, warnings = resolve({**BASE, "external_secret_key": "secret/data/openlineage"}, {}, {}, lambda _: "")
    (hint,) = [w for w in warnings if "--external-secret-key" in w]
    assert "adds /data itself" in hint and "'openlineage'" in hint
    _, warnings = resolve(BASE, {"openLineage": {"apiKey": "x" * 20}}, {}, lambda _: "")
    assert not [w for w in warnings if "--external-secret-key" in w]
    assert "openLineage.apiKey is ignored: the external-secret method's key comes from ESO" in warnings


# --------------------------------------------------------------------------- the generated object


@pytest.mark.parametrize("variant", VARIANTS)
def test_generated_external_secrets_pass_the_strict_crd(variant: str, external_secret_crd: dict[str, Any]) -> None:
    """Every generated ExternalSecret is accepted by the served version of the real CRD, strictly."""
    for stream in ("helm3.yaml", "helm4.yaml"):
        _, docs = render((STREAMS / stream).read_bytes(), settings_for(**VARIANTS[variant]))
        (generated,) = external_secrets(docs)
        assert generated["apiVersion"] == API_VERSION == "external-secrets.io/v1"
        assert violations(generated, external_secret_crd) == []


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("external-secret-*")
                                        if (p / "expected.yaml").exists()))
def test_golden_external_secrets_pass_the_strict_crd(case: str, external_secret_crd: dict[str, Any]) -> None:
    """The reviewed goldens' ExternalSecrets too (both namespaces, the SecretStore kind with a property)."""
    docs = [d for d in yaml.safe_load_all((CASES / case / "expected.yaml").read_text()) if isinstance(d, dict)]
    found = external_secrets(docs)
    assert found and all(violations(doc, external_secret_crd) == [] for doc in found)


def test_the_oracle_catches_a_mistake_in_this_output(external_secret_crd: dict[str, Any]) -> None:
    """The generated object with a wrong-case creationPolicy, an unknown field or v1beta1 is rejected."""
    _, docs = render((STREAMS / "helm4.yaml").read_bytes(), settings_for(external_secret_property="key"))
    (generated,) = external_secrets(docs)
    wrong_case = copy.deepcopy(generated)
    wrong_case["spec"]["target"]["creationPolicy"] = "owner"
    assert any("'owner' is not one of" in p for p in violations(wrong_case, external_secret_crd))
    typo = copy.deepcopy(generated)
    typo["spec"]["data"][0]["remoteRef"]["propery"] = typo["spec"]["data"][0]["remoteRef"].pop("property")
    assert any("'propery'" in p for p in violations(typo, external_secret_crd))
    old = {**generated, "apiVersion": "external-secrets.io/v1beta1"}
    assert any("is not served" in p for p in violations(old, external_secret_crd))


def test_components_reference_exactly_the_target() -> None:
    """Each component's OPENLINEAGE_API_KEY reads the ExternalSecret's target name and secretKey; the workloads
    pass kubernetes-validate strict."""
    for variant in VARIANTS.values():
        _, docs = render((STREAMS / "helm3.yaml").read_bytes(), settings_for(**variant))
        (generated,) = external_secrets(docs)
        target = (generated["spec"]["target"]["name"], generated["spec"]["data"][0]["secretKey"])
        assert generated["metadata"]["name"] == target[0]
        refs = []
        for index, doc in enumerate(docs):
            for workload in iter_workloads(index, doc):
                for container in workload.template["spec"]["containers"]:
                    for entry in container.get("env") or []:
                        if entry["name"] == "OPENLINEAGE_API_KEY":
                            ref = entry["valueFrom"]["secretKeyRef"]
                            refs.append((ref["name"], ref["key"]))
                            kubernetes_validate.validate(doc, "1.35", strict=True)
        assert len(refs) == 4 and set(refs) == {target}


def test_one_external_secret_per_namespace() -> None:
    """Components in two namespaces: one ExternalSecret in each, the same spec."""
    text = (CASES / "external-secret-two-namespaces" / "input.yaml").read_bytes()
    settings = settings_for(url="https://o11y.astronomer.io", component_selector="lineage=enabled", container="main")
    _, docs = render(text, settings)
    found = external_secrets(docs)
    assert [doc["metadata"]["namespace"] for doc in found] == ["team-a", "team-b"]
    assert found[0]["spec"] == found[1]["spec"]


def test_rotation_hooks() -> None:
    """reference() is the spec as canonical JSON (it changes with the store, key or refresh); reload_secret() the
    target."""
    method = method_for(settings_for().openlineage)
    assert isinstance(method, ExternalSecretMethod)
    (new,) = method.documents(NAMESPACE)
    assert json.loads(method.reference()) == new.doc["spec"]
    assert method.reference() == json.dumps(new.doc["spec"], sort_keys=True, separators=(",", ":"))
    assert method.reload_secret() == "openlineage-api-key-secret"
    other = method_for(settings_for(external_secret_refresh="30m").openlineage)
    assert isinstance(other, ExternalSecretMethod) and other.reference() != method.reference()


# --------------------------------------------------------------------------- every mode, idempotence, conflicts


def test_every_mode() -> None:
    """Render, --diff, --emit-patches, --explain and --check agree; the key is nowhere (there is none)."""
    data = (STREAMS / "helm3.yaml").read_bytes()
    settings = settings_for()
    rendered = programs.render(data, settings)
    assert len(rendered.plan.components) == 4 and len(rendered.plan.new_documents) == 1
    assert "method external-secret" in program.summary(rendered)[-1]
    assert program.explain(rendered)["method"] == "external-secret"
    patches = report.patches(rendered, "external-secret")
    assert [added["document"]["kind"] for added in patches["added"]] == ["ExternalSecret"]
    diff = b"".join(program.program(data, settings, "diff").parts).decode()
    assert "+kind: ExternalSecret" in diff and diff.count("+                  name: openlineage-api-key-secret") == 4
    checked = program.program(rendered.output, settings_for(check=True), "check")
    assert checked.failure is None and "4 agent component(s)" in checked.notice
    assert isinstance(program.program(data, settings_for(check=True), "check").failure, CheckFailed)


def test_a_second_run_changes_nothing() -> None:
    """Over its own output olrender plans no operation and adds no document (the ExternalSecret is reused)."""
    for stream in ("helm3.yaml", "helm4.yaml"):
        first = programs.render((STREAMS / stream).read_bytes(), settings_for())
        second = programs.render(first.output, settings_for())
        assert second.plan.ops == {} and second.plan.new_documents == []
        assert second.output == first.output


def test_check_knows_where_the_secret_comes_from() -> None:
    """--check: the ExternalSecret in the stream makes the Secret; a key it does not make fails, naming it."""
    output = programs.render((STREAMS / "helm4.yaml").read_bytes(), settings_for()).output
    checked = program.program(output, settings_for(check=True), "check")
    explained = program.explain(checked)
    assert "made by document 20 (ExternalSecret/openlineage-api-key-secret)" in json.dumps(explained)
    broken = output.replace(b"- secretKey: api-key", b"- secretKey: other")
    failed = program.program(broken, settings_for(check=True), "check").failure
    assert isinstance(failed, CheckFailed)
    assert ("references key api-key of Secret openlineage-api-key-secret (made by document 20 "
            "(ExternalSecret/openlineage-api-key-secret)), which the stream holds without that key") in str(failed)
    old = output.replace(b"external-secrets.io/v1\n", b"external-secrets.io/v1beta1\n")
    assert b"v1beta1" in old
    explained = json.dumps(program.explain(program.program(old, settings_for(check=True), "check")))
    assert "made by" not in explained, "a v1beta1 object is not served: it makes no Secret"


def test_a_chart_secret_of_the_same_name_is_a_conflict() -> None:
    """ESO's Owner policy would fight Helm for the chart's Secret: exit 4 naming it, --overwrite or not."""
    data = (CASES / "external-secret-conflict-chart-secret" / "input.yaml").read_bytes()
    for overwrite in (False, True):
        settings = settings_for(overwrite=overwrite or None)
        with pytest.raises(ConflictError, match=r"document 8 \(Secret/openlineage-api-key-secret\): rendered by the "
                                                r"chart, but ExternalSecret .*\(creationPolicy: Owner\)"):
            programs.render(data, settings)
    other_name = programs.render(data, settings_for(secret_name="olrender-api-key", overwrite=True))  # (env replaced)
    assert other_name.plan.conflicts == [] and len(other_name.plan.new_documents) == 1


def test_a_different_external_secret_in_the_stream() -> None:
    """Another spec under the same name: a conflict naming the fields; --overwrite replaces them, then nothing."""
    output = programs.render((STREAMS / "helm4.yaml").read_bytes(), settings_for()).output
    other = output.replace(b"name: vault\n", b"name: other-store\n")
    with pytest.raises(ConflictError, match=r"ExternalSecret/openlineage-api-key-secret\): already in the stream "
                                            r"with different content for spec"):
        programs.render(other, settings_for())
    replaced = programs.render(other, settings_for(overwrite=True))
    assert replaced.plan.new_documents == []
    (generated,) = external_secrets([d for d in yaml.safe_load_all(replaced.output) if isinstance(d, dict)])
    (original,) = external_secrets([d for d in yaml.safe_load_all(output) if isinstance(d, dict)])
    assert generated == original
    assert programs.render(replaced.output, settings_for()).plan.ops == {}


# --------------------------------------------------------------------------- the real Helm 4


@pytest.mark.realclient
def test_through_the_real_helm4(real_tool: RealTool, tmp_path: Path) -> None:
    """helm 4.3.1 with the plugin: options and OLRENDER_* variables give the same output; only the components
    change; the one added object is the ExternalSecret under olrender's file name; a chart Secret fails the render."""
    helm = install_plugin(make_client(real_tool, tmp_path / "helm", "helm-4.3.1"))
    case = MethodCase("external-secret", (("--method", "external-secret"), ("--external-secret-store", "vault"),
                                          ("--external-secret-key", "openlineage/api-key"),
                                          ("--namespace", OL_NAMESPACE)))
    template = ("template", RELEASE, str(CHART))
    baseline = by_key(parse_documents(helm.run(*template).ok().stdout))
    by_args = helm.run(*template, "--post-renderer", "olrender", *case.post_renderer_args()).ok().stdout
    by_env = helm.run(*template, "--post-renderer", "olrender", env=case.environment()).ok().stdout
    assert by_args == by_env
    printed = by_key(parse_documents(by_args))
    added = {key: printed[key].source for key in printed.keys() - baseline.keys()}
    assert added == {("ExternalSecret", "openlineage-api-key-secret"):
                     "olrender/openlineage-api-key-secret-externalsecret.yaml"}
    spec = printed["ExternalSecret", "openlineage-api-key-secret"].obj["spec"]
    target = (spec["target"]["name"], spec["data"][0]["secretKey"])
    for key, base in baseline.items():
        if key[0] == "Deployment" and key[1] in COMPONENTS:
            (main,) = [c for c in printed[key].obj["spec"]["template"]["spec"]["containers"] if c["name"] == "agent"]
            (entry,) = [e for e in main["env"] if e["name"] == "OPENLINEAGE_API_KEY"]
            assert (entry["valueFrom"]["secretKeyRef"]["name"], entry["valueFrom"]["secretKeyRef"]["key"]) == target
        else:
            assert printed[key].obj == base.obj, key
    chart_secret = helm.run(*template, "--set", "openLineage.apiKey=sk-test-chart-secret-0001",
                            "--post-renderer", "olrender", *case.post_renderer_args())
    assert chart_secret.returncode != 0 and "ExternalSecret" not in chart_secret.stdout
