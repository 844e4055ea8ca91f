"""Every vault-mode golden output is valid for its Kubernetes version and would really work.

Strict schema validation (``kubernetes-validate``) catches unknown fields such
as the vendor's ``valueFrom.fileRef``. It cannot see what makes the pods work,
so the project's own checks follow: ``fileKeyRef.volumeName`` names an emptyDir
of the same pod, paths are relative and agree with the agent's template
destinations, the agent configuration parses as HCL and exits after rendering,
the init container runs in exec form and hardened, nothing is duplicated, and
Jobs get no container that would keep them running.
"""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path
from typing import Any

import hcl2
import kubernetes_validate
import pytest
import yaml

from postrenderer.inject.methods.vault import CHECKSUM_ANNOTATION, INIT_CONTAINER, SECRETS_DIR
from postrenderer.inject.methods.vault_settings import CONFIG_FILE, DEFAULT_KUBE_VERSION, ENV_FILE
from postrenderer.read.discovery import ComponentRules, find_component
from postrenderer.read.variables import CONFIG_FILE_VARS
from postrenderer.read.workloads import Workload, iter_workloads
from tests.golden import CASES, Case

EXPECTED = sorted(CASES.glob("vault-*/expected.yaml"))
HCL_OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, preserve_heredocs=False, strip_string_quotes=True
)


def test_vault_cases_exist() -> None:
    """Guard: finding no vault-mode golden output must fail, not pass vacuously."""
    assert EXPECTED, "no fixtures/cases/vault-*/expected.yaml found"


def target_version(case: Case) -> str:
    """The Kubernetes version a case targets: --kube-version, OLRENDER_KUBE_VERSION, values, default."""
    args = case.args()
    for i, arg in enumerate(args):
        if arg == "--kube-version":
            return args[i + 1]
        if arg.startswith("--kube-version="):
            return arg.split("=", 1)[1]
    env = case.env()
    if env.get("OLRENDER_KUBE_VERSION"):
        return env["OLRENDER_KUBE_VERSION"]
    for i, arg in enumerate(args):
        if arg in ("-f", "--values"):
            values = yaml.safe_load((case.path / args[i + 1]).read_text()) or {}
            version = ((values.get("openLineage") or {}).get("vault") or {}).get("kubeVersion")
            if version:
                return str(version)
    return DEFAULT_KUBE_VERSION


def documents(path: Path) -> list[dict[str, Any]]:
    """The non-empty documents of a stream file."""
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def find_key(obj: Any, key: str) -> bool:
    """Whether a mapping key occurs anywhere in obj."""
    if isinstance(obj, dict):
        return key in obj or any(find_key(v, key) for v in obj.values())
    if isinstance(obj, list):
        return any(find_key(v, key) for v in obj)
    return False


def hcl_text(value: str) -> str:
    """A string as python-hcl2 serialises it (quotes stripped, escapes kept)."""
    return value.replace("\\n", "\n").replace('\\"', '"')


def written_lines(contents: str) -> list[str]:
    """The lines a template writes: its text without the lines that are only template actions."""
    return [line for line in hcl_text(contents).splitlines() if not line.startswith("{{")]


def agent_configs(docs: list[dict[str, Any]]) -> dict[tuple[str | None, str], dict[str, Any]]:
    """(namespace, ConfigMap name) -> parsed agent.hcl, for every ConfigMap carrying one."""
    found: dict[tuple[str | None, str], dict[str, Any]] = {}
    for doc in docs:
        if doc.get("kind") == "ConfigMap" and "agent.hcl" in (doc.get("data") or {}):
            text = doc["data"]["agent.hcl"]
            parsed = hcl2.loads(text, serialization_options=HCL_OPTIONS)
            parsed["__text__"] = text
            meta = doc["metadata"]
            found[(meta.get("namespace"), meta["name"])] = parsed
    return found


