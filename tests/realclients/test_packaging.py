"""olrender's release artifacts, built and installed as documented: the wheel, the sdist, the Helm 4 plugin package.

Everything runs from a copy of the repository made into a Git repository (a "clone": plugin.yaml,
pyproject.toml, README.md, postrenderer/, helm-plugin/), so builds write nothing into the working
tree. The documented ``helm-plugin/package.sh`` (what the release workflow runs) builds all three
in one go in the clone, with only the system ``python3`` and helm 4.3.1 on ``PATH`` (it makes its
own throwaway environment, as a stock Debian 12 requires), twice, with a stale ``build/`` directory
planted before the second run. ``twine check --strict`` passes the wheel and the sdist (the
workflow's check before it uploads). Each artifact is installed: the wheel with ``pipx``, the sdist
with pip into a fresh environment, both saying ``olrender, version V (commit SHA)`` for the clone's
commit; the plugin package through real helm 4.3.1 with a ``PATH`` that holds helm, ``sh`` and the
system ``python3`` but no ``olrender``: its install hook must create the environment it renders with::

    helm-plugin/package.sh                                          # dist/olrender-0.1.0.tgz
    helm plugin install dist/olrender-0.1.0.tgz --verify=false      # then: helm template ... --post-renderer olrender

The upgrade installs a package whose plugin version is the one the docs name (``WHEEL=`` packages
the same wheel). The signed variant uses a throwaway GnuPG key made in the test (``HOME`` and
``GNUPGHOME`` are temporary) and is installed with pip kept off the package index (``PIP_NO_INDEX``,
the dependencies from a local folder), the documented way for machines without one. These tests
need the package index for the build's setuptools and the plugin's dependencies; under ``CI=true`` a
failure there fails them. Only the uploads of the release workflow are not run here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from postrenderer import __version__
from tests.realclients.clients import (
    CHART,
    RELEASE,
    REPO,
    Client,
    MethodCase,
    assert_injected,
    doc_block,
    make_client,
    parse_documents,
)
from tests.tools.pytest_realtools import RealTool

pytestmark = pytest.mark.realclient

HELM = "helm-4.3.1"
CLONE = (".gitignore", "plugin.yaml", "pyproject.toml", "README.md", "postrenderer", "helm-plugin")
PACKAGE = f"dist/olrender-{__version__}.tgz"
BUILD_TIMEOUT_S = 600
SYSTEM_PATH = "/usr/bin:/bin"  # sh, python3; no olrender


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a build or install step; fail the test with its output when it fails."""
    proc = subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S, check=False)
    assert proc.returncode == 0, f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def copy_clone(target: Path, version: str = __version__) -> Path:
    """A copy of the files a build needs, at version (the package's and the plugin's)."""
    for name in CLONE:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    if version != __version__:
        for path, pattern in ((target / "postrenderer" / "__init__.py", r'__version__ = "[^"]+"'),
                              (target / "plugin.yaml", r"(?m)^version: \S+")):
            text = path.read_text()
            replacement = f'__version__ = "{version}"' if "__init__" in path.name else f"version: {version}"
            path.write_text(re.sub(pattern, replacement, text, count=1))
    return target


GIT = ["git", "-c", "user.name=olrender tests", "-c", "user.email=tests@example.invalid", "-c", "commit.gpgsign=false"]


def git(*args: str, cwd: Path) -> str:
    """Run git; return its stdout."""
    return subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True).stdout


