"""Tests for postrenderer.write.report: --emit-patches replays to the output, --diff, --explain, redaction."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postrenderer import program as pipeline
from postrenderer.config.settings import ApiKey, OpenLineageConfig, Settings
from postrenderer.errors import ConflictError, OlrenderError
from postrenderer.read import stream
from postrenderer.read.discovery import ComponentRules
from postrenderer.write import report
from tests import programs
from tests.budget import examples
from tests.manifests import VAULT, VAULT_CONFIG_FILE

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ROOT / "fixtures" / "streams"
CASES = ROOT / "fixtures" / "cases"
KEY = "sk-test-report-0001"
SECRETS = (KEY, base64.b64encode(KEY.encode()).decode())
URL = "https://o11y.astronomer.io"
NAMESPACE = "ultraviolet-corona-6870"
CONFIGS = {
    "secret": OpenLineageConfig(api_key=ApiKey(KEY), url=URL, namespace=NAMESPACE),
    "secret-other-url": OpenLineageConfig(api_key=ApiKey(KEY), url="https://lineage.example.com"),
    "existing-secret": OpenLineageConfig(method="existing-secret", secret_name="mine", namespace=NAMESPACE),
    "vault-file-key-ref": OpenLineageConfig(method="vault", url=URL, method_settings=VAULT),
    "vault-config-file": OpenLineageConfig(method="vault", url=URL, method_settings=VAULT_CONFIG_FILE),
    "disabled": OpenLineageConfig(enabled=False),
}


def parsed(data: bytes | str) -> list[Any]:
    """The documents of a stream, parsed the way olrender parses them."""
    text = data.decode() if isinstance(data, bytes) else data
    docs = (stream.parse(s)[0] for s in stream.split(text))
    return [d for d in docs if d is not None]


def replay(data: bytes, config: OpenLineageConfig, rules: ComponentRules | None = None) -> int:
    """Apply the unredacted --emit-patches document to the input and compare with the output; return #ops."""
    settings_ = Settings(openlineage=config, rules=rules or ComponentRules(), overwrite=True, allow_no_match=True)
    result = programs.render(data, settings_)
    emitted = report.patches(result, config.method, redact=False)
    output = programs.output(result)
    documents = {s.index: stream.parse(s)[0] for s in stream.split(data.decode())}
    for entry in emitted["documents"]:
        documents[entry["index"]] = jsonpatch.apply_patch(documents[entry["index"]], entry["patch"])
    replayed = [d for _, d in sorted(documents.items()) if d is not None]
    replayed += [added["document"] for added in emitted["added"]]
    assert replayed == parsed(output)
    return sum(len(e["patch"]) for e in emitted["documents"]) + len(emitted["added"])


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("name", ["helm3.yaml", "helm4.yaml"])
def test_patches_replay_to_the_output_on_fixture_streams(name: str, config: str) -> None:
    """Property: input documents + emitted operations + added documents == olrender's output."""
    assert replay((STREAMS / name).read_bytes(), CONFIGS[config]) > 0


def golden_inputs() -> list[Path]:
    """Every golden case's input file."""
    found = []
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        pointer = case / "input-from"
        found.append((case / pointer.read_text().strip()) if pointer.exists() else case / "input.yaml")
    return [p for p in found if p.exists()]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_patches_replay_to_the_output_on_golden_inputs(config: str) -> None:
    """The same property over every golden input that the configuration can render."""
    replayed = 0
    for path in golden_inputs():
        data = path.read_bytes()
        try:
            programs.render(data, Settings(openlineage=CONFIGS[config], overwrite=True, allow_no_match=True))
        except OlrenderError:
            continue  # an error case for this configuration: no output to compare with
        replay(data, CONFIGS[config])
        replayed += 1
    assert replayed >= 10, "the property must have been checked on many inputs"


