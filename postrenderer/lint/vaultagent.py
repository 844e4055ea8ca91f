"""What ``--check`` knows about a Vault Agent init container: can it log in, can the main container read its file.

Two ways a pod that looks right never gets its key, both seen with the real agent:

    spec:
      automountServiceAccountToken: false      # (or on its ServiceAccount, with the pod not overriding it)
      initContainers: [{name: vault-openlineage, command: [vault, agent, ...]}]
    -> the agent has no service-account token to log in with; the pod stays in Init:Error

    spec:                                       # no fsGroup
      initContainers: [{name: vault-openlineage, securityContext: {runAsUser: 100, runAsGroup: 1000}, ...}]
      containers: [{name: agent, securityContext: {runAsUser: 50000},
                    env: [{name: OPENLINEAGE_CONFIG, value: /vault/secrets/openlineage.yml}], ...}]
    -> the file is 0440 100:1000; the agent container gets "Permission denied" and sends lineage without a key

A pod annotated for the Vault Agent Injector webhook (``vault.hashicorp.com/agent-inject: "true"``)
without its token is rejected by the webhook (``vault-injector-no-token``); ``injector_file``
names the annotation by which the webhook writes a config file the container reads.

``agent_problems`` returns ``(code, variable, problem, fix)`` for a component's
target container; ``lint.lint_container`` turns them into findings. The file is
taken to be readable by its owner and group, as olrender writes it (``0440``);
an ``emptyDir`` of a pod with an ``fsGroup`` gives its files that group. A key
delivered by ``fileKeyRef`` is read by the kubelet itself and needs no check.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from postrenderer.read.variables import CONFIG_FILE_VARS
from postrenderer.read.workloads import containers, env_entries

TYPE_CHECKING = False  # (typing is not imported at run time: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    Lookup: TypeAlias = Callable[[str, str], Mapping[str, str | None] | None]

TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
AGENT_IMAGE_USER = (100, 1000)  # the vault user of the official image: the agent's uid and gid when unset
AUTOMOUNT = "automountServiceAccountToken"
INJECTOR = "vault.hashicorp.com/"  # the Vault Agent Injector's annotations
INJECTOR_DIR = "/vault/secrets"  # where it writes files (annotation secret-volume-path)


def service_account_keys(doc: Mapping[str, Any]) -> dict[str, str | None]:
    """What the check remembers of a ServiceAccount: whether it mounts its token into pods."""
    value = doc.get(AUTOMOUNT)
    return {AUTOMOUNT: None if value is None else str(value).lower()}


def runs_vault_agent(container: Mapping[str, Any]) -> bool:
    """Whether a container runs ``vault agent`` (exec form or through a shell)."""
    words = [str(w) for key in ("command", "args") if isinstance(container.get(key), list) for w in container[key]]
    return words[:2] == ["vault", "agent"] or "vault agent" in " ".join(words)


def _context(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The securityContext of a container or pod spec (empty when missing or malformed)."""
    context = obj.get("securityContext")
    return context if isinstance(context, Mapping) else {}


def _int(value: Any) -> int | None:
    """An id, or None when unset or not an integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def run_as(container: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(uid, gid) the container runs as, from its securityContext or the pod's; None where the image decides."""
    own, pod = _context(container), _context(pod_spec)
    uid = _int(own.get("runAsUser")) if "runAsUser" in own else _int(pod.get("runAsUser"))
    gid = _int(own.get("runAsGroup")) if "runAsGroup" in own else _int(pod.get("runAsGroup"))
    return uid, gid


def pod_groups(pod_spec: Mapping[str, Any]) -> tuple[int | None, set[int]]:
    """The pod's fsGroup and the groups every container gets (fsGroup and supplementalGroups)."""
    context = _context(pod_spec)
    fs_group = _int(context.get("fsGroup"))
    groups = {g for g in (context.get("supplementalGroups") or []) if _int(g) is not None}
    return fs_group, groups | ({fs_group} if fs_group is not None else set())


def key_file_readable(agent_uid: int | None, agent_gid: int | None, main: Mapping[str, Any],
                      pod_spec: Mapping[str, Any]) -> bool:
    """Whether the main container can read an owner- and group-readable file the agent writes to an emptyDir."""
    fs_group, groups = pod_groups(pod_spec)
    if fs_group is not None:
        return True  # the emptyDir is setgid fsGroup, and every container has that group
    uid, gid = run_as(main, pod_spec)
    if uid is not None and uid == agent_uid:
        return True
    if agent_gid is not None and (agent_gid == gid or agent_gid in groups):
        return True
    dropped = {str(c).upper() for c in ((_context(main).get("capabilities") or {}).get("drop") or [])}
    return uid == 0 and not dropped & {"ALL", "DAC_OVERRIDE", "DAC_READ_SEARCH"}