def git_clone(target: Path) -> tuple[Path, str]:
    """A Git repository of the repository's files at target (named as `git clone` names it); and its commit."""
    clone = copy_clone(target)
    git("init", "-q", cwd=clone)
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "olrender", cwd=clone)
    return clone, git("rev-parse", "HEAD", cwd=clone).strip()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Git clone of the repository at the current version."""
    return git_clone(tmp_path_factory.mktemp("clone") / "olrender")[0]


@pytest.fixture(scope="module")
def version_line(clone: Path) -> str:
    """What ``olrender --version`` prints for what was built from the clone."""
    return f"olrender, version {__version__} (commit {git('rev-parse', 'HEAD', cwd=clone).strip()})"


@pytest.fixture(scope="module")
def built(clone: Path, real_tool: RealTool) -> dict[str, Path]:
    """The documented ``helm-plugin/package.sh``, run twice with only helm and the system tools on PATH."""
    path = os.pathsep.join([str(Path(real_tool(HELM)).parent), SYSTEM_PATH])
    script = doc_block("plugin-package")
    run(["sh", "-ec", script], cwd=clone, env={"PATH": path})
    stale = clone / "build" / "lib" / "postrenderer" / "stale.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("left over from an older build\n")
    run(["sh", "-ec", script], cwd=clone, env={"PATH": path})
    assert not (clone / "build").exists() and not (clone / "postrenderer" / "_commit.py").exists()
    assert git("status", "--porcelain", cwd=clone) == ""
    dist = clone / "dist"
    found = {"wheel": dist / f"olrender-{__version__}-py3-none-any.whl",
             "sdist": dist / f"olrender-{__version__}.tar.gz", "package": dist / f"olrender-{__version__}.tgz"}
    assert sorted(p.name for p in dist.iterdir()) == sorted(p.name for p in found.values())
    return found


@pytest.fixture(scope="module")
def dists(built: dict[str, Path]) -> dict[str, Path]:
    """The wheel and the sdist package.sh built."""
    return {"wheel": built["wheel"], "sdist": built["sdist"]}


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """olrender's dependencies as wheel files, for an install that must not reach the package index."""
    out = tmp_path_factory.mktemp("wheels")
    run([sys.executable, "-m", "pip", "download", "-q", "-d", str(out), "pyyaml", "jsonpatch", "click"], cwd=out)
    return out


def bare(real_tool: RealTool, home: Path) -> Client:
    """Helm 4.3.1 in fresh homes, with a PATH of helm and the system tools only: no olrender anywhere."""
    client = make_client(real_tool, home, HELM)
    path = os.pathsep.join([str(home / "bin"), SYSTEM_PATH])
    assert shutil.which("olrender", path=path) is None
    assert shutil.which("python3", path=path), "the plugin's install hook needs a python3"
    return Client(client.tool, client.home, {**client.env, "PATH": path, "HOME": str(home)})


def package_in(clone: Path, real_tool: RealTool, wheel: Path, marker: str = "plugin-package",
               env: dict[str, str] | None = None) -> Path:
    """Run the documented packaging command in a clone, packaging the session's wheel (WHEEL=); return dist/."""
    path = os.pathsep.join([str(Path(real_tool(HELM)).parent), os.environ.get("PATH", "")])
    run(["sh", "-ec", doc_block(marker)], cwd=clone, env={"PATH": path, "WHEEL": str(wheel), **(env or {})})
    return clone / "dist"


@pytest.fixture(scope="module")
def package(built: dict[str, Path]) -> Path:
    """The unsigned plugin package, made by the documented command in the clone."""
    return built["package"]


def plugin_dir(client: Client) -> Path:
    """Where helm installs the plugin."""
    return Path(client.env["HELM_DATA_HOME"]) / "plugins" / "olrender"


def render(client: Client) -> list[str]:
    """Render the test chart through the installed plugin (existing-secret), check it; return the argv."""
    case = MethodCase("existing-secret", (("--api-key-secret", "team-openlineage-key"),
                                          ("--namespace", "ultraviolet-corona-6870")))
    rendered = client.run("template", RELEASE, str(CHART), "--post-renderer", "olrender",
                          *case.post_renderer_args()).ok()
    baseline = client.run("template", RELEASE, str(CHART)).ok()
    assert_injected(parse_documents(rendered.stdout), parse_documents(baseline.stdout), "existing-secret")
    return list(rendered.argv)


def test_wheel_and_sdist(dists: dict[str, Path]) -> None:
    """The wheel holds the package and the olrender console script; the sdist the sources to rebuild it."""
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        entry_points = wheel.read(f"olrender-{__version__}.dist-info/entry_points.txt").decode()
    assert {"postrenderer/cli/__init__.py", "postrenderer/write/kustomize.py", "postrenderer/_commit.py"} <= names
    assert "postrenderer/stale.py" not in names, "a leftover build/ directory went into the wheel"
    assert "olrender = postrenderer.cli:entry" in entry_points
    with tarfile.open(dists["sdist"]) as sdist:
        members = {name.partition("/")[2] for name in sdist.getnames()}
    assert {"pyproject.toml", "README.md", "postrenderer/cli/__init__.py"} <= members


