"""The lint's behaviour findings and its JSON-transport advice, against what the real consumers send.

All cases go in one batch through openlineage-python 1.54.0 (``OpenLineageClient()``) and the
Airflow provider 2.20.3 (``tests.oracles.consumers.send``), each to the loopback backend. Every
destination has an endpoint of its own (``/from-url``, ``/from-mine``, ``/from-file`` ...), so the
requests say which settings took effect. Per case, ``measure`` says from what was sent whether the
consumers behave as the finding says; the lint (``lint_container`` on the same container, the
config file a mounted ConfigMap) must have the finding exactly then:

- ``composite-also-url``: the provider sends an event to ``OPENLINEAGE_URL`` and to another place;
- ``variable-overridden``: an ``OPENLINEAGE__*`` variable's own endpoint or key never arrives;
- ``disabled-partly``: the provider sends nothing while the bare client sends.

Kubernetes' ``$(VAR)`` expansion of env values (the JSON advice relies on it) happens in the
kubelet, which cannot run here: ``kubelet_env`` is a test double of it, named as such.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from postrenderer.lint.container import lint_container
from postrenderer.lint.findings import JSON_AUTH_FIX
from tests.oracles.consumers import BACKEND, CWD, Case, Sent, send

SECRET_KEY = "sk-test-secret-0001"  # the value of a secretKeyRef, for the consumers
FILE_KEY = "sk-test-file-0002"
LINT_BACKEND = "https://o11y.example"
MOUNT = "/etc/openlineage"
T = "OPENLINEAGE__TRANSPORT__"
SECRET = object()
NS = ("OPENLINEAGE_NAMESPACE", "ultraviolet-corona-6870")
LEGACY = [("OPENLINEAGE_URL", BACKEND), ("OPENLINEAGE_ENDPOINT", "from-url"), ("OPENLINEAGE_API_KEY", SECRET)]
MINE = [(f"{T}TYPE", "composite"), (f"{T}TRANSPORTS__MINE__TYPE", "http"), (f"{T}TRANSPORTS__MINE__URL", BACKEND),
        (f"{T}TRANSPORTS__MINE__ENDPOINT", "from-mine")]
CONFIG = ("OPENLINEAGE_CONFIG", f"{CWD}/openlineage.yml")
CONFIG_PATH = ("AIRFLOW__OPENLINEAGE__CONFIG_PATH", f"{CWD}/openlineage.yml")


def file(endpoint: str | None, key: str | None) -> str:
    """A config file with an http transport to the backend (and maybe an endpoint and a key)."""
    transport: dict[str, Any] = {"type": "http", "url": BACKEND}
    if endpoint:
        transport["endpoint"] = endpoint
    if key:
        transport["auth"] = {"type": "api_key", "apiKey": key}
    return json.dumps({"transport": transport})


def paths(sent: Sent) -> set[str]:
    """The endpoints one consumer sent to."""
    return {r.path for r in sent.requests}


def also_url(client: Sent, airflow: Sent) -> bool:
    """The provider sent to OPENLINEAGE_URL's endpoint and elsewhere."""
    return "/from-url" in paths(airflow) and len(paths(airflow)) > 1


def lost(endpoint: str | None, key: str | None) -> Callable[[Sent, Sent], bool]:
    """The variable's endpoint (or key) never reached the backend from the provider."""
    def measure(client: Sent, airflow: Sent) -> bool:
        """Whether the provider's requests miss what the variable set."""
        missed_path = endpoint is not None and f"/{endpoint}" not in paths(airflow)
        missed_key = key is not None and f"Bearer {key}" not in {r.authorization for r in airflow.requests}
        return bool(airflow.requests) and (missed_path or missed_key)
    return measure


def half_off(client: Sent, airflow: Sent) -> bool:
    """The provider sent nothing, the bare client did."""
    return not airflow.requests and bool(client.requests)


