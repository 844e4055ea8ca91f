"""A simulated pod: run a rendered init container's command as the kubelet and the runtime would.

Everything is read from the rendered pod spec, nothing is assumed about it:

- the volumes the init container mounts appear at their mount paths: a
  ``configMap`` as a read-only tmpfs holding the ConfigMap's files byte for byte
  (mode 0644), an ``emptyDir`` as a tmpfs that is ``2777`` and owned by the pod's
  ``fsGroup`` when it has one, ``0777`` and owned by root when it has none (what
  the kubelet does); the service-account token at
  ``/var/run/secrets/kubernetes.io/serviceaccount`` unless
  ``automountServiceAccountToken`` is false;
- the root filesystem is a tmpfs holding ``/bin/vault`` (the real ``bao``) and
  the host's ``/usr`` (for ``setpriv``), read-only when ``readOnlyRootFilesystem``;
- the command runs in a private mount namespace (``unshare --mount``), chrooted,
  as the container's uid and gid with the pod's ``fsGroup`` and supplemental
  groups, no capabilities and ``no_new_privs`` (``setpriv``), with only the
  container's env (and ``HOME``, from the image's user), under a hard wall-clock
  ``timeout``.

Afterwards the files in the secrets volume are copied out with their mode and
owner (what the kubelet reads for ``fileKeyRef``), and the main container's
read of each file its env points at is tried as the main container's uid, gid
and groups (where the spec leaves them to the image: 50000 and 0). Not
simulated: a ServiceAccount's own ``automountServiceAccountToken`` (only the
pod's), image contents beyond ``/bin/vault``, DNS, /proc. Needs root, util-linux ``unshare``/``setpriv`` and coreutils
``timeout``/``chroot`` (``preflight`` says what is missing).
"""

from __future__ import annotations

import os
import posixpath
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
AGENT_TIMEOUT_S = 30  # every agent run is killed after this: a hang fails the test instead of blocking it
IMAGE_USER = (100, 1000)  # the vault user of the official image (uid, gid), also the image's default
HOME_OF_IMAGE_USER = "/home/vault"
TOOLS = ("unshare", "setpriv", "mount", "chroot", "timeout", "cp", "date")


def preflight() -> list[str]:
    """What this machine lacks to simulate a pod (empty when everything is there)."""
    problems = []
    if os.geteuid() != 0:
        problems.append(f"the simulated pod needs root (mount namespaces, tmpfs, setpriv), not uid {os.geteuid()}")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        problems.append(f"missing programs: {', '.join(missing)} (util-linux and coreutils)")
    if not problems:
        proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs",
                               "olrender-preflight", tempfile.gettempdir()],
                              capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0:
            problems.append(f"unshare --mount cannot mount a tmpfs here: {proc.stderr.strip()}")
    return problems


@dataclass
class FileSeen:
    """A file the init container left in a volume, as the kubelet finds it."""

    data: bytes
    mode: int
    uid: int
    gid: int


@dataclass
class PodRun:
    """What one run of the init container did."""

    exit_code: int
    seconds: float
    log: str
    files: dict[str, FileSeen] = field(default_factory=dict)  # in the secrets volume, by name
    main_reads: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)  # path -> (status, data, error)
    main_env: dict[str, str] = field(default_factory=dict)  # the main container's literal env values
    client: dict[str, Any] | None = None  # what the real OpenLineage client resolves from it (scenario.run)

    @property
    def timed_out(self) -> bool:
        """Whether ``timeout`` had to stop the agent (124: SIGTERM, 137: SIGKILL)."""
        return self.exit_code in (124, 137)


def _security(container: dict[str, Any], pod: dict[str, Any], image: tuple[int, int]) -> tuple[int, int]:
    """(uid, gid) a container runs as: its securityContext, else the pod's, else the image's user."""
    own = container.get("securityContext") or {}
    shared = pod.get("securityContext") or {}
    uid = own.get("runAsUser", shared.get("runAsUser", image[0]))
    gid = own.get("runAsGroup", shared.get("runAsGroup", image[1]))
    return int(uid), int(gid)