def renders(olrender: Path) -> None:
    """The installed olrender command renders the sample stream."""
    stream = (REPO / "fixtures" / "streams" / "helm3.yaml").read_bytes()
    proc = subprocess.run([str(olrender), "--api-key-secret", "team-key"], input=stream, capture_output=True,
                          timeout=60, check=False, env={k: v for k, v in os.environ.items()
                                                        if not k.startswith(("OLRENDER_", "OPENLINEAGE_"))})
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.count(b"name: team-key") == 4


def pipx_install(dists: dict[str, Path], version_line: str, tmp_path: Path) -> None:
    """``pipx install`` of the wheel, and pip of the sdist into a fresh environment: olrender commands that render."""
    env = {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
           "PIPX_MAN_DIR": str(tmp_path / "man")}
    run([sys.executable, "-m", "pipx", "install", str(dists["wheel"])], cwd=tmp_path, env=env)
    run([sys.executable, "-m", "venv", str(tmp_path / "sdist")], cwd=tmp_path)
    run([str(tmp_path / "sdist" / "bin" / "python"), "-m", "pip", "install", "-q", str(dists["sdist"])], cwd=tmp_path)
    for olrender in (tmp_path / "bin" / "olrender", tmp_path / "sdist" / "bin" / "olrender"):
        assert run([str(olrender), "--version"], cwd=tmp_path).stdout.strip() == version_line
        renders(olrender)


def lifecycle(package: Path, clone: Path, dists: dict[str, Path], version_line: str, real_tool: RealTool,
              tmp_path: Path) -> None:
    """No olrender on PATH: install renders; update is refused; the documented upgrade and uninstall work."""
    client = bare(real_tool, tmp_path / "home")
    refused = client.run("plugin", "install", PACKAGE, cwd=clone).failed()
    assert "no provenance file (.prov) found" in refused.stderr
    installed = client.shell(doc_block("plugin-install-package"), cwd=clone).ok()
    assert f"{version_line}\nInstalled plugin: olrender" in installed.stdout
    assert (plugin_dir(client) / "venv" / "bin" / "olrender").is_file()
    render(client)

    update = client.run("plugin", "update", "olrender").failed()
    assert "cannot get information about plugin source" in update.stderr
    upgrade = doc_block("plugin-upgrade")
    newer = re.search(r"dist/olrender-(\S+)\.tgz", upgrade)
    assert newer and newer[1] != __version__
    later = copy_clone(tmp_path / "later" / "olrender", newer[1])  # (the same wheel: one build a session)
    shutil.copy2(package_in(later, real_tool, dists["wheel"]) / f"olrender-{newer[1]}.tgz", clone / "dist")
    (plugin_dir(client) / "venv" / "marker").write_text("from the first install")
    client.shell(upgrade, cwd=clone).ok()
    listed = client.run("plugin", "list").ok().stdout
    assert re.search(rf"^olrender\s+{re.escape(newer[1])}\s+postrenderer/v1", listed, re.MULTILINE), listed
    assert not (plugin_dir(client) / "venv" / "marker").exists(), "the upgrade made a new environment"
    render(client)

    client.run("plugin", "uninstall", "olrender").ok()
    assert not plugin_dir(client).exists()
    failed = client.run("template", RELEASE, str(CHART), "--post-renderer", "olrender").failed()
    assert "not found" in failed.stderr


@contextlib.contextmanager
def gnupg(tmp_path: Path) -> Iterator[Path]:
    """A home whose ~/.gnupg holds throwaway keys 'olrender release' and 'someone else', exported as the docs say."""
    home = tmp_path / "gnupg-home"
    gnupg = home / ".gnupg"
    gnupg.mkdir(parents=True, mode=0o700)
    env = {"GNUPGHOME": str(gnupg)}
    try:
        for name in ("olrender release", "someone else"):
            run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", name, "rsa2048", "sign", "never"],
                cwd=home, env=env)
        for name, exported in (("secring.gpg", "--export-secret-keys"), ("pubring.gpg", "--export")):
            (gnupg / name).write_bytes(subprocess.run(
                ["gpg", "--batch", exported, "olrender release"], env={**os.environ, **env}, capture_output=True,
                timeout=60, check=True).stdout)
        (gnupg / "other.gpg").write_bytes(subprocess.run(
            ["gpg", "--batch", "--export", "someone else"], env={**os.environ, **env}, capture_output=True,
            timeout=60, check=True).stdout)
        yield home
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, **env}, capture_output=True,
                       timeout=60, check=False)


