"""postrenderer.lint.transport and the lint, against the real OpenLineage client and the real Airflow provider.

Every case is a container environment (and maybe a config file) built from the
transport settings the lint knows: the legacy variables, every
``OPENLINEAGE__TRANSPORT__*`` variable it reads with each transport type, config
files with and without ``transport:`` named by ``OPENLINEAGE_CONFIG`` and/or
``AIRFLOW__OPENLINEAGE__CONFIG_PATH``, ``AIRFLOW__OPENLINEAGE__TRANSPORT`` and both
disabled switches, crossed group by group. Each case runs through

- openlineage-python 1.54.0 (pinned in the test extras): ``OpenLineageClient()``,
  compared with ``resolve(..., airflow=False)``;
- apache-airflow-providers-openlineage 2.20.3 with apache-airflow 3.3.2, in a
  cached virtualenv of its own (tests/tools/oracles.py): what the provider's
  listener builds, compared with what ``lint_container`` says, including its
  verdict (``ok``).

Every URL, endpoint and key in a case is a sentinel naming where it was set, so
the real programs report which variable (or "file") gave the URL, the endpoint
and the key that reaches each HTTP transport; the lint must name the same. The
config file is a ConfigMap mounted in the pod, so the lint reads what the client
reads (written, for the real programs, where the environment says). A transport
type the client knows but cannot build here (kafka, file, transform: they need
settings or packages of their own) may be an error for the real client where the
lint only says "not HTTP"; both mean lineage does not reach the OpenLineage API.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postrenderer.lint import transport
from postrenderer.lint.container import Expected, lint_container
from postrenderer.lint.transport import KINDS, Resolved, resolve
from tests.budget import examples
from tests.tools import oracles
from tests.tools.pytest_realtools import _in_ci
from tests.tools.realtools import ToolUnavailable

SECRET = object()  # a value from a Secret: the lint sees a secretKeyRef, the real programs a sentinel key
FILE = "{file}"  # replaced by the config file's absolute path
ABSENT = object()  # a config file the mounted ConfigMap does not hold

URL, KEY, ENDPOINT = "OPENLINEAGE_URL", "OPENLINEAGE_API_KEY", "OPENLINEAGE_ENDPOINT"
T = "OPENLINEAGE__TRANSPORT__"
CONFIG, CONFIG_PATH = "OPENLINEAGE_CONFIG", "AIRFLOW__OPENLINEAGE__CONFIG_PATH"
AIRFLOW_TRANSPORT = "AIRFLOW__OPENLINEAGE__TRANSPORT"
LABELS = (URL, KEY, ENDPOINT, f"{T}URL", f"{T}ENDPOINT", f"{T}AUTH", f"{T}AUTH__APIKEY", f"{T}TRANSPORTS__MINE__URL",
          f"{T}TRANSPORTS",
          f"{T}TRANSPORTS__DEFAULT_HTTP__URL", "OPENLINEAGE__TRANSPORT", AIRFLOW_TRANSPORT, "file")


def url(label: str) -> str:
    """The sentinel URL of a label."""
    return f"https://{label.lower().replace('_', '-')}.example"


def key(label: str) -> str:
    """The sentinel API key of a label (a test value, never a real key)."""
    return f"sk-test-{label.lower().replace('_', '-')}"


def endpoint(label: str) -> str:
    """The sentinel endpoint of a label."""
    return f"/api/v1/lineage?set-by={label.lower()}"


LEGACY: list[dict[str, Any]] = [
    {}, {URL: url(URL)}, {URL: url(URL), KEY: SECRET}, {KEY: SECRET},
    {URL: url(URL), KEY: SECRET, ENDPOINT: endpoint(ENDPOINT)}, {URL: "not-a-url", KEY: SECRET},
]
KEYED = LEGACY[2]
DYNAMIC: list[dict[str, Any]] = [
    {},
    *({f"{T}TYPE": kind} for kind in ("http", "composite", "console", "file", "kafka", "noop", "transform", "HTTP",
                                       "bogus")),
    *({f"{T}TYPE": kind, f"{T}URL": url(f"{T}URL")} for kind in ("http", "composite", "console")),
    {f"{T}URL": url(f"{T}URL")},
    {f"{T}TIMEOUT": "10"},
    {f"{T}URL": url(f"{T}URL"), f"{T}TIMEOUT": "10"},
    {f"{T}TYPE": "http", f"{T}TIMEOUT": "10"},
    {f"{T}ENDPOINT": endpoint(f"{T}ENDPOINT")},
    {f"{T}AUTH__TYPE": "api_key", f"{T}AUTH__APIKEY": SECRET},
    {f"{T}AUTH__APIKEY": SECRET},
    {f"{T}TYPE": "http", f"{T}AUTH__TYPE": "api_key"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}AUTH__TYPE": "api_key", f"{T}AUTH__APIKEY": SECRET},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}AUTH__APIKEY": SECRET},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}AUTH__TYPE": "jwt", f"{T}AUTH__APIKEY": SECRET,
     f"{T}AUTH__TOKEN_ENDPOINT": "https://token.example/token"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}AUTH__TYPE": "jwt", f"{T}AUTH__APIKEY": SECRET,
     f"{T}AUTH__TOKENENDPOINT": "https://token.example/token"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}AUTH__TYPE": "oauth2", f"{T}AUTH__CLIENT_ID": "agent",
     f"{T}AUTH__CLIENT_SECRET": SECRET, f"{T}AUTH__TOKEN_ENDPOINT": "https://token.example/token"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"),
     f"{T}AUTH": json.dumps({"type": "api_key", "apiKey": key(f"{T}AUTH")})},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}ENDPOINT": endpoint(f"{T}ENDPOINT")},
    {f"{T}TYPE": "http", f"{T}URL": "not-a-url"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}COMPRESSION": "gzip"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}COMPRESSION": "zstd"},
    {f"{T}TYPE": "composite", f"{T}TRANSPORTS__MINE__TYPE": "http",
     f"{T}TRANSPORTS__MINE__URL": url(f"{T}TRANSPORTS__MINE__URL")},
    {f"{T}TYPE": "composite", f"{T}TRANSPORTS__MINE__TYPE": "console"},
    {f"{T}TYPE": "composite", f"{T}TRANSPORTS__MINE__URL": url(f"{T}TRANSPORTS__MINE__URL")},
    {f"{T}TYPE": "composite", f"{T}TRANSPORTS__DEFAULT_HTTP__TYPE": "http",
     f"{T}TRANSPORTS__DEFAULT_HTTP__URL": url(f"{T}TRANSPORTS__DEFAULT_HTTP__URL")},
    {f"{T}TRANSPORTS__DEFAULT_HTTP__URL": url(f"{T}TRANSPORTS__DEFAULT_HTTP__URL")},
    {"OPENLINEAGE__TRANSPORT": json.dumps({"type": "http", "url": url("OPENLINEAGE__TRANSPORT")})},
    {"OPENLINEAGE__TRANSPORT": "not-a-mapping"},
    {f"{T}TYPE": "5"},
    {f"{T}TYPE": "http", f"{T}URL": "https://[broken"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}PRIORITY": "high"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}AUTH": "none"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), f"{T}AUTH": "5"},
    {f"{T}TYPE": "http", f"{T}URL": url(f"{T}URL"), "OPENLINEAGE__TRANSPORT__auth": "plain",
     f"{T}AUTH__TYPE": "api_key"},  # (lower case sorts first: the client then steps into a string)
    {f"{T}TYPE": "composite", f"{T}TRANSPORTS": "x"},
    {f"{T}TYPE": "composite", f"{T}TRANSPORTS": "[]"},
    {f"{T}TYPE": "composite", f"{T}TRANSPORTS": json.dumps([{}, {"type": "http", "url": url(f"{T}TRANSPORTS")}])},
    {f"{T}TYPE": "composite", f"{T}TRANSPORTS": json.dumps(["x"])},
    # last, and so crossed with the other groups only in ASYNC below: each async_http transport starts a thread,
    # which makes it a hundred times as slow to build as the others
    {f"{T}TYPE": "async_http"},
    {f"{T}TYPE": "async_http", f"{T}URL": url(f"{T}URL")},
    {f"{T}TYPE": "async_http", f"{T}AUTH__TYPE": "api_key", f"{T}AUTH__APIKEY": SECRET},
    {f"{T}TYPE": "async_http", f"{T}URL": url(f"{T}URL"), f"{T}ENDPOINT": endpoint(f"{T}ENDPOINT")},
]
ASYNC = DYNAMIC[-4:]
FILES: list[Any] = [
    None, "", "# no settings\n", "filters: []\n",
    f"transport:\n  type: http\n  url: {url('file')}\n",
    f"transport:\n  type: http\n  url: {url('file')}\n  auth:\n    type: api_key\n    apiKey: {key('file')}\n",
    f"transport:\n  type: http\n  url: {url('file')}\n  endpoint: '{endpoint('file')}'\n",
    "transport:\n  type: composite\n  transports:\n    mine:\n      type: console\n",
    "transport:\n  type: console\n",
    f"transport:\n  url: {url('file')}\n",
    "transport:\n  type: http\n",
    "- not a mapping\n",
    "transport: [\n",
    ABSENT,
]
NAMERS: list[tuple[str, ...]] = [(CONFIG,), (CONFIG_PATH,), (CONFIG, CONFIG_PATH)]
AIRFLOW: list[str | None] = [
    None, "",
    json.dumps({"type": "http", "url": url(AIRFLOW_TRANSPORT)}),
    json.dumps({"type": "http", "url": url(AIRFLOW_TRANSPORT), "auth": {"type": "api_key",
                                                                       "apiKey": key(AIRFLOW_TRANSPORT)}}),
    json.dumps({"type": "composite", "transports": {"mine": {"type": "console"}}}),
    json.dumps({"type": "composite", "transports": [{"type": "http", "url": url(AIRFLOW_TRANSPORT)}]}),
    json.dumps({"type": "console"}),
    json.dumps({"url": url(AIRFLOW_TRANSPORT)}),
    "not json", "[1]",
    json.dumps({"type": "async_http", "url": url(AIRFLOW_TRANSPORT)}),  # last (see DYNAMIC)
]
DISABLED: list[dict[str, str]] = [
    *({"OPENLINEAGE_DISABLED": v} for v in ("true", "True", " TRUE ", "1", "t", "false", "yes")),
    *({"AIRFLOW__OPENLINEAGE__DISABLED": v} for v in ("true", "1", "t", "false", "0", "f", "yes", "")),
]


def file_settings(content: Any, namers: tuple[str, ...]) -> dict[str, Any]:
    """A config file named by these variables (none when there is no file)."""
    if content is None:
        return {}
    return {"file": content, **dict.fromkeys(namers, FILE)}


def generate() -> Iterator[dict[str, Any]]:
    """Every case: each group crossed with the legacy variables, and the groups crossed with one another."""
    files = [file_settings(c, n) for c in FILES for n in NAMERS if c is not None]
    airflow = [{AIRFLOW_TRANSPORT: v} for v in AIRFLOW if v is not None]
    for group in (DYNAMIC, files, airflow, DISABLED):
        for legacy, part in itertools.product(LEGACY, group):
            yield {**legacy, **part}
    config_files = [file_settings(c, (CONFIG,)) for c in FILES if c is not None]
    dynamic, airflow = DYNAMIC[:24], airflow[:-1]
    for first, second in ((dynamic, airflow), (dynamic, config_files), (files, airflow[:6]), (DISABLED, dynamic[:16]),
                          (DISABLED, airflow[:4]), (ASYNC, [airflow[1], airflow[6], *config_files[:6]])):
        for a, b in itertools.product(first, second):
            yield {**KEYED, **a, **b}


CASES = [dict(case) for case in {json.dumps(c, sort_keys=True, default=id): c for c in generate()}.values()]


class Built:
    """One case made concrete under a root directory: the pod for the lint, the environment for the oracles."""

    def __init__(self, case: Mapping[str, Any], root: Path) -> None:
        self.root = root
        self.path = str(root / "etc" / "openlineage" / "openlineage.yml")
        self.content = case.get("file")
        self.settings = {k: v for k, v in case.items() if k != "file"}

    def literal(self, name: str, value: Any) -> str:
        """The value the container sees."""
        if value is SECRET:
            return key(name)
        return self.path if value == FILE else str(value)

    def oracle_case(self) -> dict[str, Any]:
        """The case as the oracle script reads it."""
        env = {name: self.literal(name, value) for name, value in self.settings.items()}
        env["HOME"] = str(self.root / "home")
        files = {self.path: self.content} if isinstance(self.content, str) else {}
        return {"env": env, "files": files, "cwd": str(self.root / "work"),
                "urls": {url(label): label for label in LABELS}, "keys": {key(label): label for label in LABELS},
                "endpoints": {endpoint(label): label for label in LABELS}}

    def container(self) -> dict[str, Any]:
        """The agent container: literal values, Secret references for keys, the config file's ConfigMap."""
        env: list[dict[str, Any]] = [{"name": "OPENLINEAGE_NAMESPACE", "value": "ultraviolet-corona-6870"}]
        for name, value in self.settings.items():
            if value is SECRET:
                env.append({"name": name, "valueFrom": {"secretKeyRef": {"name": "openlineage", "key": name.lower()}}})
            else:
                env.append({"name": name, "value": self.literal(name, value)})
        mounts = [{"name": "openlineage-config", "mountPath": os.path.dirname(self.path), "readOnly": True}]
        return {"name": "agent", "env": env, **({"volumeMounts": mounts} if self.content is not None else {})}

    def pod_spec(self) -> dict[str, Any]:
        """The pod spec around the container."""
        if self.content is None:
            return {}
        return {"volumes": [{"name": "openlineage-config", "configMap": {"name": "openlineage-config"}}]}

    def lookup(self, kind: str, name: str) -> Mapping[str, str | None] | None:
        """The ConfigMap the stream holds."""
        if (kind, name) != ("ConfigMap", "openlineage-config") or self.content is None:
            return None
        return {"openlineage.yml": self.content} if isinstance(self.content, str) else {}

    def env(self) -> dict[str, str | Any]:
        """The environment as ``resolve`` takes it (a Secret's value is unseen)."""
        from postrenderer.lint.transport import Unseen

        return {name: Unseen(name, "a Secret") if value is SECRET else self.literal(name, value)
                for name, value in self.settings.items()}

    def read(self, path: str) -> str | None:
        """What the file at ``path`` holds (None: it does not exist)."""
        return self.content if path == self.path and isinstance(self.content, str) else None