ENV_NAMES = ["OPENLINEAGE_URL", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_API_KEY", "OPENLINEAGE_ENDPOINT", "TZ"]
env_entries = st.lists(
    st.tuples(st.sampled_from(ENV_NAMES), st.sampled_from([URL, NAMESPACE, "x", "https://lineage.example.com"])),
    max_size=6,
).map(lambda pairs: [{"name": n, "value": v} for n, v in pairs])


@settings(max_examples=examples(60), deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(env=st.one_of(st.none(), env_entries), annotated=st.booleans(),
       config=st.sampled_from(["secret", "existing-secret", "vault-file-key-ref", "vault-config-file"]))
def test_patches_replay_on_generated_workloads(env: list[dict[str, Any]] | None, annotated: bool,
                                               config: str) -> None:
    """Property over generated containers (missing, equal, different and duplicate env entries)."""
    container: dict[str, Any] = {"name": "agent", "image": "a"}
    if env is not None:
        container["env"] = env
    template: dict[str, Any] = {"spec": {"securityContext": {"fsGroup": 50000}, "containers": [container]}}
    if annotated:
        template["metadata"] = {"annotations": {"a": "b"}}
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x-worker-a"},
           "spec": {"template": template}}
    data = yaml.safe_dump(doc, sort_keys=False).encode()
    replay(data, CONFIGS[config])


def secret_stream() -> bytes:
    """The Helm 3 fixture with a chart-rendered Secret of a different key and a literal token env."""
    data = (STREAMS / "helm3.yaml").read_text()
    data = data.replace(
        "            - name: TZ\n              value: UTC\n",
        "            - name: TZ\n              value: UTC\n            - name: MY_API_TOKEN\n"
        "              value: sk-test-literal-token\n",
    )
    secret = ("---\n# Source: astro-remote-execution-agent/templates/secrets.yaml\napiVersion: v1\nkind: Secret\n"
              "metadata:\n  name: openlineage-api-key-secret\ntype: Opaque\ndata:\n"
              f"  api-key: {base64.b64encode(b'sk-test-old-key').decode()}\n")
    return (data + secret).encode()


def test_emitted_patches_hide_every_secret_value() -> None:
    """Redacted patches: the generated Secret, a replaced Secret value and literal tokens never show."""
    settings_ = Settings(openlineage=CONFIGS["secret"], overwrite=True)
    result = programs.render(secret_stream(), settings_)
    text = json.dumps(report.patches(result, "secret"))
    for secret in (*SECRETS, "sk-test-old-key", base64.b64encode(b"sk-test-old-key").decode()):
        assert secret not in text
    emitted = json.loads(text)
    replaced = next(e for e in emitted["documents"] if e["kind"] == "Secret")
    assert replaced["patch"] == [{"op": "add", "path": "/data/api-key", "value": "<redacted>"}]
    assert emitted["added"] == []  # the stream's own Secret was updated instead


def test_emitted_document_shape() -> None:
    """Index, identity and Helm provenance per changed document; added documents with their filename."""
    result = programs.render((STREAMS / "helm4.yaml").read_bytes(), Settings(openlineage=CONFIGS["secret"]))
    emitted = report.patches(result, "secret")
    assert emitted["format"] == "helm4" and emitted["method"] == "secret"
    first = emitted["documents"][0]
    assert {k: first[k] for k in ("index", "apiVersion", "kind", "namespace", "name", "source")} == {
        "index": 1, "apiVersion": "apps/v1", "kind": "Deployment", "namespace": None,
        "name": "astro-agent-dag-processor",
        "source": "astro-remote-execution-agent/templates/dag-processor-deployment.yaml"}
    added = emitted["added"][0]
    assert added["filename"] == "olrender/openlineage-api-key-secret.yaml"
    assert added["document"]["data"] == {"api-key": "<redacted>"}
    assert added["document"]["metadata"]["annotations"][stream.HELM4_FILENAME] == added["filename"]


def test_redact_op_on_an_env_value_path() -> None:
    """An operation that replaces just the value of a sensitive env entry is redacted too."""
    doc = {"spec": {"env": [{"name": "OPENLINEAGE_API_KEY", "value": "sk-test-1"}]}}
    op = {"op": "replace", "path": "/spec/env/0/value", "value": "sk-test-2"}
    assert report.redact_op(op, doc)["value"] == "<redacted>"
    plain = {"op": "replace", "path": "/spec/env/0/value", "value": "x"}
    assert report.redact_op(plain, {"spec": {"env": [{"name": "TZ", "value": "UTC"}]}})["value"] == "x"


def test_diff_shows_the_change_with_provenance_and_no_secrets() -> None:
    """Unified diff per document: headers name the template and document; only additions for a fresh stream."""
    result = programs.render((STREAMS / "helm3.yaml").read_bytes(), Settings(openlineage=CONFIGS["secret"]))
    text = report.diff(result)
    assert ("--- a/astro-remote-execution-agent/templates/dag-processor-deployment.yaml "
            "(document 12, Deployment astro-agent-dag-processor)") in text
    assert "+++ b/olrender/openlineage-api-key-secret.yaml (added, Secret openlineage-api-key-secret)" in text
    assert "+  api-key: \"<redacted>\"" in text
    changed = [line for line in text.splitlines() if line.startswith(("+", "-"))
               and not line.startswith(("+++", "---"))]
    assert changed and all(line.startswith("+") for line in changed), "a fresh stream only gains lines"
    assert text.count("+            - name: OPENLINEAGE_API_KEY") == 4
    assert not any(secret in text for secret in SECRETS)


def test_diff_marks_changed_secret_values_without_showing_them() -> None:
    """A replaced Secret value shows as ``<redacted>`` -> ``<redacted, changed>``; literal tokens stay hidden."""
    result = programs.render(secret_stream(), Settings(openlineage=CONFIGS["secret"], overwrite=True))
    text = report.diff(result)
    assert "-  api-key: \"<redacted>\"\n+  api-key: \"<redacted, changed>\"\n" in text
    assert "sk-test-literal-token" not in text and "MY_API_TOKEN" in text
    for secret in (*SECRETS, base64.b64encode(b"sk-test-old-key").decode()):
        assert secret not in text


def new_side(text: str, old: list[str]) -> dict[str, list[str]]:
    """Each document's new side, rebuilt from a unified diff and the old sides (by the diff's b/ header)."""
    import re

    sides: dict[str, list[str]] = {}
    lines, i = text.splitlines(keepends=True), 0
    while i < len(lines):
        header = lines[i + 1][4:].strip()
        i += 2
        src, built, position = old.pop(0) if not header.startswith("b/olrender/") else [], [], 0
        while i < len(lines) and lines[i].startswith("@@ "):
            hunk = re.match(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@", lines[i])
            assert hunk is not None
            start, olds, news = int(hunk[1]), int(hunk[2] or 1), int(hunk[3] or 1)
            start = start - 1 if olds else start
            built += src[position:start]
            position = start
            i += 1
            while olds or news:
                if lines[i][0] in " -":
                    position, olds = position + 1, olds - 1
                if lines[i][0] in " +":
                    built.append(lines[i][1:])
                    news -= 1
                i += 1
        sides[header] = built + src[position:]
    return sides


@pytest.mark.parametrize("config", ["secret", "vault-file-key-ref", "vault-config-file"])
def test_diff_shows_the_verified_text_the_stream_gets(config: str) -> None:
    """The diff's new side is each changed document's text exactly as rendered and read back, line for line."""
    result = programs.render((STREAMS / "helm3.yaml").read_bytes(), Settings(openlineage=CONFIGS[config]))
    indices = sorted(result.plan.ops)
    olds = [result.segments[i].source.splitlines(keepends=True) for i in indices]
    sides = [side for name, side in new_side(report.diff(result), olds).items() if not name.startswith("b/olrender/")]
    assert sides == [report.verified_text(result, i).splitlines(keepends=True) for i in indices]
    for i in indices:
        assert report.verified_text(result, i) in programs.output(result).decode()


def test_diff_cannot_show_other_than_the_verified_text() -> None:
    """Whatever the verified text holds, the diff shows (it is not the plan applied again)."""
    result = programs.render((STREAMS / "helm3.yaml").read_bytes(), Settings(openlineage=CONFIGS["secret"]))
    index = min(result.plan.ops)
    result.texts[index] += "# only in the verified text\n"
    assert "+# only in the verified text\n" in report.diff(result)


def test_diff_withholds_a_document_whose_redaction_does_not_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A redaction the reader does not confirm is never shown: the document is withheld, not guessed."""
    from postrenderer.write import edit

    result = programs.render(secret_stream(), Settings(openlineage=CONFIGS["secret"], overwrite=True))
    monkeypatch.setattr(edit, "apply", lambda text, ops, newline="\n", first_line=1: text)
    text = report.diff(result)
    assert "cannot show this document" in text
    assert "sk-test-literal-token" not in text


def test_diff_is_empty_when_nothing_changes() -> None:
    """A stream olrender already rendered gives an empty diff."""
    settings_ = Settings(openlineage=CONFIGS["existing-secret"])
    output = programs.render((STREAMS / "helm4.yaml").read_bytes(), settings_).output
    assert report.diff(programs.render(output, settings_)) == ""


def test_explain_render_reports_every_workload() -> None:
    """Components with rule, container and actions; other workloads with the reason they were skipped."""
    result = programs.render((STREAMS / "helm4.yaml").read_bytes(), Settings(openlineage=CONFIGS["secret"]))
    data = report.explain_render(result, "secret")
    json.dumps(data)  # JSON-ready
    by_name = {w["name"]: w for w in data["workloads"]}
    worker = by_name["astro-agent-worker-default-worker"]
    assert worker["component"] and worker["role"] == "worker" and worker["container"] == "agent"
    assert "pod labels match" in worker["reason"] and worker["containerReason"] == "first container"
    assert {"action": "added", "what": "env", "name": "OPENLINEAGE_API_KEY",
            "message": "added env OPENLINEAGE_API_KEY"} in worker["actions"]
    assert {"action": "kept", "what": "env", "name": "OPENLINEAGE_URL",
            "message": "kept env OPENLINEAGE_URL (already present)"} in worker["actions"]
    sentinel = by_name["astro-agent-sentinel"]
    assert not sentinel["component"] and sentinel["reason"].startswith("no match for labels")
    assert any("Helm hook" in w["reason"] for w in data["workloads"]), "Helm 4 streams carry hooks"
    text = report.explain_text(data)
    assert "document 17 (Deployment/astro-agent-worker-default-worker): component worker" in text
    assert "document 8 (Deployment/astro-agent-sentinel): not a component: no match" in text
    assert "document 2 (Job/astro-agent-post-install): not a component: Helm hook" in text
    assert "added: olrender/openlineage-api-key-secret.yaml (Secret/openlineage-api-key-secret)" in text


def test_explain_survives_a_conflict() -> None:
    """A failing run's result still tells which entries were refused as conflicts (the failure is raised later)."""
    result = pipeline.program((STREAMS / "helm3.yaml").read_bytes(), Settings(openlineage=CONFIGS["secret-other-url"]))
    assert isinstance(result.failure, ConflictError) and result.parts == []
    text = report.explain_text(pipeline.explain(result))
    assert text.count("conflict on env OPENLINEAGE_URL") == 4
    assert "conflict: document 12 (Deployment/astro-agent-dag-processor)" in text


def test_explain_render_lists_lint_findings() -> None:
    """Render-mode lint findings appear under their workload."""
    data = (STREAMS / "helm3.yaml").read_text().replace(
        "            - name: TZ\n", "            - name: OPENLINEAGE__TRANSPORT__TYPE\n              value: http\n"
        "            - name: TZ\n", 1)
    result = programs.render(data.encode(), Settings(openlineage=CONFIGS["secret"]))
    data = report.explain_render(result, "secret")
    text = report.explain_text(data)
    assert "  problem: container 'agent': OPENLINEAGE__TRANSPORT__TYPE: configures the OpenLineage transport" in text
    (finding,) = {f["code"]: f for w in data["workloads"] for f in w["findings"]}.values()
    assert (finding["code"], finding["container"], finding["variable"]) == (
        "url-missing", "agent", "OPENLINEAGE__TRANSPORT__TYPE")
    assert finding["message"].startswith("container 'agent': OPENLINEAGE__TRANSPORT__TYPE: configures")


def test_passwords_in_urls_are_hidden() -> None:
    """A URL with credentials keeps its shape but not its password."""
    doc = {"env": [{"name": "DATABASE", "value": "postgresql://agent:sk-test-pw@db:5432/x"}]}
    assert report.redact_document(doc) == {"env": [{"name": "DATABASE",
                                                    "value": "postgresql://agent:<redacted>@db:5432/x"}]}
