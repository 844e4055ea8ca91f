"""olrender's packages, built and installed as documented: the wheel and sdist, pipx, the Helm 4 plugin package.

Everything runs from a copy of the repository (a "clone": pyproject.toml, README.md, postrenderer/,
helm-plugin/), so builds write nothing into the working tree. ``python -m build`` makes the wheel and
the sdist once; ``pipx install`` of that wheel must give a working ``olrender``. The plugin package is
built with the documented ``helm-plugin/package.sh`` (packaging that one wheel: ``WHEEL=FILE``; its
other branch runs the same ``python -m build --wheel``) and installed through real helm 4.3.1 with a
``PATH`` that holds helm, ``sh`` and the system ``python3`` but no ``olrender``: its install hook must
create the environment the plugin renders with::

    helm-plugin/package.sh                                          # dist/olrender-0.1.0.tgz
    helm plugin install dist/olrender-0.1.0.tgz --verify=false      # then: helm template ... --post-renderer olrender

The upgrade installs a package whose plugin version is the one the docs name (same wheel). The
signed variant uses a throwaway GnuPG key made in the test (``HOME`` and ``GNUPGHOME`` are
temporary) and is installed with pip kept off the package index (``PIP_NO_INDEX``, the dependencies
from a local folder), the documented way for machines without one. These tests need the package index
for the build's setuptools and the plugin's dependencies; under ``CI=true`` a failure there fails them.
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
CLONE = ("pyproject.toml", "README.md", "postrenderer", "helm-plugin")
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
                              (target / "helm-plugin" / "plugin.yaml", r"(?m)^version: \S+")):
            text = path.read_text()
            replacement = f'__version__ = "{version}"' if "__init__" in path.name else f"version: {version}"
            path.write_text(re.sub(pattern, replacement, text, count=1))
    return target


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the repository at the current version."""
    return copy_clone(tmp_path_factory.mktemp("clone") / "olrender")


@pytest.fixture(scope="module")
def dists(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``python -m build`` of the clone: the sdist, and the wheel built from it."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(clone)], cwd=clone)
    wheel, sdist = out / f"olrender-{__version__}-py3-none-any.whl", out / f"olrender-{__version__}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in out.iterdir())
    return {"wheel": wheel, "sdist": sdist}


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
def package(clone: Path, real_tool: RealTool, dists: dict[str, Path]) -> Path:
    """The unsigned plugin package, made by the documented command in the clone."""
    built = package_in(clone, real_tool, dists["wheel"]) / PACKAGE.removeprefix("dist/")
    assert built.is_file()
    return built


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
    assert {"postrenderer/cli/__init__.py", "postrenderer/write/kustomize.py"} <= names
    assert "olrender = postrenderer.cli:entry" in entry_points
    with tarfile.open(dists["sdist"]) as sdist:
        members = {name.partition("/")[2] for name in sdist.getnames()}
    assert {"pyproject.toml", "README.md", "postrenderer/cli/__init__.py"} <= members


def pipx_install(dists: dict[str, Path], tmp_path: Path) -> None:
    """``pipx install`` of the wheel gives an olrender command that renders."""
    env = {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
           "PIPX_MAN_DIR": str(tmp_path / "man")}
    run([sys.executable, "-m", "pipx", "install", str(dists["wheel"])], cwd=tmp_path, env=env)
    olrender = tmp_path / "bin" / "olrender"
    assert run([str(olrender), "--version"], cwd=tmp_path).stdout.strip() == f"olrender, version {__version__}"
    stream = (REPO / "fixtures" / "streams" / "helm3.yaml").read_bytes()
    proc = subprocess.run([str(olrender), "--api-key-secret", "team-key"], input=stream, capture_output=True,
                          timeout=60, check=False, env={k: v for k, v in os.environ.items()
                                                        if not k.startswith(("OLRENDER_", "OPENLINEAGE_"))})
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.count(b"name: team-key") == 4


def lifecycle(package: Path, clone: Path, dists: dict[str, Path], real_tool: RealTool, tmp_path: Path) -> None:
    """No olrender on PATH: install renders; update is refused; the documented upgrade and uninstall work."""
    client = bare(real_tool, tmp_path / "home")
    refused = client.run("plugin", "install", PACKAGE, cwd=clone).failed()
    assert "no provenance file (.prov) found" in refused.stderr
    installed = client.shell(doc_block("plugin-install-package"), cwd=clone).ok()
    assert f"olrender, version {__version__}\nInstalled plugin: olrender" in installed.stdout
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
def installs(package: Path, clone: Path, dists: dict[str, Path], wheelhouse: Path, real_tool: RealTool,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[None]]]:
    """The three slow checks (each creates a Python environment), started at once; the tests wait for them."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        yield {
            "pipx": pool.submit(pipx_install, dists, tmp_path_factory.mktemp("pipx")),
            "package": pool.submit(lifecycle, package, clone, dists, real_tool, tmp_path_factory.mktemp("package")),
            "signed": pool.submit(signed_install, dists, wheelhouse, real_tool, tmp_path_factory.mktemp("signed")),
        }


def test_pipx_installs_a_working_olrender(installs: dict[str, Future[None]]) -> None:
    """``pipx install`` of the wheel gives an olrender command that renders."""
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


def test_directory_installs_run_hooks_inside_the_link(real_tool: RealTool, tmp_path: Path) -> None:
    """Helm 4 runs a directory plugin's install hook in the linked directory: why the repository's has none."""
    plugin = tmp_path / "checkout" / "olrender"  # (helm names the link after the directory)
    plugin.mkdir(parents=True)
    hooked = (REPO / "helm-plugin" / "plugin.yaml").read_text().replace(
        'exec sh "$HELM_PLUGIN_DIR/install.sh"', 'touch "$HELM_PLUGIN_DIR/hook-ran"')
    assert "hook-ran" in hooked
    (plugin / "plugin.yaml").write_text(hooked)
    client = bare(real_tool, tmp_path / "home")
    client.run("plugin", "install", str(plugin)).ok()
    assert plugin_dir(client).is_symlink() and (plugin / "hook-ran").is_file()
    assert "platformHooks" not in (REPO / "plugin.yaml").read_text()
