"""Tests for postrenderer.config.kubenames: Kubernetes' name rules, checked against the real helm and kubectl.

The oracle for object names is ``helm lint`` (helm 4.3.1), which validates ``metadata.name`` with
Kubernetes' own apimachinery code: Secrets and ConfigMaps as DNS-1123 subdomains, a Namespace as a
DNS-1123 label (the same ``IsDNS1123Label`` the API server applies to container names). The oracle
for keys inside a Secret is ``kubectl create secret generic --from-literal`` (kubectl 1.37.1), which
runs ``IsConfigMapKey`` before it prints anything.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from postrenderer.config import kubenames
from postrenderer.config.kubenames import CONFIG_MAP, CONTAINER, SECRET, SECRET_KEY, check_name, looks_like_key, problem
from tests.tools.pytest_realtools import RealTool
from tests.tools.realtools import helm_env

EDGES = [
    "a", "0", "-", ".", "..", "a.b", "a..b", "a.-b", "a-.b", "-a", "a-", "a-b", "a--b", "A", "Bad_Name",
    "sk_LIVE_abc", "openlineage-api-key-secret", "api-key", "api_key", "API_KEY", ".a", "..a", "a.", "_a",
    "a b", "a/b", "a:b", "é", "ab\u00e9", "1.2.3", "x" * 63, "x" * 64, "x" * 253, "x" * 254,
    ("a" * 62 + ".") * 4 + "a", ("a" * 63 + ".") * 4, "a" * 252 + ".", "a.b." * 60 + "c",
]


def generated(count: int, seed: int) -> list[str]:
    """Names drawn from the characters the rules care about, near and past the length limits."""
    rng = random.Random(seed)
    alphabet = "abz09-._A"
    names = []
    for _ in range(count):
        length = rng.choice([1, 2, 3, 5, 8, 62, 63, 64, 252, 253, 254])
        weights = [12, 12, 4, 4, 4, 3, 2, 1, 1]
        names.append("".join(rng.choices(alphabet, weights, k=length)))
    return names


NAMES = sorted(set(EDGES + generated(240, 1)))


@pytest.mark.parametrize(("value", "rule", "expected"), [
    ("openlineage-api-key-secret", SECRET, None),
    ("vault-agent-config", CONFIG_MAP, None),
    ("a.b.c", SECRET, None),
    ("agent", CONTAINER, None),
    ("api-key", SECRET_KEY, None),
    ("API_KEY.v1", SECRET_KEY, None),
    ("", SECRET, "it is empty"),
    ("Bad_Name", SECRET, "'B' is not allowed (use lowercase)"),
    ("bad_name", SECRET, "'_' is not allowed"),
    ("a..b", SECRET, "it has an empty part between dots"),
    ("a.-b", SECRET, "a part starts or ends with '-'"),
    ("-agent", CONTAINER, "it starts or ends with '-'"),
    ("a.b", CONTAINER, "'.' is not allowed"),
    ("x" * 64, CONTAINER, "it is 64 characters long"),
    ("..data", SECRET_KEY, "it cannot be '.' or '..' or start with '..'"),
])
def test_problem_says_what_is_wrong(value: str, rule: kubenames.Rule, expected: str | None) -> None:
    """The first problem, in words, or None for a name Kubernetes accepts."""
    assert problem(value, rule) == expected


@pytest.mark.parametrize("value", ["sk_LIVE_abc", "sk-demo-key-0123456789", "SK-x", "eyJhbGciOiJIUzI1NiJ9.e30.x",
                                   "Ab3dEf6hIj9kLm2nOp"])
def test_a_key_given_as_a_name_is_refused_without_repeating_it(value: str) -> None:
    """A value that looks like an API key is refused, and the message describes it instead of quoting it."""
    assert looks_like_key(value)
    message = check_name(value, SECRET, "--api-key-secret")
    assert message is not None and value not in message
    assert f"the value ({len(value)} characters) looks like an API key" in message


@pytest.mark.parametrize("value", ["openlineage-api-key-secret", "team-openlineage-key", "skeleton", "eyjafjalla",
                                   "my-secret-2024"])
def test_names_are_not_taken_for_keys(value: str) -> None:
    """Ordinary names, also with digits or an unlucky start, are names."""
    assert not looks_like_key(value)
    assert check_name(value, SECRET, "--api-key-secret") is None


def test_the_configured_key_is_never_a_name() -> None:
    """Even a key that would be a valid name is refused when it is the key olrender was given."""
    key = "abcdefghijklmnopqrstuvwxyz012345"
    assert problem(key, SECRET) is None and not looks_like_key(key)
    message = check_name(key, SECRET, "--secret-name", known_keys=(key,))
    assert message is not None and key not in message


def test_long_values_are_shortened_in_messages() -> None:
    """A 254-character name is not printed whole."""
    message = check_name("a" * 254, SECRET, "--secret-name")
    assert message is not None and "a" * 61 not in message and "it is 254 characters long" in message


def lint_verdicts(helm: Path, names: list[str], kind: str, tmp_path: Path) -> dict[str, bool]:
    """Name -> whether ``helm lint`` accepts it as the metadata.name of a ``kind``."""
    chart = tmp_path / f"lint-{kind.lower()}"
    templates = chart / "templates"
    templates.mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: names\nversion: 0.1.0\n")
    for i, name in enumerate(names):  # one file per name: helm names the file of each refused object
        (templates / f"n{i:04d}.yaml").write_text(
            f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {json.dumps(name)}\n"
        )
    proc = subprocess.run([str(helm), "lint", str(chart)], capture_output=True, text=True, timeout=120,
                          env=helm_env(tmp_path / f"helm-{kind.lower()}"), check=False)
    assert "1 chart(s) linted" in proc.stdout, proc.stdout + proc.stderr
    refused = {int(i) for i in re.findall(
        r"templates/n(\d{4})\.yaml: object name does not conform to Kubernetes naming requirements", proc.stdout)}
    assert len(re.findall(r"\[(?:ERROR|WARNING)\]", proc.stdout)) == len(refused), proc.stdout
    return {name: i not in refused for i, name in enumerate(names)}


@pytest.mark.realclient
@pytest.mark.parametrize(("kind", "rule"), [("Secret", SECRET), ("ConfigMap", CONFIG_MAP), ("Namespace", CONTAINER)])
def test_name_rules_agree_with_helm_lint(kind: str, rule: kubenames.Rule, real_tool: RealTool,
                                         tmp_path: Path) -> None:
    """olrender accepts exactly the names Kubernetes' own validation (in helm lint) accepts."""
    verdicts = lint_verdicts(real_tool("helm-4.3.1"), NAMES, kind, tmp_path)
    assert sum(verdicts.values()) > 20 and sum(not ok for ok in verdicts.values()) > 20, "both kinds of name"
    disagree = {name: ok for name, ok in verdicts.items() if (problem(name, rule) is None) != ok}
    assert not disagree, f"helm lint's verdicts where olrender differs: {disagree}"


