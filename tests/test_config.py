"""Tests for postrenderer.config.settings: precedence, values files, key sources, errors."""

from __future__ import annotations

from typing import Any

import pytest

from postrenderer.config.settings import ApiKey, deep_merge, load_values, resolve
from postrenderer.errors import ConfigError

KEY = "sk-test-config-0001"


def settings(options: dict[str, Any] | None = None, values: dict[str, Any] | None = None,
             environ: dict[str, str] | None = None, files: dict[str, str] | None = None) -> Any:
    """Resolve with in-memory inputs; return (settings, warnings)."""
    return resolve(options or {}, values or {}, environ or {}, lambda p: (files or {})[p])


def test_deep_merge_like_helm() -> None:
    """Maps merge, lists and scalars replace, null deletes."""
    base = {"a": {"b": 1, "c": [1]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [2], "e": 3}, "d": None}) == {"a": {"b": 1, "c": [2], "e": 3}}


def test_load_values_later_files_win() -> None:
    """The second values file overrides the first."""
    merged = load_values([("a.yaml", "openLineage:\n  url: one\n  namespace: ns\n"),
                          ("b.yaml", "openLineage:\n  url: two\n")])
    assert merged["openLineage"] == {"url": "two", "namespace": "ns"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1\n", "values file v.yaml: malformed YAML at line 2"),
        ("- 1\n", "values file v.yaml: must be a mapping, got list"),
        ("openLineage: 3\n", "openLineage must be a mapping"),
        ("openLineage:\n  url: [x]\n", "openLineage.url must be a string, got list"),
        ("openLineage:\n  enabled: 'no'\n", "openLineage.enabled must be true or false"),
    ],
)
def test_bad_values_files(text: str, message: str) -> None:
    """Malformed values files name the file and the setting."""
    with pytest.raises(ConfigError, match=message):
        load_values([("v.yaml", text)])


def test_method_inferred_from_values() -> None:
    """apiKeySecret selects existing-secret; apiKey selects secret."""
    s, _ = settings(values={"openLineage": {"apiKeySecret": "mine"}})
    assert (s.openlineage.method, s.openlineage.secret_name) == ("existing-secret", "mine")
    s, warnings = settings(values={"openLineage": {"apiKey": KEY}})
    assert s.openlineage.method == "secret"
    assert s.openlineage.api_key == ApiKey(KEY)
    assert any("plaintext key" in w for w in warnings)


def test_both_key_settings_is_an_error() -> None:
    """apiKey and apiKeySecret together are refused, like the chart does."""
    with pytest.raises(ConfigError, match=r"openLineage\.apiKey and openLineage\.apiKeySecret are both set"):
        settings(values={"openLineage": {"apiKey": KEY, "apiKeySecret": "s"}})


def test_key_precedence_file_then_env_then_values() -> None:
    """--api-key-file beats OPENLINEAGE_API_KEY beats openLineage.apiKey."""
    values = {"openLineage": {"apiKey": "sk-test-from-values"}}
    env = {"OPENLINEAGE_API_KEY": "sk-test-from-env-0001"}
    s, _ = settings({"api_key_file": "k"}, values, env, {"k": "sk-test-from-file-0001\n"})
    assert s.openlineage.api_key == ApiKey("sk-test-from-file-0001")
    s, _ = settings({}, values, env)
    assert s.openlineage.api_key == ApiKey("sk-test-from-env-0001")
    s, _ = settings({}, values, {})
    assert s.openlineage.api_key == ApiKey("sk-test-from-values")


def test_cli_beats_values() -> None:
    """Options given on the command line or environment beat values files."""
    s, _ = settings({"url": "https://cli"}, {"openLineage": {"url": "https://values", "namespace": "ns"}},
                    {"OPENLINEAGE_API_KEY": KEY})
    assert (s.openlineage.url, s.openlineage.namespace) == ("https://cli", "ns")


