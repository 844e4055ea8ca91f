"""Tests for postrenderer.program: the whole post-renderer without I/O."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from postrenderer import program as pipeline
from postrenderer.config.settings import ApiKey, OpenLineageConfig, Settings
from postrenderer.errors import NoMatchError
from postrenderer.read import stream
from postrenderer.read.discovery import ComponentRules
from tests import programs
from tests.budget import examples

STREAMS = Path(__file__).resolve().parent.parent / "fixtures" / "streams"
KEY = "sk-test-pipeline-0001"
SETTINGS = Settings(openlineage=OpenLineageConfig(
    api_key=ApiKey(KEY), url="https://o11y.astronomer.io", namespace="ultraviolet-corona-6870"))
ROLES = {"worker", "dag-processor", "triggerer"}


def main_containers(docs: list[dict]) -> dict[str, dict]:
    """Main container of each component Deployment, by name."""
    found = {}
    for doc in docs:
        labels = doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
        if doc.get("kind") == "Deployment" and labels.get("component") in ROLES:
            found[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]["containers"][0]
    return found


@pytest.mark.parametrize("name", ["helm3.yaml", "helm4.yaml"])
def test_fixture_streams(name: str) -> None:
    """Every component's main container gets the key; nothing else changes; a rerun is a no-op."""
    data = (STREAMS / name).read_bytes()
    result = programs.render(data, SETTINGS)
    docs = [d for d in yaml.safe_load_all(result.output) if d]
    mains = main_containers(docs)
    assert sorted(mains) == ["astro-agent-dag-processor", "astro-agent-triggerer",
                             "astro-agent-worker-default-worker", "astro-agent-worker-gpu-worker"]
    for container in mains.values():
        keys = [e for e in container["env"] if e["name"] == "OPENLINEAGE_API_KEY"]
        assert keys == [{"name": "OPENLINEAGE_API_KEY", "valueFrom": {"secretKeyRef": {
            "name": "openlineage-api-key-secret", "key": "api-key"}}}]
    before = stream.split(data.decode())
    after = {s.text for s in stream.split(result.output.decode())}
    untouched = [s for s in before if s.index not in result.plan.ops]
    assert all(s.text in after for s in untouched), "untouched documents are byte-identical"
    assert programs.render(result.output, SETTINGS).output == result.output


def test_helm4_changed_documents_keep_their_filename_annotation() -> None:
    """Under Helm 4 every changed document still carries its filename annotation."""
    result = programs.render((STREAMS / "helm4.yaml").read_bytes(), SETTINGS)
    for doc in yaml.safe_load_all(result.output):
        assert stream.HELM4_FILENAME in doc["metadata"]["annotations"]


def test_helm3_changed_documents_keep_their_source_line() -> None:
    """Under Helm 3 every document keeps its ``# Source:`` line, and the Secret gets one."""
    output = programs.render((STREAMS / "helm3.yaml").read_bytes(), SETTINGS).output.decode()
    segments = stream.split(output)
    assert all(s.text.startswith("---\n# Source: ") for s in segments)
    assert segments[-1].text.startswith("---\n# Source: olrender/openlineage-api-key-secret.yaml\n")


@pytest.mark.parametrize("data", [b"", b"\n", b"  \n\n"])
def test_empty_input_answers_with_a_comment(data: bytes) -> None:
    """Helm 4 refuses empty output, so an empty stream gets a comment line back."""
    assert programs.render(data, SETTINGS).output == pipeline.EMPTY_OUTPUT.encode()


def test_no_component_is_an_error_unless_allowed() -> None:
    """A non-empty stream without components fails, or passes through with allow_no_match."""
    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
    with pytest.raises(NoMatchError, match="no agent component"):
        programs.render(data, SETTINGS)
    allowed = Settings(openlineage=SETTINGS.openlineage, allow_no_match=True)
    result = programs.render(data, allowed)
    assert result.output == data and result.plan.new_documents == []


