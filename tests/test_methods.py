"""Tests for postrenderer.inject.methods: what each method asks for."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from postrenderer import program
from postrenderer.cli.options import method_options
from postrenderer.config.settings import ApiKey, OpenLineageConfig, resolve
from postrenderer.errors import CheckFailed, ConfigError
from postrenderer.inject.contract import Given, Injection, Method, Setting
from postrenderer.inject.methods import CHECKSUM_ANNOTATION, METHODS, choices, method_class, method_for
from postrenderer.read.discovery import Component

KEY = "sk-test-methods-0001"
STREAMS = Path(__file__).resolve().parent.parent / "fixtures" / "streams"
URLS = {"openLineage": {"url": "https://o11y.astronomer.io", "namespace": "ultraviolet-corona-6870"}}


def config(**kw: object) -> OpenLineageConfig:
    """A config with URL and namespace set."""
    base: dict = {"url": "https://o11y.example", "namespace": "ns-1"}
    base.update(kw)
    return OpenLineageConfig(**base)


def test_secret_method_env_and_secret() -> None:
    """The secret method references the generated Secret and emits it base64-encoded."""
    method = method_for(config(api_key=ApiKey(KEY)))
    injection = method.injection(None)  # type: ignore[arg-type]
    assert [e["name"] for e in injection.env] == ["OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_API_KEY"]
    assert injection.env[-1]["valueFrom"] == {
        "secretKeyRef": {"name": "openlineage-api-key-secret", "key": "api-key"}}
    (doc,) = method.documents("agents")
    assert doc.filename == "olrender/openlineage-api-key-secret.yaml"
    assert doc.doc["metadata"]["namespace"] == "agents"
    assert doc.doc["type"] == "Opaque"
    assert base64.b64decode(doc.doc["data"]["api-key"]).decode() == KEY


def test_checksum_follows_the_key() -> None:
    """A different key gives a different pod annotation, so pods roll."""
    one = method_for(config(api_key=ApiKey(KEY))).injection(None).annotations  # type: ignore[arg-type]
    two = method_for(config(api_key=ApiKey(KEY + "x"))).injection(None).annotations  # type: ignore[arg-type]
    assert one[CHECKSUM_ANNOTATION] != two[CHECKSUM_ANNOTATION]
    assert KEY not in one[CHECKSUM_ANNOTATION]


def test_existing_secret_method() -> None:
    """The existing-secret method references the user's Secret and adds no document."""
    method = method_for(config(method="existing-secret", secret_name="mine", secret_key="token"))
    env = method.injection(None).env  # type: ignore[arg-type]
    assert env[-1]["valueFrom"]["secretKeyRef"] == {"name": "mine", "key": "token"}
    assert method.documents(None) == []


def test_disabled_method() -> None:
    """enabled: false sets only OPENLINEAGE_DISABLED."""
    method = method_for(config(enabled=False))
    assert method.injection(None).env == [{"name": "OPENLINEAGE_DISABLED", "value": "true"}]  # type: ignore[arg-type]
    assert method.documents(None) == []


def test_optional_variables_in_chart_order() -> None:
    """Endpoint and facets come after URL and namespace, when set."""
    cfg = config(endpoint="/api/v1/lineage", facets_environment_variables="A,B")
    assert [e["name"] for e in cfg.plain_env()] == [
        "OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_ENDPOINT",
        "OPENLINEAGE__FACETS__ENVIRONMENT_VARIABLES"]


class TokenSecretMethod(Method):
    """A method that exists only in this test: the key from a Secret named by its own setting."""

    name = "token-secret"
    title = "Token secret method (test only)"
    settings = (Setting("token-secret-name", "Secret holding the token.", values_key="tokenSecret.name"),
                Setting("token-secret-field", "Its field.", values_key="tokenSecret.field"))
    selected_by = "tokenSecret"

    @classmethod
    def configure(cls, given: Given, config: OpenLineageConfig) -> tuple[str, str]:
        """Both settings are required; every missing one is named in one error."""
        found = [given.value(setting) for setting in cls.settings]
        missing = [setting.flag for setting, value in zip(cls.settings, found, strict=True) if not value]
        if missing and not given.check:
            raise ConfigError(f"the token-secret method needs {' and '.join(missing)}")
        return str(found[0]), str(found[1])

    def injection(self, component: Component) -> Injection:
        """OPENLINEAGE_API_KEY from the named Secret, plus the plain variables."""
        name, field = self.config.method_settings
        ref = {"secretKeyRef": {"name": name, "key": field}}
        return Injection(env=[*self.config.plain_env(), {"name": "OPENLINEAGE_API_KEY", "valueFrom": ref}])


@pytest.fixture
def token_secret(monkeypatch: pytest.MonkeyPatch) -> type[Method]:
    """The test-only method, registered for one test (the registry is the only place that names it)."""
    monkeypatch.setitem(METHODS, TokenSecretMethod.name, TokenSecretMethod)
    return TokenSecretMethod


def test_a_registered_method_gets_its_options_and_choice(token_secret: type[Method]) -> None:
    """The option table and --method's choices come from the registry."""
    assert "token-secret" in choices() and "disabled" not in choices()
    specs = {spec.name: spec for spec in method_options()}
    assert specs["token_secret_name"].envvar == "OLRENDER_TOKEN_SECRET_NAME"
    with pytest.raises(ConfigError, match="--method tokn-secret: choose one of secret, existing-secret, vault, "
                                          "airflow-connection, token-secret"):
        method_class("tokn-secret")


def test_a_registered_method_is_configured_from_options_and_values(token_secret: type[Method]) -> None:
    """Options beat values; its values block selects it; every problem is in one error; empty values are refused."""
    values = {"openLineage": {"tokenSecret": {"name": "from-values", "field": "token"}, **URLS["openLineage"]}}
    settings, _ = resolve({"token_secret_name": "from-option"}, values, {}, lambda _: "")
    assert settings.openlineage.method == "token-secret"
    assert settings.openlineage.method_settings == ("from-option", "token")
    with pytest.raises(ConfigError, match="needs --token-secret-name and --token-secret-field"):
        resolve({"method": "token-secret"}, {}, {}, lambda _: "")
    resolve({"method": "token-secret"}, {}, {}, lambda _: "", check=True)  # --check needs neither
    with pytest.raises(ConfigError, match=r"openLineage\.tokenSecret\.name: the value is empty"):
        resolve({}, {"openLineage": {"tokenSecret": {"name": "", "field": "f"}}}, {}, lambda _: "")


def test_a_registered_method_renders_and_checks(token_secret: type[Method]) -> None:
    """Render injects what the method plans; --check passes on that output and fails on the chart's."""
    values = {"openLineage": {"tokenSecret": {"name": "lineage", "field": "token"}, **URLS["openLineage"]}}
    settings, _ = resolve({}, values, {}, lambda _: "")
    data = (STREAMS / "helm3.yaml").read_bytes()
    rendered = program.program(data, settings)
    assert rendered.failure is None and len(rendered.plan.components) == 4
    output = b"".join(rendered.parts)
    assert output.count(b"name: lineage") == 4 and b"key: token" in output
    assert "method token-secret" in program.summary(rendered)[-1]
    assert program.explain(rendered)["method"] == "token-secret"
    check_settings, _ = resolve({}, values, {}, lambda _: "", check=True)
    checked = program.program(output, check_settings, "check")
    assert checked.failure is None and "4 agent component(s)" in checked.notice
    assert isinstance(program.program(data, check_settings, "check").failure, CheckFailed)
    assert program.program(output, settings).plan.ops == {}, "a second render changes nothing"
