"""``--method vault-injector`` through real Helm 4 (the plugin installed from the repository), configured by variables.

    OLRENDER_METHOD=vault-injector OLRENDER_VAULT_ROLE=... helm template astro-agent CHART --post-renderer olrender

Helm prints every component with the injector's annotations and the two variables
naming the file; nothing is added to the stream and every other document comes
back as the chart rendered it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from postrenderer.inject.methods.vault_injector import CONFIG_PATH
from tests.realagent.injector import annotation_problems
from tests.realclients.clients import (
    CHART,
    COMPONENTS,
    MAIN_CONTAINER,
    OL_NAMESPACE,
    RELEASE,
    VAULT_PATH,
    VAULT_ROLE,
    Client,
    Runs,
    by_key,
    parse_documents,
)

pytestmark = pytest.mark.realclient

ENV = {"OLRENDER_METHOD": "vault-injector", "OLRENDER_VAULT_ROLE": VAULT_ROLE, "OLRENDER_VAULT_SECRET_PATH": VAULT_PATH,
       "OLRENDER_VAULT_SECRET_FIELD": "key", "OLRENDER_NAMESPACE": OL_NAMESPACE,
       "OLRENDER_URL": "https://o11y.astronomer.io"}
PREFIX = "vault.hashicorp.com/"


@pytest.fixture(scope="module")
def runs(helm4: Client, pool: ThreadPoolExecutor) -> Runs:
    """The chart without olrender and with the vault-injector method."""
    started = Runs(helm4, pool)
    started.submit("baseline", "template", RELEASE, str(CHART))
    started.submit("injector", "template", RELEASE, str(CHART), "--post-renderer", "olrender", env=ENV)
    return started


def test_components_get_the_annotations_and_nothing_else_changes(runs: Runs) -> None:
    """Each component: the injector's annotations and the file's variables; every other document unchanged."""
    printed = by_key(parse_documents(runs["injector"].ok().stdout))
    baseline = by_key(parse_documents(runs["baseline"].ok().stdout))
    assert printed.keys() == baseline.keys()
    for key, doc in printed.items():
        if key[0] != "Deployment" or key[1] not in COMPONENTS:
            assert doc.obj == baseline[key].obj, key
            continue
        annotations = doc.obj["spec"]["template"]["metadata"]["annotations"]
        assert annotation_problems(annotations) == []
        assert annotations[f"{PREFIX}agent-inject"] == "true"
        assert annotations[f"{PREFIX}agent-inject-containers"] == MAIN_CONTAINER
        assert annotations[f"{PREFIX}agent-inject-secret-openlineage.yml"] == VAULT_PATH
        assert "apiKey: {{ $key | toJSON }}" in annotations[f"{PREFIX}agent-inject-template-openlineage.yml"]
        main = next(c for c in doc.obj["spec"]["template"]["spec"]["containers"] if c["name"] == MAIN_CONTAINER)
        env = {e["name"]: e.get("value") for e in main["env"]}
        assert env["OPENLINEAGE_CONFIG"] == env["AIRFLOW__OPENLINEAGE__CONFIG_PATH"] == CONFIG_PATH
        assert env["OPENLINEAGE_NAMESPACE"] == OL_NAMESPACE