def test_key_is_only_in_the_secret_data() -> None:
    """The plaintext key never appears in the output; its base64 appears once, in the Secret."""
    import base64

    output = programs.render((STREAMS / "helm3.yaml").read_bytes(), SETTINGS).output.decode()
    assert KEY not in output
    assert output.count(base64.b64encode(KEY.encode()).decode()) == 1


COMPONENT = (
    "---\n# Source: agent/templates/worker.yaml\napiVersion: apps/v1\n{kind}\nmetadata:\n  name: a-worker-x\n"
    "  labels: {{app: astro-agent, component: worker}}\nspec:\n  template:\n    spec:\n"
    "      containers:\n        - name: worker\n          image: x\n"
)


def test_untouched_non_ascii_documents_pass_through() -> None:
    """Documents olrender leaves alone are written back byte for byte, UTF-8 included."""
    other = "---\n# Source: a/cm.yaml\nkind: ConfigMap\nmetadata:\n  name: café\ndata:\n  x: 'naïve ☃'\n"
    data = (other + COMPONENT.format(kind="kind: Deployment") + other).encode()
    result = programs.render(data, SETTINGS)
    assert result.output.startswith(other.encode())
    assert other.encode() in result.output[len(other):]
    assert b"OPENLINEAGE_API_KEY" in result.output


@pytest.mark.parametrize("kind", ['"kind": Deployment', "kind: 'Deployment'", "kind: !!str Deployment"])
def test_components_whose_kind_the_text_hides_are_found(kind: str) -> None:
    """A kind written other than plainly is read by a full parse, never skipped."""
    result = programs.render(COMPONENT.format(kind=kind).encode(), SETTINGS)
    assert [r.name for r in result.plan.components] == ["a-worker-x"]


GENERATED = Path(__file__).resolve().parent.parent / "fixtures" / "generated"
VAULT_SETTINGS = {"method": "vault", "vault_addr": "https://vault.example.com:8200", "vault_role": "astro-agent",
                  "vault_secret_path": "secret/data/openlineage/api-key", "vault_secret_field": "key"}


def method_settings(kube_version: str | None) -> Settings:
    """The Vault method's settings (with a Kubernetes version: the delivery that version allows)."""
    from postrenderer.config import settings as config

    given = {**VAULT_SETTINGS, "url": "https://o11y.example", "kube_version": kube_version}
    return config.resolve(given, {}, {"OPENLINEAGE_API_KEY": KEY}, lambda path: "")[0]


@pytest.mark.parametrize("path", sorted(GENERATED.glob("*.yaml")), ids=lambda p: p.stem)
@pytest.mark.parametrize("kube_version", [None, "1.33", "1.30"])
def test_generated_shapes_read_back_as_input_plus_plan(path: Path, kube_version: str | None) -> None:
    """Each kept shape (issue 18's silent damage among them): the output reads as the input plus the operations."""
    import jsonpatch

    data = path.read_bytes()
    for settings_ in (SETTINGS, method_settings(kube_version)):
        result = programs.render(data, settings_)
        (index, ops), = result.plan.ops.items()
        before = stream.parse(stream.split(data.decode())[index - 1])[0]
        after = stream.parse(stream.split(result.output.decode())[index - 1])[0]
        assert after == jsonpatch.apply_patch(before, ops)
        assert programs.render(result.output, settings_).output == result.output, "a second run changes nothing"


def test_an_edit_that_reads_back_differently_is_refused_with_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verify before writing: an editor that drops what it should insert is exit 3 naming the line, no output."""
    from postrenderer.errors import InputError
    from postrenderer.write import edit

    monkeypatch.setattr(edit, "apply", lambda text, ops, newline="\n", first_line=1: text)
    data = (GENERATED / "issue-volumes-last-empty.yaml").read_bytes()
    with pytest.raises(InputError, match=r"document 1 \(Deployment/agent-worker-default\) at line 1: after "
                       r"olrender's edit, Kubernetes would read /spec/template/metadata differently from the plan: it "
                       r"lacks the key 'annotations' \(the edit at line 8\); olrender cannot edit this layout"):
        programs.render(data, SETTINGS)


def test_an_edit_that_breaks_the_yaml_is_refused_with_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited document that would not parse is exit 3 with a line, never output."""
    from postrenderer.errors import InputError
    from postrenderer.write import edit

    monkeypatch.setattr(edit, "apply", lambda text, ops, newline="\n", first_line=1: text + "  - broken: [\n")
    data = (GENERATED / "issue-env-last-empty.yaml").read_bytes()
    with pytest.raises(InputError, match=r"document 1 .*: the edited document would not be valid YAML at line \d+"):
        programs.render(data, SETTINGS)