def signed_install(dists: dict[str, Path], wheelhouse: Path, real_tool: RealTool, tmp_path: Path) -> None:
    """The documented signed package: verified against the keyring; refused by another one; offline pip."""
    signed = copy_clone(tmp_path / "signed" / "olrender")
    with gnupg(tmp_path) as home:
        client = bare(real_tool, home)
        package_in(signed, real_tool, dists["wheel"], "plugin-package-signed", {"HOME": str(home)})
    assert (signed / f"{PACKAGE}.prov").is_file()
    wrong = client.run("plugin", "install", PACKAGE, "--keyring", str(home / ".gnupg" / "other.gpg"), cwd=signed)
    assert wrong.failed() and not plugin_dir(client).exists()
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse), "PIP_CONFIG_FILE": os.devnull}
    installed = client.shell(doc_block("plugin-install-signed"), cwd=signed, env=offline).ok()
    assert "Plugin Hash Verified: sha256:" in installed.stdout
    assert re.search(r"^olrender\s+\S+\s+postrenderer/v1\s+v1\s+signed", client.run("plugin", "list").ok().stdout,
                     re.MULTILINE)
    render(client)


@pytest.fixture(scope="module")
def installs(package: Path, clone: Path, dists: dict[str, Path], version_line: str, wheelhouse: Path,
             real_tool: RealTool,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[None]]]:
    """The three slow checks (each creates a Python environment), started at once; the tests wait for them."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        yield {
            "pipx": pool.submit(pipx_install, dists, version_line, tmp_path_factory.mktemp("pipx")),
            "package": pool.submit(lifecycle, package, clone, dists, version_line, real_tool,
                                   tmp_path_factory.mktemp("package")),
            "signed": pool.submit(signed_install, dists, wheelhouse, real_tool, tmp_path_factory.mktemp("signed")),
        }


def test_wheel_and_sdist_install_a_working_olrender(installs: dict[str, Future[None]]) -> None:
    """``pipx install`` of the wheel, pip of the sdist: olrender commands that name the commit and render."""
    installs["pipx"].result()


def test_package_installs_in_one_step_upgrades_and_uninstalls(installs: dict[str, Future[None]]) -> None:
    """No olrender on PATH: install renders; update is refused; the documented upgrade and uninstall work."""
    installs["package"].result()


def test_signed_package_installs_with_verification(installs: dict[str, Future[None]]) -> None:
    """The documented signed package: verified against the keyring; refused by another one; offline pip."""
    installs["signed"].result()


def test_a_failing_hook_says_why_and_leaves_the_plugin_broken(package: Path, clone: Path, real_tool: RealTool,
                                                               tmp_path: Path) -> None:
    """No usable Python: the hook's own message, Helm's error, and the plugin left installed (as documented)."""
    client = bare(real_tool, tmp_path / "home")
    failed = client.run("plugin", "install", PACKAGE, "--verify=false", cwd=clone,
                        env={"OLRENDER_PYTHON": str(tmp_path / "no-such-python")}).failed()
    assert "olrender plugin: needs Python 3.10 or later" in failed.stderr
    assert 'plugin install hook for "olrender" exited with error' in failed.stderr
    assert "olrender" in client.run("plugin", "list").ok().stdout
    assert not (plugin_dir(client) / "venv").exists()


def test_twine_check_passes_the_wheel_and_the_sdist(dists: dict[str, Path]) -> None:
    """The release workflow's check before the upload: ``twine check --strict`` of both."""
    proc = run([sys.executable, "-m", "twine", "check", "--strict", str(dists["wheel"]), str(dists["sdist"])],
               cwd=dists["wheel"].parent)
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_one_version_everywhere(dists: dict[str, Path]) -> None:
    """``__version__`` is the only source: plugin.yaml and the wheel's metadata say the same."""
    assert re.search(r"(?m)^version: (\S+)$", (REPO / "plugin.yaml").read_text())[1] == __version__  # type: ignore[index]
    assert not (REPO / "helm-plugin" / "plugin.yaml").exists(), "one plugin.yaml for every form"
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        metadata = wheel.read(f"olrender-{__version__}.dist-info/METADATA").decode()
    assert f"\nVersion: {__version__}\n" in metadata
