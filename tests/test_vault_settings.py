"""Tests for inject.methods.vault_settings: every Vault setting, its default, its check, all problems at once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from postrenderer.cli.options import OPTIONS
from postrenderer.config.settings import resolve
from postrenderer.errors import ConfigError
from postrenderer.inject.methods import method_for
from postrenderer.inject.methods.vault import VaultMethod
from postrenderer.inject.methods.vault_settings import (
    CONFIG_FILE_DELIVERY,
    FILE_KEY_REF,
    SETTINGS,
    VaultConfig,
    choose_delivery,
    kv_path_problem,
    parse_kube_version,
    vault_config,
)
from tests.manifests import REQUIRED, URL, vcfg


def test_defaults() -> None:
    """Defaults: auth/kubernetes, documented image, vault-agent-config, Kubernetes 1.35 -> fileKeyRef, KV v2."""
    cfg = vcfg()
    assert (cfg.auth_path, cfg.image, cfg.config_map) == ("auth/kubernetes", "hashicorp/vault:2.0.4",
                                                          "vault-agent-config")
    assert (cfg.kube_version, cfg.delivery, cfg.create_config_map, cfg.kv_version) == ("1.35", FILE_KEY_REF, True, 2)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_required_settings_are_named(missing: str) -> None:
    """Each required setting missing is an error naming its flag and values key."""
    options = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(ConfigError, match="invalid config: the vault method needs --" + missing.replace("_", "-")):
        vault_config(options, None, URL)


def test_every_problem_in_one_error() -> None:
    """Four missing settings and a bad one are reported together, each on its own line."""
    with pytest.raises(ConfigError) as info:
        vault_config({"vault_image": "a b"}, {"adress": "x"}, URL)
    message = str(info.value)
    assert message.startswith("invalid config: 6 Vault settings are missing or invalid:\n  - ")
    for part in ("openLineage.vault.adress is not a Vault setting", "needs --vault-addr (or openLineage.vault.addr)",
                 "needs --vault-role", "needs --vault-secret-path", "needs --vault-secret-field",
                 "--vault-image 'a b'"):
        assert part in message
    assert message.count("\n  - ") == 6


# every validated setting, with a valid value: a trailing newline (what `$` let through) must be refused
VALID = {
    "vault_addr": "https://vault.example.com:8200",
    "vault_role": "astro-agent",
    "vault_secret_path": "secret/data/openlineage/api-key",
    "vault_secret_field": "key",
    "vault_auth_path": "auth/kubernetes",
    "vault_image": "hashicorp/vault:2.0.4",
    "vault_config_map": "vault-agent-config",
    "vault_kv_version": "2",
    "kube_version": "1.35",
    "vault_delivery": "file-key-ref",
}


def test_the_table_covers_every_vault_option() -> None:
    """Guard: the newline test below covers every Vault option there is."""
    vault_options = {spec.name for spec in OPTIONS if "vault" in spec.name or spec.name == "kube_version"}
    assert vault_options - set(VALID) == {"no_vault_config_map"}  # a flag: nothing to match
    assert set(VALID) <= {setting.name for setting in SETTINGS}


@pytest.mark.parametrize("option", sorted(VALID))
def test_a_value_must_match_as_a_whole(option: str) -> None:
    """The valid value passes; the same value with a trailing newline (or a leading space) is refused, by name."""
    vcfg(**{option: VALID[option]})
    flag = "--" + option.replace("_", "-")
    for bad in (VALID[option] + "\n", " " + VALID[option]):
        with pytest.raises(ConfigError, match=re.escape(flag)):
            vcfg(**{option: bad})


def test_auth_path_with_a_newline_never_reaches_agent_hcl() -> None:
    """The reported case: --vault-auth-path $'auth/kubernetes\\n' is an error, not a mount_path."""
    with pytest.raises(ConfigError, match=r"--vault-auth-path 'auth/kubernetes\\n': expected an auth mount"):
        vcfg(vault_auth_path="auth/kubernetes\n")


def test_values_block_and_precedence() -> None:
    """camelCase values keys are read; an option beats the values file."""
    block = {"addr": "https://from-values:8200", "role": "r", "secretPath": "kv/app/key", "secretField": "f",
             "authPath": "/auth/k8s/", "kubeVersion": "1.33", "createConfigMap": False, "configMap": "cm",
             "kvVersion": 1}
    cfg = vault_config({"vault_addr": "https://from-cli:8200"}, block, URL)
    assert cfg.addr == "https://from-cli:8200" and cfg.role == "r" and cfg.auth_path == "auth/k8s"
    assert (cfg.delivery, cfg.create_config_map, cfg.config_map, cfg.kv_version) == (CONFIG_FILE_DELIVERY, False,
                                                                                     "cm", 1)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"adress": "x"}, "openLineage.vault.adress is not a Vault setting"),
        ({"kubeVersion": 1.35}, 'openLineage.vault.kubeVersion must be a string, got 1.35 (quote it: "1.35")'),
        ({"createConfigMap": "no"}, "openLineage.vault.createConfigMap must be true or false"),
        ({"role": ["a"]}, "openLineage.vault.role must be a string"),
        ({"kvVersion": True}, "openLineage.vault.kvVersion must be 1 or 2, got True"),
        ({"kvVersion": 3}, "--vault-kv-version '3': the KV secrets engine version is 1 or 2"),
    ],
)
def test_values_types(block: dict[str, Any], message: str) -> None:
    """Unknown keys and wrong types are refused, naming the setting."""
    with pytest.raises(ConfigError, match="invalid config: " + re.escape(message)):
        vault_config(REQUIRED, block, URL)


def test_block_must_be_a_mapping() -> None:
    """openLineage.vault: true is refused."""
    with pytest.raises(ConfigError, match=r"openLineage\.vault must be a mapping"):
        vault_config(REQUIRED, True, URL)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("vault_addr", "vault.example.com", "--vault-addr"),
        ("vault_role", 'a"b ${c}', "--vault-role"),
        ("vault_role", "-astro", "--vault-role"),
        ("vault_secret_path", 'secret/"x"', "--vault-secret-path"),
        ("vault_secret_path", "onlyone", "--vault-secret-path"),
        ("vault_secret_field", "api-key", "--vault-secret-field"),
        ("vault_config_map", "Vault_Config", "--vault-config-map"),
        ("vault_config_map", "a" * 254, "it is 254 characters long"),
        ("vault_image", "hashicorp/vault 1.0", "--vault-image"),
        ("kube_version", "latest", "--kube-version"),
        ("vault_delivery", "env", "--vault-delivery 'env': choose one of file-key-ref, config-file"),
    ],
)
def test_bad_values(option: str, value: str, message: str) -> None:
    """Malformed settings are refused with the flag's name."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        vcfg(**{option: value})