@pytest.mark.parametrize("raw", ["", "  \n", "sk-line-one\nsk-line-two"])
def test_bad_keys(raw: str) -> None:
    """Empty or multi-line keys are refused, without echoing them."""
    with pytest.raises(ConfigError) as info:
        settings(environ={"OPENLINEAGE_API_KEY": raw})
    assert "environment variable OPENLINEAGE_API_KEY" in str(info.value)
    assert not raw.strip() or raw not in str(info.value)


def test_missing_key_source() -> None:
    """The secret method without any key source says where a key can come from."""
    with pytest.raises(ConfigError, match="--api-key-file FILE, the environment variable OPENLINEAGE_API_KEY"):
        settings()


def test_existing_secret_needs_a_name() -> None:
    """--method existing-secret without a Secret name is refused."""
    with pytest.raises(ConfigError, match="--api-key-secret NAME"):
        settings({"method": "existing-secret"})


def test_disabled_needs_no_key() -> None:
    """openLineage.enabled: false needs no key source."""
    s, _ = settings(values={"openLineage": {"enabled": False}})
    assert s.openlineage.enabled is False


def test_api_key_never_shows() -> None:
    """repr, str and format of the key hide it; only reveal() returns it."""
    s, _ = settings(environ={"OPENLINEAGE_API_KEY": KEY})
    key = s.openlineage.api_key
    assert key is not None and key.reveal() == KEY
    assert all(KEY not in text for text in (repr(key), str(key), f"{key}", repr([key]), repr(s)))


def test_key_file_and_existing_secret_options_conflict() -> None:
    """Two explicit, contradictory key sources are refused instead of one silently winning."""
    with pytest.raises(ConfigError, match="--api-key-file and --api-key-secret are both set"):
        settings({"api_key_file": "k", "api_key_secret": "mine"}, files={"k": KEY})


def test_key_file_beats_values_secret() -> None:
    """--api-key-file on the command line beats openLineage.apiKeySecret from values, with a warning."""
    s, warnings = settings({"api_key_file": "k"}, {"openLineage": {"apiKeySecret": "mine"}}, files={"k": KEY})
    assert s.openlineage.method == "secret"
    assert any("apiKeySecret is ignored" in w for w in warnings)


@pytest.mark.parametrize(("options", "values", "fragment"), [
    ({"api_key_secret": "Bad_Name"}, {}, "--api-key-secret 'Bad_Name' is not a valid Secret name: 'B' is not allowed"),
    ({}, {"apiKeySecret": "team key"}, "openLineage.apiKeySecret 'team key' is not a valid Secret name: ' '"),
    ({"secret_name": "a..b"}, {}, "--secret-name 'a..b' is not a valid Secret name: it has an empty part"),
    ({"api_key_secret": "mine", "api_key_secret_key": "api key"}, {},
     "--api-key-secret-key 'api key' is not a valid key in a Secret"),
    ({"container": "Agent"}, {}, "--container 'Agent' is not a valid container name"),
])
def test_names_kubernetes_refuses_are_refused(options: dict[str, Any], values: dict[str, Any], fragment: str) -> None:
    """Every name option and values key is checked against Kubernetes' rules, described in words."""
    with pytest.raises(ConfigError) as caught:
        settings({"api_key_secret": "mine", **options} if "apiKeySecret" not in values else options,
                 {"openLineage": values}, {"OPENLINEAGE_API_KEY": KEY})
    assert fragment in str(caught.value)


def test_a_key_pasted_as_a_secret_name_is_refused_unrepeated() -> None:
    """--api-key-secret sk_LIVE_abc (the key in the wrong option) is exit 2, and the message does not show it."""
    with pytest.raises(ConfigError) as caught:
        settings({"api_key_secret": "sk_LIVE_abc"})
    assert "sk_LIVE_abc" not in str(caught.value) and "looks like an API key" in str(caught.value)


def test_the_configured_key_as_a_name_is_refused_unrepeated() -> None:
    """The very key olrender was given, as --secret-name, even though it would be a valid name."""
    key = "abcdefghijklmnopqrstuvwxyz0123"
    with pytest.raises(ConfigError) as caught:
        settings({"secret_name": key}, environ={"OPENLINEAGE_API_KEY": key})
    assert key not in str(caught.value)