def check_agent_config(parsed: dict[str, Any]) -> list[str]:
    """Template destinations of a parsed agent.hcl, after checking it exits and fails loudly."""
    assert parsed.get("exit_after_auth") is True, "agent.hcl must set exit_after_auth = true"
    assert "exit_after_auth" in parsed["__text__"]
    assert parsed["template_config"][0]["exit_on_retry_failure"] is True
    (auto_auth,) = parsed["auto_auth"]
    (method,) = auto_auth["method"]
    assert list(method) == ["kubernetes"] and method["kubernetes"]["config"]["role"]
    destinations = []
    for template in parsed["template"]:
        assert template["error_on_missing_key"] is True
        perms = int(template["perms"], 8)
        assert perms & 0o007 == 0, f"template perms {template['perms']} let every user read the key"
        destination = template["destination"]
        assert posixpath.isabs(destination) and ".." not in destination.split("/")
        destinations.append(destination)
    return destinations


def mount_of(container: dict[str, Any], volume: str) -> dict[str, Any] | None:
    """The container's mount of a volume, if any."""
    return next((m for m in container.get("volumeMounts") or [] if m["name"] == volume), None)


def unique(items: list[Any], key: str, what: str) -> None:
    """No two items share a key value."""
    values = [item[key] for item in items]
    assert len(values) == len(set(values)), f"duplicate {what}: {values}"