@pytest.mark.realclient
def test_secret_key_rule_agrees_with_kubectl(real_tool: RealTool) -> None:
    """olrender accepts exactly the keys kubectl accepts in a Secret's data."""
    kubectl = real_tool("kubectl-1.37.1")
    keys = sorted(set(EDGES + generated(40, 2)) - {""})
    env = {**os.environ, "KUBECONFIG": os.devnull}

    def accepted(key: str) -> bool:
        proc = subprocess.run([str(kubectl), "create", "secret", "generic", "x", f"--from-literal={key}=v",
                               "--dry-run=client", "-o", "name"], capture_output=True, text=True, timeout=60,
                              env=env, check=False)
        assert proc.returncode == 0 or "is not valid key name for a Secret" in proc.stderr, proc.stderr
        return proc.returncode == 0

    with ThreadPoolExecutor(max_workers=4) as pool:
        verdicts = dict(zip(keys, pool.map(accepted, keys), strict=True))
    assert sum(verdicts.values()) > 20 and sum(not ok for ok in verdicts.values()) > 10, "both kinds of key"
    disagree = {key: ok for key, ok in verdicts.items() if (problem(key, SECRET_KEY) is None) != ok}
    assert not disagree, f"kubectl's verdicts where olrender differs: {disagree}"