BEHAVIOURS: dict[str, tuple[str, Callable[[Sent, Sent], bool], list[tuple[str, Any]], str | None]] = {
    # name: (finding code, measure, env in order, config file)
    "composite+url": ("composite-also-url", also_url, [*LEGACY, *MINE], None),
    "composite+url opted out": ("composite-also-url", also_url,
                                [*LEGACY, *MINE, (f"{T}TRANSPORTS__DEFAULT_HTTP", "{}")], None),
    "composite of the url alone": ("composite-also-url", also_url, [*LEGACY, (f"{T}TYPE", "composite")], None),
    "composite naming default_http": ("composite-also-url", also_url, [
        *LEGACY, *MINE, (f"{T}TRANSPORTS__DEFAULT_HTTP__TYPE", "http"),
        (f"{T}TRANSPORTS__DEFAULT_HTTP__URL", BACKEND), (f"{T}TRANSPORTS__DEFAULT_HTTP__ENDPOINT", "from-default")],
        None),
    "airflow composite+url": ("composite-also-url", also_url, [*LEGACY, ("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps(
        {"type": "composite", "transports": {"mine": {"type": "http", "url": BACKEND, "endpoint": "from-mine"}}}))],
        None),
    "file beats endpoint": ("variable-overridden", lost("from-var", None),
                            [NS, CONFIG, (f"{T}ENDPOINT", "from-var")], file("from-file", FILE_KEY)),
    "file without endpoint": ("variable-overridden", lost("from-var", None),
                              [NS, CONFIG, (f"{T}ENDPOINT", "from-var")], file(None, FILE_KEY)),
    "config path beats endpoint": ("variable-overridden", lost("from-var", None),
                                   [NS, CONFIG_PATH, (f"{T}ENDPOINT", "from-var")], file("from-file", FILE_KEY)),
    "file beats key": ("variable-overridden", lost(None, SECRET_KEY),
                       [NS, CONFIG, (f"{T}AUTH__TYPE", "api_key"), (f"{T}AUTH__APIKEY", SECRET)],
                       file("from-file", FILE_KEY)),
    "file without key": ("variable-overridden", lost(None, SECRET_KEY),
                         [NS, CONFIG, (f"{T}AUTH__TYPE", "api_key"), (f"{T}AUTH__APIKEY", SECRET)],
                         file("from-file", None)),
    "airflow transport beats endpoint": ("variable-overridden", lost("from-var", None), [
        NS, ("AIRFLOW__OPENLINEAGE__TRANSPORT", file("from-json", FILE_KEY).replace('{"transport": ', "")[:-1]),
        (f"{T}ENDPOINT", "from-var")], None),
    **{f"OPENLINEAGE_DISABLED={v}": ("disabled-partly", half_off, [*LEGACY, ("OPENLINEAGE_DISABLED", v)], None)
       for v in ("1", "t", "true", "TRUE", "false")},
    **{f"AIRFLOW__OPENLINEAGE__DISABLED={v}": ("disabled-partly", half_off,
                                               [*LEGACY, ("AIRFLOW__OPENLINEAGE__DISABLED", v)], None)
       for v in ("true", "1", "false")},
    "both switches": ("disabled-partly", half_off, [*LEGACY, ("AIRFLOW__OPENLINEAGE__DISABLED", "true"),
                                                    ("OPENLINEAGE_DISABLED", "true")], None),
}


def advised_json() -> str:
    """The JSON the advice shows, with the backend and an endpoint of its own."""
    shown = json.loads(re.search(r"e\.g\. (\{.*\}), with", JSON_AUTH_FIX)[1])  # type: ignore[index]
    return json.dumps({**shown, "url": BACKEND, "endpoint": "from-json"})


WRONG_ADVICE = [(f"{T}AUTH__TYPE", "api_key"), (f"{T}AUTH__APIKEY", SECRET)]
JSON_VAR = ("OPENLINEAGE__TRANSPORT", json.dumps({"type": "http", "url": BACKEND, "endpoint": "from-json"}))
ADVICE: dict[str, list[tuple[str, Any]]] = {
    "before": [NS, ("OPENLINEAGE_API_KEY", SECRET), JSON_VAR],
    "old advice followed": [NS, ("OPENLINEAGE_API_KEY", SECRET), JSON_VAR, *WRONG_ADVICE],
    "advice followed": [NS, ("OPENLINEAGE_API_KEY", SECRET), ("OPENLINEAGE__TRANSPORT", advised_json())],
    "key listed after": [NS, ("OPENLINEAGE__TRANSPORT", advised_json()), ("OPENLINEAGE_API_KEY", SECRET)],
}


def kubelet_env(env: list[tuple[str, Any]]) -> dict[str, str]:
    """Test double of the kubelet: ``$(VAR)`` becomes an earlier variable's value, ``$$`` is ``$``, others stay."""
    done: dict[str, str] = {}
    for name, value in env:
        text = SECRET_KEY if value is SECRET else str(value)

        def swap(match: re.Match[str], done: dict[str, str] = done) -> str:
            """One reference, as the kubelet expands it."""
            return "$" if match[0] == "$$" else done.get(match[1], match[0])

        done[name] = re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", swap, text)
    return done