def label(source: str | None) -> str | None:
    """The label a lint source stands for (a variable naming the config file stands for the file)."""
    return "file" if source in (CONFIG, CONFIG_PATH) else source


def summary(resolved: Resolved) -> dict[str, Any]:
    """The lint's answer in the oracle's terms."""
    if resolved.kind == "composite":
        return {"kind": "composite", "children": [summary(child) for child in resolved.children]}
    if resolved.kind not in ("http", "async_http"):
        return {"kind": resolved.kind}
    return {"kind": resolved.kind, "url": label(resolved.url), "endpoint": label(resolved.endpoint) or "default",
            "key": label(resolved.key)}


def agrees(ours: dict[str, Any], real: dict[str, Any]) -> bool:
    """Whether the lint's answer is the real program's (see the module docstring for "not HTTP")."""
    if ours["kind"] == "disabled" and real["kind"] in ("disabled", "noop"):  # the client disables with a noop
        return True
    if ours["kind"] in KINDS - {"http", "async_http", "composite"} and real["kind"] == "error":
        return True
    if ours["kind"] == "composite" and real["kind"] == "composite":
        return len(ours["children"]) == len(real["children"]) and all(
            agrees(a, b) for a, b in zip(ours["children"], real["children"], strict=True))
    return ours == {k: v for k, v in real.items() if k != "error"}