def _setpriv(uid: int, gid: int, groups: list[int]) -> list[str]:
    """setpriv arguments: the ids, the groups, no capabilities at all, no privilege gain."""
    group_arg = f"--groups={','.join(map(str, groups))}" if groups else "--clear-groups"
    return ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}", group_arg, "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--"]


def run_pod(
    pod: dict[str, Any], config_maps: dict[str, dict[str, str]], *, bao: Path, token: str | None,
    workdir: Path, init_name: str = "vault-openlineage", main_index: int = 0,
    main_image: tuple[int, int] = (50000, 0), timeout: float = AGENT_TIMEOUT_S,
) -> PodRun:
    """Run the pod's init container ``init_name`` and try the main container's reads."""
    spec = pod["spec"]
    (init,) = [c for c in spec.get("initContainers") or [] if c["name"] == init_name]
    main = spec["containers"][main_index]
    context = init.get("securityContext") or {}
    dropped = (context.get("capabilities") or {}).get("drop")
    if dropped != ["ALL"] or context.get("allowPrivilegeEscalation") is not False:
        raise NotImplementedError("the simulated pod only runs containers that drop ALL capabilities")
    uid, gid = _security(init, spec, IMAGE_USER)
    pod_context = spec.get("securityContext") or {}
    fs_group = pod_context.get("fsGroup")
    groups = [int(fs_group)] if fs_group is not None else []
    groups += [int(g) for g in pod_context.get("supplementalGroups") or []]
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    command = [*(init.get("command") or []), *(init.get("args") or [])]
    env = {e["name"]: e["value"] for e in init.get("env") or [] if "value" in e}
    env["HOME"] = HOME_OF_IMAGE_USER if uid == IMAGE_USER[0] else "/"
    env["PATH"] = "/bin"

    base = Path(tempfile.mkdtemp(prefix="pod-", dir=workdir))
    root, out, staged = base / "root", base / "out", base / "staged"
    for directory in (root, out, staged):
        directory.mkdir()
    q = shlex.quote
    r = q(str(root))
    setup = [
        "set -eu",
        f"mount -t tmpfs -o mode=0755 pod-root {r}",
        f"mkdir -p {r}/usr {r}/bin {r}/dev",
        f"ln -s usr/lib {r}/lib", f"ln -s usr/lib64 {r}/lib64",
        f"mount --rbind /usr {r}/usr", f"mount -o remount,bind,ro {r}/usr",
        f"touch {r}/bin/vault", f"mount --bind {q(str(bao))} {r}/bin/vault", f"mount -o remount,bind,ro {r}/bin/vault",
    ]
    for device in ("null", "urandom"):
        setup += [f"touch {r}/dev/{device}", f"mount --bind /dev/{device} {r}/dev/{device}"]
    secrets_path = None
    for index, mount in enumerate(init.get("volumeMounts") or []):
        volume = volumes[mount["name"]]
        target = r + q(mount["mountPath"])
        setup.append(f"mkdir -p {target}")
        if "configMap" in volume:
            ref = volume["configMap"]
            if ref.get("items"):
                raise NotImplementedError("configMap items are not simulated")
            source = staged / f"cm-{index}"
            source.mkdir()
            for name, text in config_maps[ref["name"]].items():
                (source / name).write_bytes(text.encode())
                (source / name).chmod(int(ref.get("defaultMode", 0o644)))
            setup += [f"mount -t tmpfs -o mode=0755 {q(mount['name'])} {target}", f"cp -a {q(str(source))}/. {target}/"]
        elif "emptyDir" in volume:
            options = f"mode=2777,gid={int(fs_group)}" if fs_group is not None else "mode=0777"
            setup.append(f"mount -t tmpfs -o {options} {q(mount['name'])} {target}")
            read = any(m.get("name") == mount["name"] for m in main.get("volumeMounts") or [])
            if read or _file_ref(main, mount["name"]):
                secrets_path = mount["mountPath"]
        else:
            raise NotImplementedError(f"volume {mount['name']} is neither a configMap nor an emptyDir")
        if mount.get("readOnly"):
            setup.append(f"mount -o remount,ro {target}")
    automount = spec.get("automountServiceAccountToken", True) is not False
    if automount and token is not None:
        token_dir = staged / "serviceaccount"
        token_dir.mkdir()
        (token_dir / "token").write_text(token)
        (token_dir / "namespace").write_text(pod.get("metadata", {}).get("namespace") or "astro")
        for item in token_dir.iterdir():
            item.chmod(0o644)
        target = r + TOKEN_DIR
        setup += [f"mkdir -p {target}", f"mount -t tmpfs -o mode=0755 serviceaccount {target}",
                  f"cp -a {q(str(token_dir))}/. {target}/", f"mount -o remount,ro {target}"]
    if context.get("readOnlyRootFilesystem"):
        setup.append(f"mount -o remount,ro {r}")
    agent = ["timeout", "--kill-after=2", str(timeout), "chroot", str(root), *_setpriv(uid, gid, groups),
             "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), *command]
    o = q(str(out))
    script = [*setup, "set +e", "t0=$(date +%s%N)", f"{shlex.join(agent)} > {o}/agent.log 2>&1",
              f"echo $? > {o}/agent.rc", "t1=$(date +%s%N)", f"echo $((t1 - t0)) > {o}/agent.ns"]
    reads: list[str] = []
    if secrets_path is not None:
        script += [f"mkdir {o}/files", f"cp -a {r}{q(secrets_path)}/. {o}/files/"]
        main_uid, main_gid = _security(main, spec, main_image)
        for index, path in enumerate(_main_paths(main)):
            reads.append(path)
            reader = ["chroot", str(root), *_setpriv(main_uid, main_gid, groups), "/usr/bin/cat", path]
            script.append(f"{shlex.join(reader)} > {o}/read-{index} 2> {o}/read-{index}.err; "
                          f"echo $? > {o}/read-{index}.rc")
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, setup_err = proc.communicate(timeout=timeout + 30)
    except subprocess.TimeoutExpired:  # the hard limit beyond timeout(1) itself
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"the simulated pod did not end within {timeout + 30} s") from None
    if not (out / "agent.rc").exists():
        raise RuntimeError(f"the simulated pod could not be set up (exit {proc.returncode}): {setup_err.decode()}")
    run = PodRun(int((out / "agent.rc").read_text()), int((out / "agent.ns").read_text()) / 1e9,
                 (out / "agent.log").read_text(errors="replace"))
    run.main_env = {e["name"]: e["value"] for e in main.get("env") or [] if isinstance(e.get("value"), str)}
    if (out / "files").is_dir():
        for item in sorted((out / "files").iterdir()):
            info = item.lstat()
            if stat.S_ISREG(info.st_mode):
                run.files[item.name] = FileSeen(item.read_bytes(), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    for index, path in enumerate(reads):
        run.main_reads[path] = (int((out / f"read-{index}.rc").read_text()), (out / f"read-{index}").read_bytes(),
                                (out / f"read-{index}.err").read_text(errors="replace"))
    shutil.rmtree(base, ignore_errors=True)
    return run


def _file_ref(container: dict[str, Any], volume: str) -> bool:
    """Whether an env entry of the container reads a file of that volume through ``fileKeyRef``."""
    return any(((e.get("valueFrom") or {}).get("fileKeyRef") or {}).get("volumeName") == volume
               for e in container.get("env") or [])


def _main_paths(container: dict[str, Any]) -> list[str]:
    """Absolute file paths the main container's literal env values point at inside its mounts."""
    mounts = [m["mountPath"].rstrip("/") for m in container.get("volumeMounts") or []]
    paths = []
    for entry in container.get("env") or []:
        value = entry.get("value")
        if isinstance(value, str) and value.startswith("/"):
            path = posixpath.normpath(value)
            if any(path.startswith(m + "/") for m in mounts) and path not in paths:
                paths.append(path)
    return paths