def test_a_percent_line_inside_a_quoted_scalar_does_not_split_the_document() -> None:
    """``%`` at column 0 in a double-quoted scalar's continuation is text, not a directive (kubectl agrees)."""
    text = 'kind: ConfigMap\ndata:\n  x: "first\n%second"\n---\nkind: ConfigMap\n...\n%YAML 1.1\n---\nkind: Pod\n'
    assert [s.text for s in stream.split(text)] == [
        'kind: ConfigMap\ndata:\n  x: "first\n%second"\n', "---\nkind: ConfigMap\n...\n", "%YAML 1.1\n---\nkind: Pod\n",
    ]
def counting_classify(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Wrap the one classification function; the list receives each classified workload's name."""
    from postrenderer.read import analysis, discovery

    calls: list[str | None] = []

    def counted(workload: Any, rules: Any) -> tuple[str | None, str]:
        calls.append(workload.name)
        return discovery.classify(workload, rules)

    monkeypatch.setattr(analysis, "classify", counted)
    return calls


@pytest.mark.parametrize("mode", pipeline.MODES)
def test_each_workload_is_classified_once_per_run(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planning, lint and --check take the analysis' classification: at most one call per workload, in every mode."""
    calls = counting_classify(monkeypatch)
    data = (STREAMS / "helm3.yaml").read_bytes()
    result = pipeline.program(data, SETTINGS, mode)
    assert result.failure is None or mode == "check"  # (the stream as the chart renders it has no key)
    workloads = result.check.workloads if result.check is not None else result.plan.reports
    names = [w.report.name if hasattr(w, "report") else w.name for w in workloads]
    assert len(names) >= 5 and len(calls) == len(set(calls)) and set(calls) <= set(names)  # none twice
    assert sorted(set(names) - set(calls)) == ["astro-agent-sentinel"]  # (its text rules it out: classified unread)


def test_a_sketched_component_is_classified_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A workload is sketched first; when the sketch shows a component, the parsed one keeps its class."""
    padding = [{"name": f"PAD_{i:03}", "value": "x" * 40} for i in range(40)]  # (any size is sketched)
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "etl"}, "spec": {"template": {
        "metadata": {"labels": {"team": "data"}}, "spec": {"containers": [{"name": "main", "env": padding}]}}}}
    data = yaml.safe_dump(doc).encode()
    rules = Settings(openlineage=SETTINGS.openlineage, rules=ComponentRules.build("team=data", None, None))
    calls = counting_classify(monkeypatch)
    result = pipeline.program(data, rules)
    assert result.failure is None and [r.role for r in result.plan.components] == ["component"]
    assert calls == ["etl"]


# Names, label values and annotation keys as a template may write them: plain, quoted, escaped, folded, or a hook.
_NAMES = ["etl", "astro-agent-worker-a", "x-dag-processor", '"x-trigg\\x65rer"', '"x-\\u0077orker-a"',
          "x-triggerer-old", "'x-dag-\n    processor'", '"x-dag-\\\n    processor"', "x-worker-"]
_LABELS = ["{}", "{app: astro-agent, component: worker}", '{app: "astro\\x2dagent", component: triggerer}',
           "{app: other, component: worker}", "{app: astro-agent}", "{team: data}", '{team: "d\\x61ta"}',
           "{version: 1.0}", "{version: 1e0}", "{version: '1.0'}", "{flag: true}", "{team: ml, tier: web}",
           "{legacy: x, team: data}", "{team: 'da\n    ta'}"]
# the default rules and selectors whose terms need a label's text, a number's or a boolean's, or its absence
_RULES = [ComponentRules(), *(ComponentRules.build(selector, None, None) for selector in (
    "team=data", "team in (data,ml),tier!=web", "version=1.0", "flag=True", "team,!legacy",
    "app=astro-agent,component in (worker,dag-processor,triggerer)")), ComponentRules.build(None, "-etl$", None)]
_ANNOTATIONS = ["{}", "{helm.sh/hook: pre-install}", '{"helm.sh\\x2fhook": test}', "{a: helm.sh/hookless}"]
_KINDS = {"Deployment": "spec:\n  template:\n", "Job": "spec:\n  template:\n", "Pod": "",
          "CronJob": "spec:\n  jobTemplate:\n    spec:\n      template:\n"}


def _workload_text(kind: str, name: str, labels: str, annotations: str, pod_labels: str) -> str:
    """One workload document with the given YAML spellings of its name, labels and annotations."""
    holder = _KINDS[kind]
    indent = " " * (2 * holder.count("\n"))
    template = f"{indent}metadata:\n{indent}  labels: {pod_labels}\n{indent}spec:\n" \
               f"{indent}  containers:\n{indent}    - name: main\n{indent}      image: busybox\n"
    return (f"---\napiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: team\n"
            f"  labels: {labels}\n  annotations: {annotations}\n{holder}{template}")


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(_KINDS)), st.sampled_from(_NAMES), st.sampled_from(_LABELS),
                          st.sampled_from(_ANNOTATIONS), st.sampled_from(_LABELS)), min_size=1, max_size=5),
       st.sampled_from(("render", "check", "diff")), st.sampled_from(range(len(_RULES))))
def test_workloads_ruled_out_by_their_text_read_as_if_they_were_read(
    documents: list[tuple[str, str, str, str, str]], mode: str, rules: int,
) -> None:
    """Settling a workload by its text (``rules_out``, or ``likely_component``'s hint) changes no output or error."""
    data = "".join(_workload_text(*document) for document in documents).encode()
    chosen = Settings(openlineage=SETTINGS.openlineage, rules=_RULES[rules])

    def outcome() -> tuple[str, ...]:
        try:
            result = pipeline.program(data, chosen, mode)
        except Exception as exc:  # (the read's refusals are outcomes too)
            return (type(exc).__name__, str(exc))
        return (b"".join(result.parts).decode(), str(result.failure), result.notice,
                json.dumps(pipeline.explain(result), sort_keys=True))

    shortcut = outcome()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ComponentRules, "rules_out", lambda self, text: False)
        assert outcome() == shortcut
        patch.setattr(ComponentRules, "likely_component", lambda self, text: False)  # (every workload sketched first)
        assert outcome() == shortcut


def test_a_workload_its_text_rules_out_is_read_only_when_a_report_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A render reads no ruled-out workload; ``--explain`` reads each once, for its name and namespace."""
    from postrenderer.read import analysis

    sketched: list[int] = []
    real_sketch = analysis.stream.sketch

    def counted(segment: stream.Segment, paths: set[tuple[str, ...]]) -> Any:
        sketched.append(segment.index)
        return real_sketch(segment, paths)

    monkeypatch.setattr(analysis.stream, "sketch", counted)
    others = "---\nkind: ConfigMap\nmetadata: {name: café}\ndata: {greeting: \"grüß dich ✓\"}\n" + "".join(
        _workload_text("Deployment", f"web-{n}", "{app: web}", "{}", "{}") for n in range(3))  # (bytes != characters)
    data = (STREAMS / "helm3.yaml").read_bytes() + others.encode()
    result = pipeline.program(data, SETTINGS)
    assert result.failure is None and len(result.plan.components) == 4 and sketched == []
    names = [report["name"] for report in pipeline.explain(result)["workloads"]]
    assert names[-3:] == ["web-0", "web-1", "web-2"] and len(sketched) == 4  # (and the chart's sentinel)
    pipeline.explain(result)
    assert len(sketched) == 4