def also_url(real: dict[str, Any]) -> bool:
    """Whether the client added OPENLINEAGE_URL beside a composite's own transports (finding composite-also-url)."""
    children = real.get("children", []) if real["kind"] == "composite" else []
    return len(children) > 1 and any(child.get("url") == URL for child in children)


def passes(evaluation: Any) -> bool:
    """The lint's verdict without variable-overridden, which tests/oracles/test_lint_behaviours.py measures (here
    a variable's effect is not told apart from the file's)."""
    return not [f for f in evaluation.findings if f.code != "variable-overridden"]


def delivers(real: dict[str, Any]) -> bool:
    """Whether lineage reaches an HTTP endpoint with a key."""
    if real["kind"] == "composite":
        return any(delivers(child) for child in real["children"])
    return real["kind"] in ("http", "async_http") and real["key"] is not None


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> list[Built]:
    """Every case under its own root directory."""
    base = tmp_path_factory.mktemp("transport-cases")
    return [Built(case, base / f"case-{number}") for number, case in enumerate(CASES)]


@pytest.fixture(scope="session")
def runs(built: list[Built], tmp_path_factory: pytest.TempPathFactory) -> dict[str, oracles.Run | str]:
    """Both oracles started side by side on every case (or why the Airflow one cannot run)."""
    workdir = tmp_path_factory.mktemp("oracles")
    cases = [b.oracle_case() for b in built]
    found: dict[str, oracles.Run | str] = {"client": oracles.client_run(cases, workdir)}
    try:
        found["airflow"] = oracles.airflow_run(oracles.airflow_python(), cases, workdir)
    except ToolUnavailable as exc:
        found["airflow"] = str(exc)
    return found