def container(env: list[tuple[str, Any]], content: str | None) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The agent container the lint reads, its pod spec and the stream's lookup (the file: a ConfigMap)."""
    entries: list[dict[str, Any]] = []
    for name, value in env:
        if value is SECRET:
            entries.append({"name": name, "valueFrom": {"secretKeyRef": {"name": "ol", "key": name.lower()}}})
        else:
            entries.append({"name": name, "value": str(value).replace(BACKEND, LINT_BACKEND).replace(CWD, MOUNT)})
    if not any(name == NS[0] for name, _ in env):
        entries.append({"name": NS[0], "value": NS[1]})
    spec: dict[str, Any] = {}
    agent: dict[str, Any] = {"name": "agent", "env": entries}
    if content is not None:
        agent["volumeMounts"] = [{"name": "ol", "mountPath": MOUNT, "readOnly": True}]
        spec["volumes"] = [{"name": "ol", "configMap": {"name": "ol"}}]

    def lookup(kind: str, name: str) -> dict[str, str | None] | None:
        """The ConfigMap with the file, and the Secret."""
        if (kind, name) == ("ConfigMap", "ol") and content is not None:
            return {"openlineage.yml": content.replace(BACKEND, LINT_BACKEND)}
        return None
    return agent, spec, lookup


@pytest.fixture(scope="module")
def sent(airflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Sent, Sent]]:
    """Every case through both consumers, in one batch: (client, provider) per case."""
    cases = {**{n: (env, f) for n, (_, _, env, f) in BEHAVIOURS.items()}, **{n: (e, None) for n, e in ADVICE.items()}}
    batch = [Case(kubelet_env([*env, *([] if any(n == NS[0] for n, _ in env) else [NS])]),
                  {} if content is None else {f"{CWD}/openlineage.yml": content}) for env, content in cases.values()]
    found = send(batch, tmp_path_factory.mktemp("behaviours"), airflow=airflow_python)
    return {name: (found["client"][n], found["airflow"][n]) for n, name in enumerate(cases)}


@pytest.mark.parametrize("case", list(BEHAVIOURS))
def test_the_finding_is_there_exactly_when_the_consumers_behave_so(sent: dict[str, tuple[Sent, Sent]],
                                                                   case: str) -> None:
    """The lint's behaviour finding agrees with what the real client and provider sent."""
    code, measure, env, content = BEHAVIOURS[case]
    client, airflow = sent[case]
    assert not [s for s in (client, airflow) if s.kind in ("crash",)], (client, airflow)
    evaluation = lint_container(*container(env, content))
    found = [f.code for f in evaluation.findings]
    assert (code in found) == measure(client, airflow), (case, found, client, airflow)


def test_each_behaviour_is_seen_both_ways(sent: dict[str, tuple[Sent, Sent]]) -> None:
    """A guard: for every finding, some case shows the behaviour and some does not."""
    seen: dict[str, set[bool]] = {}
    for case, (code, measure, _, _) in BEHAVIOURS.items():
        seen.setdefault(code, set()).add(measure(*sent[case]))
    assert seen == {code: {True, False} for code in ("composite-also-url", "variable-overridden", "disabled-partly")}


@pytest.mark.parametrize(("case", "bearer", "ok"), [
    ("before", None, False),
    ("old advice followed", None, False),
    ("advice followed", f"Bearer {SECRET_KEY}", True),
    ("key listed after", "Bearer $(OPENLINEAGE_API_KEY)", False),
])
def test_the_json_transport_advice_works_when_followed(sent: dict[str, tuple[Sent, Sent]], case: str,
                                                       bearer: str | None, ok: bool) -> None:
    """With auth inside OPENLINEAGE__TRANSPORT's JSON, both consumers send Bearer <key> and the lint passes; the
    nested variables of the old advice give no key, and a key listed after the JSON is not expanded."""
    client, airflow = sent[case]
    for consumer in (client, airflow):
        assert (consumer.only.path, consumer.only.authorization) == ("/from-json", bearer)
    evaluation = lint_container(*container(ADVICE[case], None))
    assert evaluation.ok == ok, [str(f) for f in evaluation.findings]
    if case == "before":
        assert evaluation.findings[0].fix.endswith(JSON_AUTH_FIX)
    if case == "old advice followed":
        assert "replaced by the JSON value" in str(evaluation.findings[0]) or JSON_AUTH_FIX in str(
            evaluation.findings[0])