def test_all_bad_names_are_reported_at_once() -> None:
    """Two bad names: one error listing both."""
    with pytest.raises(ConfigError) as caught:
        settings({"api_key_secret": "Bad_Name", "secret_name": "-x"}, environ={"OPENLINEAGE_API_KEY": KEY})
    message = str(caught.value)
    assert message.startswith("invalid config: 2 names are invalid:\n  - --api-key-secret")
    assert "\n  - --secret-name '-x'" in message


def test_values_files_are_read_as_helm_reads_them() -> None:
    """``=`` and ``<<`` values and merge keys are what Helm makes of them (they were refused before); ``y`` is true."""
    values = load_values([("v.yaml", "workers:\n- env: [{name: SEP, value: =}]\nother: <<\n"
                                             "merged: {<<: {a: 1}, b: 2}\nopenLineage:\n  enabled: y\n")])
    assert values == {"workers": [{"env": [{"name": "SEP", "value": "="}]}], "other": "<<",
                      "merged": {"a": 1, "b": 2}, "openLineage": {"enabled": True}}


TEXT_OPTIONS = {"url": "openLineage.url", "namespace": "openLineage.namespace", "endpoint": "openLineage.endpoint",
                "vault_addr": "openLineage.vault.addr", "vault_image": "openLineage.vault.image"}


def values_with(path: str, value: str) -> dict[str, Any]:
    """A values tree holding value at a dotted path (``openLineage.vault.addr``)."""
    *parents, last = path.split(".")
    tree: dict[str, Any] = {last: value}
    for parent in reversed(parents):
        tree = {parent: tree}
    return tree


@pytest.mark.parametrize("option", sorted(TEXT_OPTIONS))
@pytest.mark.parametrize(("value", "problem"), [("", "the value is empty"), (" ", "the value is empty"),
                                                ("https://o11y\udcff", "the value is not UTF-8 text")],
                         ids=["empty", "blank", "undecodable"])
def test_text_settings_must_be_non_empty_utf8(option: str, value: str, problem: str) -> None:
    """URL, namespace, endpoint, Vault address and image: refused from an option and from the values, by name."""
    flag = "--" + option.replace("_", "-")
    with pytest.raises(ConfigError, match=f"^invalid config: {flag}: {problem}"):
        settings({option: value}, environ={"OPENLINEAGE_API_KEY": KEY})
    with pytest.raises(ConfigError, match=f"^invalid config: {TEXT_OPTIONS[option]}: {problem}"):
        settings(values=values_with(TEXT_OPTIONS[option], value), environ={"OPENLINEAGE_API_KEY": KEY})


def test_every_bad_text_setting_is_named_in_one_error() -> None:
    """Several bad values: one error that names each."""
    with pytest.raises(ConfigError) as caught:
        settings({"url": "", "namespace": "\udcff"}, values_with("openLineage.endpoint", ""))
    message = str(caught.value)
    assert "3 settings are invalid" in message
    for part in ("--url: the value is empty", "--namespace: the value is not UTF-8",
                 "openLineage.endpoint: the value is empty"):
        assert part in message
    assert "\udcff" not in message


@pytest.mark.parametrize("selector", ["", "  "])
def test_an_empty_component_selector_is_refused(selector: str) -> None:
    """An empty --component-selector would match nothing: refused with what to do instead."""
    with pytest.raises(ConfigError, match="--component-selector: the label selector is empty; give one"):
        settings({"component_selector": selector}, environ={"OPENLINEAGE_API_KEY": KEY})


def test_an_undecodable_variable_exits_2_naming_it() -> None:
    """Through the command: OLRENDER_URL with a byte that is not UTF-8 exits 2 and names the variable."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    stream = (Path(__file__).resolve().parent.parent / "fixtures" / "streams" / "helm3.yaml").read_bytes()
    env = {**os.environ, "OPENLINEAGE_API_KEY": KEY, "OLRENDER_URL": "https://o11y\udcff"}
    proc = subprocess.run([sys.executable, "-m", "postrenderer"], input=stream, capture_output=True, env=env,
                          timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert b"error: invalid config: OLRENDER_URL: the value is not UTF-8 text" in proc.stderr