def mismatches(built: list[Built], real: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[str]:
    """Every case where the lint and the real program disagree, readably."""
    return [
        f"{json.dumps(b.oracle_case()['env'])} file={b.content!r}\n    real: {r}\n    lint: {o}"
        for b, r, o in zip(built, real, ours, strict=True) if not agrees(o, r)
    ]


def test_enough_cases() -> None:
    """A guard: the generator produced the cases this module promises."""
    assert len(CASES) > 1700
    assert any(c.get(f"{T}TYPE") == "composite" for c in CASES) and any("file" in c for c in CASES)


def test_no_evaluation_shows_a_key(built: list[Built]) -> None:
    """Whatever the case, the lint's findings, notes and JSON never hold a key it could read (JSON, files)."""
    keys = [key(label) for label in LABELS]
    for b in built:
        evaluation = lint_container(b.container(), b.pod_spec(), b.lookup, Expected())
        text = json.dumps(evaluation.to_dict()) + "".join(str(f) for f in evaluation.findings)
        assert not [k for k in keys if k in text], b.oracle_case()["env"]


def test_the_model_matches_the_openlineage_client(built: list[Built], runs: dict[str, Any]) -> None:
    """``resolve(..., airflow=False)`` agrees with ``OpenLineageClient()`` on every case."""
    real = runs["client"].answers()
    assert not [r for r in real if r["kind"] == "crash"]
    ours = [summary(resolve(b.env(), b.read, airflow=False)) for b in built]
    wrong = mismatches(built, real, ours)
    assert not wrong, f"{len(wrong)} of {len(built)} cases differ:\n" + "\n".join(wrong[:20])


def test_the_lint_matches_the_airflow_provider(built: list[Built], runs: dict[str, Any]) -> None:
    """``lint_container`` names the transport, URL and key the provider's client uses, and passes exactly when
    lineage reaches an HTTP endpoint with a key, and only the endpoints configured (skipped locally, failed in CI,
    when Airflow cannot be installed)."""
    if isinstance(runs["airflow"], str):
        if _in_ci():
            pytest.fail(f"{runs['airflow']} (CI must not skip)", pytrace=False)
        pytest.skip(runs["airflow"])
    real = runs["airflow"].answers()
    assert not [r for r in real if r["kind"] == "crash"]
    evaluations = [lint_container(b.container(), b.pod_spec(), b.lookup, Expected()) for b in built]
    ours = [summary(e.transport) for e in evaluations]
    wrong = mismatches(built, real, ours)
    assert not wrong, f"{len(wrong)} of {len(built)} cases differ:\n" + "\n".join(wrong[:20])
    verdicts = [
        f"{json.dumps(b.oracle_case()['env'])} file={b.content!r}: real {r}, lint {[str(f) for f in e.findings]}"
        for b, r, e in zip(built, real, evaluations, strict=True) if passes(e) != (delivers(r) and not also_url(r))
    ]
    assert not verdicts, f"{len(verdicts)} verdicts differ:\n" + "\n".join(verdicts[:20])


@settings(max_examples=examples(300), deadline=None)
@given(st.from_regex(transport._PLAIN_URL_RE, fullmatch=True) | st.text(st.sampled_from("hH tps:/[]@.?#a1\t\n%"),
                                                                         max_size=20))
def test_the_plain_url_shortcut_agrees_with_urlsplit(url: str) -> None:
    """Whatever the shortcut accepts, urlsplit finds a scheme and a host in; on any text the answers agree."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        expected = bool(parts.scheme and parts.netloc)
    except ValueError:
        expected = False
    assert transport._valid_url(url) == expected
    if transport._PLAIN_URL_RE.fullmatch(url.strip()):
        assert expected