def check_pod(workload: Workload, container_index: int, configs: dict[Any, Any], kube: tuple[int, int],
              input_containers: int | None) -> None:
    """The project's own checks for one component pod."""
    spec = workload.template["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    unique(spec.get("volumes") or [], "name", "volumes")
    inits = spec.get("initContainers") or []
    unique(inits, "name", "init containers")
    unique(spec["containers"], "name", "containers")
    if input_containers is not None:
        assert len(spec["containers"]) == input_containers, "olrender must not add containers"
    (agent,) = [c for c in inits if c["name"] == INIT_CONTAINER]
    assert "restartPolicy" not in agent, "a sidecar-style init container would keep Jobs running"
    command = agent["command"]
    assert command[:2] == ["vault", "agent"] and "args" not in agent, "exec form, no shell"
    assert not any(part in ("sh", "/bin/sh", "-c") for part in command)
    assert [e["name"] for e in agent["env"]] == ["VAULT_ADDR"]
    context = agent["securityContext"]
    assert context["runAsNonRoot"] is True and context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False and context["capabilities"]["drop"] == ["ALL"]
    assert agent["resources"]["limits"] and agent["resources"]["requests"]
    mounts = {m["mountPath"]: m for m in agent["volumeMounts"]}
    for mount in agent["volumeMounts"]:
        assert mount["name"] in volumes, f"init container mounts unknown volume {mount['name']}"
    unique(agent["volumeMounts"], "mountPath", "init container mounts")
    config_path = next(p.split("=", 1)[1] for p in command if p.startswith("-config="))
    config_mount = mounts[posixpath.dirname(config_path)]
    config_volume = volumes[config_mount["name"]]
    assert config_mount.get("readOnly") is True
    config_map = config_volume["configMap"]["name"]
    writable = [m for m in agent["volumeMounts"] if not m.get("readOnly")]
    for mount in writable:
        empty_dir = volumes[mount["name"]].get("emptyDir")
        assert isinstance(empty_dir, dict) and empty_dir.get("medium") == "Memory", "secrets stay in memory"
    annotations = (workload.template.get("metadata") or {}).get("annotations") or {}
    parsed = configs.get((workload.namespace, config_map))
    if parsed is not None:
        destinations = check_agent_config(parsed)
        digest = hashlib.sha256(parsed["__text__"].encode()).hexdigest()
        assert annotations.get(CHECKSUM_ANNOTATION) == digest, "pods must roll when agent.hcl changes"
    else:  # the user manages the ConfigMap: its documented destinations
        assert CHECKSUM_ANNOTATION not in annotations
        destinations = [f"{SECRETS_DIR}/{ENV_FILE}", f"{SECRETS_DIR}/{CONFIG_FILE}"]
    main = spec["containers"][container_index]
    env = main.get("env") or []
    unique(env, "name", "env entries")
    unique(main.get("volumeMounts") or [], "mountPath", "main container mounts")
    by_name = {e["name"]: e for e in env}
    key = by_name.get("OPENLINEAGE_API_KEY")
    if key is not None:
        assert kube >= (1, 35), "fileKeyRef needs Kubernetes 1.35"
        ref = key["valueFrom"]["fileKeyRef"]
        assert set(ref) <= {"volumeName", "path", "key", "optional"} and ref["key"] == "OPENLINEAGE_API_KEY"
        volume = volumes[ref["volumeName"]]
        assert "emptyDir" in volume, "fileKeyRef.volumeName must name an emptyDir of the same pod"
        path = ref["path"]
        assert not posixpath.isabs(path) and ".." not in path.split("/"), "fileKeyRef.path is relative"
        writer = mount_of(agent, ref["volumeName"])
        assert writer is not None and not writer.get("readOnly"), "the init container writes the env file"
        assert posixpath.join(writer["mountPath"], path) in destinations, "env file is not where the agent writes"
        if parsed is not None:
            (template,) = parsed["template"]
            written = written_lines(template["contents"])
            assert written == ["OPENLINEAGE_API_KEY='{{ $key }}'"], "the env file is one KEY='value' line"
        for name in CONFIG_FILE_VARS:
            assert name not in by_name
    else:
        paths = {by_name[name]["value"] for name in CONFIG_FILE_VARS}
        assert len(paths) == 1, f"{CONFIG_FILE_VARS} must point at the same file"
        (path,) = paths
        assert path in destinations, "config file is not where the agent writes"
        reader = next(m for m in main["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/"))
        assert reader.get("readOnly") is True
        assert "emptyDir" in volumes[reader["name"]]
        writer = mount_of(agent, reader["name"])
        assert writer is not None and writer["mountPath"] == reader["mountPath"]
        if parsed is not None:
            (template,) = parsed["template"]
            config = yaml.safe_load("\n".join(written_lines(template["contents"])).replace("{{", "'{{").replace(
                "}}", "}}'"))
            transport = config["transport"]
            assert transport["type"] == "http" and transport["url"] == by_name["OPENLINEAGE_URL"]["value"]
            assert transport["auth"] == {"type": "api_key", "apiKey": "{{ $key | toJSON }}"}
            assert template["contents"].startswith("{{- with secret "), "the key comes from a Vault secret"


@pytest.mark.parametrize("expected", EXPECTED, ids=[p.parent.name for p in EXPECTED])
def test_vault_output_is_valid_and_works(expected: Path) -> None:
    """Strict schema validation for the targeted version, then the checks the schema cannot do."""
    case = Case(expected.parent)
    version = target_version(case)
    major, minor = (int(p) for p in version.lstrip("v").split(".")[:2])
    docs = documents(expected)
    for doc in docs:
        kubernetes_validate.validate(doc, f"{major}.{minor}", strict=True)
        assert not find_key(doc, "fileRef"), "valueFrom.fileRef is not a Kubernetes field"
    inputs = [d for d in yaml.safe_load_all(case.input()) if isinstance(d, dict)]
    input_containers = {
        (w.kind, w.name): len(w.template["spec"]["containers"])
        for i, d in enumerate(inputs) for w in iter_workloads(i, d)
    }
    configs = agent_configs(docs)
    components = 0
    for index, doc in enumerate(docs):
        for workload in iter_workloads(index, doc):
            component, _ = find_component(workload, ComponentRules())
            if component is None:
                assert INIT_CONTAINER not in str(workload.template)
                continue
            components += 1
            check_pod(workload, component.container_index, configs, (major, minor),
                      input_containers.get((workload.kind, workload.name)))
    assert components, "a vault case without components checks nothing"