@pytest.mark.parametrize(
    ("path", "version", "problem"),
    [
        ("secret/data/openlineage/api-key", 2, None),
        ("team/kv/data/openlineage", 2, None),  # a nested KV v2 mount
        ("secret/openlineage/api-key", 2, "did you mean secret/data/openlineage/api-key?"),
        ("secret/metadata/openlineage", 2, "did you mean secret/data/openlineage?"),
        ("secret/openlineage/data", 2, "did you mean secret/data/openlineage/data?"),  # data must not be the name
        ("kv/data/openlineage", 1, None),  # a KV v1 mount may hold a secret under data/
        ("kv/openlineage", 1, None),
    ],
)
def test_kv_version_decides_which_paths_can_be_read(path: str, version: int, problem: str | None) -> None:
    """KV version 2 serves <mount>/data/<name>; a path without data is refused with the likely fix."""
    found = kv_path_problem(path, version)
    if problem is None:
        assert found is None
        vcfg(vault_secret_path=path, vault_kv_version=str(version))
    else:
        assert found is not None and problem in found and "--vault-kv-version 1" in found
        with pytest.raises(ConfigError, match=re.escape(problem)):
            vcfg(vault_secret_path=path, vault_kv_version=str(version))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("1.35", (1, 35)), ("v1.33", (1, 33)), ("1.34.2", (1, 34)), ("v1.30.4-eks-a737599", (1, 30)),
     ("v1.35.2+k3s1", (1, 35))],
)
def test_parse_kube_version(text: str, parsed: tuple[int, int]) -> None:
    """MAJOR.MINOR with an optional v, patch and a distribution's suffix (as kubectl version shows it)."""
    assert parse_kube_version(text) == parsed