def mounts(container: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """(mountPath, volume, read-only) of a container's mounts."""
    found = []
    mounts = container.get("volumeMounts")
    for mount in mounts if isinstance(mounts, list) else []:
        if isinstance(mount, Mapping) and isinstance(mount.get("mountPath"), str):
            found.append((mount["mountPath"].rstrip("/") or "/", str(mount.get("name")), bool(mount.get("readOnly"))))
    return found


def _token_problem(agent: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup) -> str | None:
    """Why the agent gets no service-account token to log in with, or None."""
    if any(path == TOKEN_DIR for path, _, _ in mounts(agent)):
        return None  # a token volume mounted explicitly
    if pod_spec.get(AUTOMOUNT) is False:
        return f"the pod sets {AUTOMOUNT}: false"
    if pod_spec.get(AUTOMOUNT) is None:
        name = pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount") or "default"
        account = lookup("ServiceAccount", str(name))
        if account is not None and account.get(AUTOMOUNT) == "false":
            return f"its ServiceAccount {name} sets {AUTOMOUNT}: false and the pod does not override it"
    return None


def injects(annotations: Mapping[str, Any]) -> bool:
    """Whether the pod asks the Vault Agent Injector webhook for an agent."""
    return str(annotations.get(INJECTOR + "agent-inject", "")).lower() == "true"


def injector_file(path: str, container: str, annotations: Mapping[str, Any]) -> str | None:
    """The annotation by which the Vault Agent Injector writes the file at path into this container, or None."""
    if not injects(annotations):
        return None
    directory, name = posixpath.split(path)
    base = annotations.get(INJECTOR + "secret-volume-path") or INJECTOR_DIR
    if not isinstance(base, str) or posixpath.normpath(base) != directory:
        return None
    names = annotations.get(INJECTOR + "agent-inject-containers")
    if isinstance(names, str) and container not in [n.strip() for n in names.split(",")]:
        return None
    annotation = INJECTOR + "agent-inject-secret-" + name
    return annotation if annotation in annotations else None


def injector_token_problem(pod_spec: Mapping[str, Any], lookup: Lookup) -> str | None:
    """Why the Vault Agent Injector webhook rejects this pod (no service-account token to mount), or None."""
    reason = _token_problem({}, pod_spec, lookup)
    return None if reason is None else (
        f"{reason}, so the Vault Agent Injector webhook rejects the pod (it mounts the pod's "
        "service-account token into its agent to log in to Vault)"
    )


def agent_problems(
    container: Mapping[str, Any], pod_spec: Mapping[str, Any], lookup: Lookup,
    annotations: Mapping[str, Any] | None = None,
) -> list[tuple[str, str, str, str]]:
    """(code, variable, problem, fix) for each way the pod's Vault Agent cannot hand this container its key."""
    agents = [c for c in containers(pod_spec, ("initContainers",)) if runs_vault_agent(c)]
    problems = []
    rejected = injector_token_problem(pod_spec, lookup) if injects(annotations or {}) else None
    if rejected:
        problems.append(("vault-injector-no-token", AUTOMOUNT, rejected,
                         f"remove {AUTOMOUNT}: false from the pod and its ServiceAccount (or set it to true on "
                         "the pod)"))
    for agent in agents[:1]:
        reason = _token_problem(agent, pod_spec, lookup)
        if reason:
            problems.append((
                "vault-agent-no-token", AUTOMOUNT,
                f"{reason}, so Vault Agent init container {agent.get('name')!r} has no service-account token to "
                "log in to Vault with (the pod stays in Init:Error)",
                f"remove {AUTOMOUNT}: false from the pod (or set it to true there), or mount a projected "
                f"serviceAccountToken volume at {TOKEN_DIR} in the init container",
            ))
        written = {volume for _, volume, read_only in mounts(agent) if not read_only}
        agent_uid, agent_gid = run_as(agent, pod_spec)
        agent_uid = AGENT_IMAGE_USER[0] if agent_uid is None else agent_uid
        agent_gid = AGENT_IMAGE_USER[1] if agent_gid is None else agent_gid
        for entry in env_entries(container):
            if entry.get("name") not in CONFIG_FILE_VARS:
                continue
            value = entry.get("value")
            if not isinstance(value, str) or not value.startswith("/"):
                continue
            path = posixpath.normpath(value)
            holders = [(mp, vol) for mp, vol, _ in mounts(container) if path.startswith(mp.rstrip("/") + "/")]
            if not holders or max(holders, key=lambda h: len(h[0]))[1] not in written:
                continue
            if not key_file_readable(agent_uid, agent_gid, container, pod_spec):
                problems.append((
                    "vault-key-unreadable", str(entry["name"]),
                    f"points at {path}, which Vault Agent init container {agent.get('name')!r} writes as uid "
                    f"{agent_uid} gid {agent_gid}, readable by owner and group only; the pod has no fsGroup and the "
                    "container runs as neither, so the OpenLineage client cannot read it and sends lineage without "
                    "the key",
                    "set the pod's securityContext.fsGroup (the chart's podSecurityContext has fsGroup: 50000), "
                    "or re-run olrender, which then runs the agent as the container's runAsUser",
                ))
            break
    return problems
