"""The injector oracle: the real agent renders the annotation's template, and the real consumers use the file.

All agent runs start together (a few at a time); the consumers then read every
rendered file in one batch each: openlineage-python through ``OPENLINEAGE_CONFIG``,
the Airflow provider through ``AIRFLOW__OPENLINEAGE__CONFIG_PATH``, both sending one
event to a loopback backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracles.consumers import BACKEND, CWD, Case, Sent, send
from tests.realagent.injector import (
    ANNOTATIONS,
    EXAMPLE_SECRETS,
    Injection,
    InjectorVault,
    Rendered,
    annotation_problems,
    openlineage_template,
)

GOOD, HOSTILE, KV1 = EXAMPLE_SECRETS
NAIVE = ('transport:\n  type: http\n  url: "{BACKEND}"\n  auth:\n    type: api_key\n'
         '    apiKey: {{ with secret "secret/data/openlineage/hostile" }}{{ .Data.data.key }}{{ end }}\n')
INJECTIONS = {
    "kv2": Injection(openlineage_template(GOOD.read_path, "key", 2, BACKEND, "api/v1/lineage")),
    "kv1": Injection(openlineage_template(KV1.read_path, "key", 1, BACKEND, "api/v2/lineage")),
    "hostile": Injection(openlineage_template(HOSTILE.read_path, "key", 2, BACKEND, "api/v1/lineage")),
    "naive quoting": Injection(NAIVE),
    "kv1 expression on kv2": Injection(openlineage_template(GOOD.read_path, "key", 1, BACKEND, "api/v1/lineage")),
    "unknown role": Injection(openlineage_template(GOOD.read_path, "key", 2, BACKEND, "x"), role="nobody"),
}
CONFIG = f"{CWD}/openlineage.yml"
ENV = {"OPENLINEAGE_CONFIG": CONFIG, "AIRFLOW__OPENLINEAGE__CONFIG_PATH": CONFIG,
       "OPENLINEAGE_NAMESPACE": "ultraviolet-corona-6870"}
WRITES = ["kv2", "kv1", "hostile", "naive quoting"]


@pytest.fixture(scope="module")
def rendered(injector_vault: InjectorVault) -> dict[str, Rendered]:
    """Every injection, rendered by the real agent."""
    return dict(zip(INJECTIONS, injector_vault.render_all(list(INJECTIONS.values())), strict=True))


@pytest.fixture(scope="module")
def consumed(rendered: dict[str, Rendered], airflow_python: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Sent]]:
    """What each consumer sent with each written file as its config: {consumer: {injection: Sent}}."""
    cases = [Case(ENV, {CONFIG: (rendered[name].data or b"").decode()}) for name in WRITES]
    found = send(cases, tmp_path_factory.mktemp("injector-consumers"), airflow=airflow_python)
    return {consumer: dict(zip(WRITES, sent, strict=True)) for consumer, sent in found.items()}


@pytest.mark.parametrize(("name", "key", "path"), [("kv2", GOOD, "/api/v1/lineage"), ("kv1", KV1, "/api/v2/lineage"),
                                                   ("hostile", HOSTILE, "/api/v1/lineage")])
@pytest.mark.parametrize("consumer", ["client", "airflow"])
def test_both_consumers_send_the_key_from_the_file(rendered: dict[str, Rendered], consumed: dict[str, dict[str, Sent]],
                                                   name: str, key: object, path: str, consumer: str) -> None:
    """The agent exits 0 and the file gives each real consumer an HTTP transport sending Bearer <key>."""
    assert rendered[name].exit_code == 0, rendered[name].log
    request = consumed[consumer][name].only
    assert (request.path, request.authorization) == (path, f"Bearer {key.fields['key']}")  # type: ignore[attr-defined]


@pytest.mark.parametrize("consumer", ["client", "airflow"])
def test_a_key_written_without_quoting_does_not_survive(consumed: dict[str, dict[str, Sent]], consumer: str) -> None:
    """The same hostile key written bare: the oracle sees the consumers send something else, or nothing."""
    sent = consumed[consumer]["naive quoting"]
    assert [r.authorization for r in sent.requests] != [f"Bearer {HOSTILE.fields['key']}"]


@pytest.mark.parametrize("name", ["kv1 expression on kv2", "unknown role"])
def test_a_wrong_template_or_role_fails_the_agent(rendered: dict[str, Rendered], name: str) -> None:
    """A KV v1 expression on a KV v2 secret (error_on_missing_key) or a refused login: non-zero, no file."""
    assert rendered[name].exit_code != 0 and rendered[name].data is None, rendered[name].log
    assert rendered[name].seconds < 15


def test_annotation_names() -> None:
    """The injector's names pass; a misspelt one, a per-file prefix without a file and a non-string value do not."""
    method = {"vault.hashicorp.com/agent-inject": "true", "vault.hashicorp.com/role": "astro-agent",
              "vault.hashicorp.com/agent-inject-secret-openlineage.yml": "secret/data/openlineage/api-key",
              "vault.hashicorp.com/agent-inject-template-openlineage.yml": INJECTIONS["kv2"].template,
              "vault.hashicorp.com/error-on-missing-key-openlineage.yml": "true", "checksum/x": "1"}
    assert annotation_problems({**method, **{name: "true" for name in ANNOTATIONS}}) == []
    assert annotation_problems({"vault.hashicorp.com/agent-inject-secrets-openlineage.yml": "p",
                                "vault.hashicorp.com/agent-inject-template-": "t",
                                "vault.hashicorp.com/agent-inject": True}) == [
        "vault.hashicorp.com/agent-inject-secrets-openlineage.yml: not an annotation of the Vault Agent Injector",
        "vault.hashicorp.com/agent-inject-template-: not an annotation of the Vault Agent Injector",
        "vault.hashicorp.com/agent-inject: value True is not a string",
    ]