@pytest.mark.parametrize(
    ("kube", "forced", "delivery"),
    [
        ((1, 29), None, CONFIG_FILE_DELIVERY),
        ((1, 33), None, CONFIG_FILE_DELIVERY),
        ((1, 34), None, CONFIG_FILE_DELIVERY),  # alpha gate, other file format
        ((1, 35), None, FILE_KEY_REF),
        ((1, 38), None, FILE_KEY_REF),
        ((1, 33), CONFIG_FILE_DELIVERY, CONFIG_FILE_DELIVERY),
        ((1, 35), CONFIG_FILE_DELIVERY, CONFIG_FILE_DELIVERY),
        ((1, 35), FILE_KEY_REF, FILE_KEY_REF),
        ((2, 0), FILE_KEY_REF, FILE_KEY_REF),
    ],
)
def test_delivery_matrix(kube: tuple[int, int], forced: str | None, delivery: str) -> None:
    """The delivery follows the Kubernetes version unless forced."""
    assert choose_delivery(kube, forced, f"{kube[0]}.{kube[1]}") == delivery


@pytest.mark.parametrize("kube", ["1.33", "1.34"])
def test_impossible_delivery_is_a_clear_error(kube: str) -> None:
    """fileKeyRef forced on a cluster older than 1.35 is refused, saying what to do instead."""
    with pytest.raises(ConfigError, match=f"file-key-ref needs Kubernetes 1.35 or later, but --kube-version is {kube}"
                       ".*Use --vault-delivery config-file"):
        vcfg(kube_version=kube, vault_delivery=FILE_KEY_REF)


def test_config_file_delivery_needs_the_url() -> None:
    """The config file holds the whole transport, so it needs the URL."""
    with pytest.raises(ConfigError, match=re.escape("needs the OpenLineage URL: set --url or openLineage.url")):
        vcfg(kube_version="1.33", url=None)


def test_resolve_selects_vault_from_the_values_block() -> None:
    """An openLineage.vault block selects the method; values settings reach VaultConfig."""
    values = {"openLineage": {"url": URL, "vault": {
        "addr": "https://v:8200", "role": "r", "secretPath": "secret/data/x", "secretField": "k"}}}
    settings, warnings = resolve({}, values, {}, lambda _: "")
    assert settings.openlineage.method == "vault" and warnings == []
    vault = settings.openlineage.method_settings
    assert isinstance(vault, VaultConfig) and vault.role == "r"
    assert isinstance(method_for(settings.openlineage), VaultMethod)


def test_resolve_warns_about_an_ignored_key() -> None:
    """A plaintext key in the values file is ignored by the vault method, with a warning."""
    values = {"openLineage": {"apiKey": "sk-test-vault-0001"}}
    settings, warnings = resolve({"method": "vault", **REQUIRED}, values, {}, lambda _: "")
    assert settings.openlineage.api_key is None
    assert any("ignored: the vault method" in w for w in warnings)
    assert not any("sk-test-vault-0001" in w for w in warnings)


def test_resolve_disabled_needs_no_vault_settings() -> None:
    """openLineage.enabled: false with a vault block disables lineage without asking for Vault settings."""
    settings, _ = resolve({}, {"openLineage": {"enabled": False, "vault": {}}}, {}, lambda _: "")
    assert settings.openlineage.enabled is False and settings.openlineage.method_settings is None
