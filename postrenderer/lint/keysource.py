"""Where a container's ``OPENLINEAGE_API_KEY`` gets its value, in words, or the finding that it gets none.

``key_source`` follows the variable's ``valueFrom`` as the kubelet does. For example:

    valueFrom: {secretKeyRef: {name: openlineage-api-key-secret, key: api-key}}
    -> "Secret openlineage-api-key-secret key api-key"

    valueFrom: {fileKeyRef: {volumeName: ol, path: key.env, key: OPENLINEAGE_API_KEY}}, ol not an emptyDir
    -> key-file-volume: fileKeyRef volume ol is not an emptyDir (pod creation fails)
"""

from __future__ import annotations

from collections.abc import Mapping

from postrenderer.lint.configfiles import volume_named, writers_of
from postrenderer.lint.evaluation import Finding
from postrenderer.read.variables import KEY_VAR

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from postrenderer.lint.evaluation import Lookup, Variable

ENV_SOURCES = ("configMapKeyRef", "fieldRef", "fileKeyRef", "resourceFieldRef", "secretKeyRef")


def key_source(
    variable: Variable, container: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup,
    name: str, findings: list[Finding], notes: list[str],
) -> str | None:
    """Check how ``OPENLINEAGE_API_KEY`` gets its value; describe it, or add a finding and return None."""
    def fail(code: str, problem: str, fix: str) -> None:
        findings.append(Finding(code, name, KEY_VAR, problem, fix))

    source = variable.value_from
    if variable.source != "env":
        return f"{variable.source}"
    if source is None:
        if not variable.value:
            fail("key-empty", "is set to an empty value", "reference the key's Secret instead (re-run olrender)")
            return None
        notes.append(f"{KEY_VAR} is a literal value in the manifest (a plaintext key)")
        return "a literal value in the manifest (redacted)"
    kind = next(iter(source))
    ref = source[kind]
    if kind not in ENV_SOURCES:
        fail(
            "key-invalid-source",
            f"uses valueFrom.{kind}, which is not a Kubernetes field: the API server drops it and the "
            "variable ends up empty",
            "use --method vault (valueFrom.fileKeyRef or a config file) or a secretKeyRef",
        )
        return None
    if not isinstance(ref, Mapping):
        fail("key-invalid-source", f"valueFrom.{kind} is not a mapping", "reference the key's Secret")
        return None
    if kind == "secretKeyRef":
        return _secret_key(ref, lookup, fail, notes)
    if kind == "fileKeyRef":
        return _file_key(ref, pod_spec, fail)
    if kind == "configMapKeyRef":
        notes.append(f"{KEY_VAR} comes from a ConfigMap, which is not meant for secrets")
    return variable.describe()


def _secret_key(ref: Mapping[str, Any], lookup: Lookup, fail: Callable[[str, str, str], None],
                notes: list[str]) -> str | None:
    """A key from a Secret: the Secret and key, or a finding (an optional reference, a key the Secret lacks)."""
    secret, key = str(ref.get("name")), str(ref.get("key"))
    data = lookup("Secret", secret)
    if data is None:
        if ref.get("optional") is True:
            fail(
                "key-optional",
                f"secretKeyRef {secret}/{key} is optional, so the pod starts without the key when the "
                "Secret is missing",
                "drop optional: true from the reference",
            )
            return None
        notes.append(f"Secret {secret} is not in the stream: it must exist in the cluster with key {key}")
    made_by = getattr(data, "made_by", "")  # an ExternalSecret's target: the document that makes it
    made = f" (made by {made_by})" if made_by else ""
    if data is not None and key not in data:
        fail(
            "key-secret-missing-key",
            f"references key {key} of Secret {secret}{made}, which the stream holds without that key",
            f"add {key} to Secret {secret} or point --api-key-secret-key at the right key",
        )
        return None
    return f"Secret {secret} key {key}{made}"


def _file_key(ref: Mapping[str, Any], pod_spec: Mapping[str, Any], fail: Callable[[str, str, str], None]) -> str | None:
    """A key from a file (``fileKeyRef``): the file and the init container that writes it, or a finding."""
    volume_name = str(ref.get("volumeName"))
    volume = volume_named(pod_spec, volume_name)
    if volume is None:
        fail("key-file-volume", f"fileKeyRef names volume {volume_name}, which the pod does not have",
             "re-run olrender with --method vault, which adds the volume")
        return None
    if "emptyDir" not in volume:
        fail("key-file-volume", f"fileKeyRef volume {volume_name} is not an emptyDir (pod creation fails)",
             "make the volume an emptyDir written by an init container")
        return None
    writers = writers_of(pod_spec, volume_name)
    if not writers:
        fail("key-file-writer", f"no init container writes volume {volume_name}, so {ref.get('path')} "
             "never exists and the container cannot start",
             "re-run olrender with --method vault, which adds the Vault Agent init container")
        return None
    return (
        f"file {ref.get('path')} key {ref.get('key')} in emptyDir {volume_name} "
        f"(written by init container {writers[0].get('name')!r})"
    )
