"""The README's commands, run verbatim as a newcomer runs them: a fresh copy of the repository, a stock PATH.

The machines this suite runs on are Debian 12, with Debian's own ``/usr/bin/python3`` (3.11,
``python3-venv`` installed): it refuses ``pip install`` outside a virtual environment (PEP 668,
``externally-managed-environment``), which is what broke the old quick start. Each command of
the README runs with ``sh -c`` in its own copy of the repository (the files git tracks or
would track, as in a clone), with ``PATH=/usr/bin:/bin``, so that the only Python it can find
is the system's. The test command runs verbatim too; ``PYTEST_ADDOPTS`` points its inner
pytest at one small module, so that the suite does not run itself. What is not covered: a
machine without ``python3-venv`` (Debian's ``venv`` then says ``ensurepip is not available``,
the README names the package) and Ubuntu's own interpreter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from postrenderer import __version__
from tests.tools.pytest_realtools import _in_ci

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SYSTEM_PYTHON = Path("/usr/bin/python3")
STOCK_PATH = "/usr/bin:/bin"
TIMEOUT_S = 600
INNER_TESTS = "-q -p no:cacheprovider tests/test_kubenames.py -m 'not realclient'"


def readme_block(marker: str) -> str:
    """The command in the fenced block after ``<!-- marker -->`` in the README (one line)."""
    pattern = rf"^<!-- {re.escape(marker)} -->\n```sh\n(.*?)\n```$"
    match = re.search(pattern, README.read_text(), re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no sh block marked <!-- {marker} -->"
    return match.group(1)


def system_python_problem() -> str | None:
    """Why this machine cannot stand in for a stock Debian or Ubuntu, or None."""
    if not SYSTEM_PYTHON.exists():
        return f"no system interpreter at {SYSTEM_PYTHON}"
    stdlib = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                            capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    if not (Path(stdlib) / "EXTERNALLY-MANAGED").exists():
        return f"{SYSTEM_PYTHON} is not marked externally managed (PEP 668), as Debian's and Ubuntu's are"
    return None


@pytest.fixture(scope="module")
def stock() -> None:
    """Require Debian's system interpreter (failing in CI, where it must be there)."""
    problem = system_python_problem()
    if problem and _in_ci():
        pytest.fail(f"{problem} (CI must not skip)", pytrace=False)
    if problem:
        pytest.skip(problem)


def fresh_copy(dest: Path) -> Path:
    """The repository's files as a clone would have them (tracked or new, not ignored), at dest."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name, follow_symlinks=False)
    return dest


def newcomer_env(home: Path | None = None) -> dict[str, str]:
    """A stock PATH; pip's own settings (index, certificates) and cache kept; nothing of ours or of a venv."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("OLRENDER_", "OPENLINEAGE_", "PYTHON", "VIRTUAL_ENV", "PYTEST", "HELM_", "_"))}
    env["PATH"] = STOCK_PATH
    if home is not None:
        env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
        env["HOME"] = str(home)
    return env


def sh(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one documented command as a shell runs it."""
    return subprocess.run(["/bin/sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)


@pytest.fixture(scope="module")
def runs(stock: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[object]]]:
    """The README's commands, each in its own fresh copy, started at once (the pip installs dominate)."""
    home = tmp_path_factory.mktemp("home")
    shutil.copy2("/etc/skel/.profile", home / ".profile")  # a new user's login profile (Debian's bash package)
    jobs = {
        "run": (readme_block("quickstart-run"), newcomer_env()),
        "test": (readme_block("quickstart-test"), {**newcomer_env(), "PYTEST_ADDOPTS": INNER_TESTS}),
        "install": (readme_block("install"), newcomer_env(home)),
        "trap": ("python3 -m pip install .", newcomer_env()),  # what the README used to say
    }
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures: dict[str, Future[object]] = {
            name: pool.submit(sh, command, fresh_copy(tmp_path_factory.mktemp(f"clone-{name}")), env)
            for name, (command, env) in jobs.items()
        }
        futures["home"] = pool.submit(lambda: home)
        yield futures


def result(runs: dict[str, Future[object]], name: str) -> subprocess.CompletedProcess[str]:
    """Wait for one command."""
    proc = runs[name].result()
    assert isinstance(proc, subprocess.CompletedProcess)
    return proc


def test_the_machine_is_a_stock_debian(stock: None) -> None:
    """The interpreter on the stock PATH is the system's, the one the README's commands must work with."""
    found = subprocess.run(["/bin/sh", "-c", "command -v python3 && python3 -c 'import sys; print(sys.prefix)'"],
                           env=newcomer_env(), capture_output=True, text=True, check=True, timeout=60).stdout.split()
    assert found == ["/usr/bin/python3", "/usr"]


def test_a_plain_pip_install_fails_there(runs: dict[str, Future[object]]) -> None:
    """`python3 -m pip install .`, the old quick start, fails on the system interpreter, as the issue reported."""
    proc = result(runs, "trap")
    assert proc.returncode != 0 and "externally-managed-environment" in proc.stdout + proc.stderr


def test_the_quick_start_renders_the_sample(runs: dict[str, Future[object]]) -> None:
    """The first command installs olrender into .venv and renders the bundled sample with the key injected."""
    proc = result(runs, "run")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    rendered = proc.stdout[proc.stdout.index("---"):]  # (pip's messages come first)
    assert rendered.count("name: OPENLINEAGE_API_KEY") == 4 and "kind: Secret" in rendered
    assert "olrender: 4 component(s), 4 document(s) changed, 1 added" in proc.stderr
    assert "sk-demo-key-0123456789" not in proc.stderr


def test_the_test_command_installs_the_test_dependencies_and_runs_pytest(runs: dict[str, Future[object]]) -> None:
    """The second command, verbatim: an editable install with the test extras, then pytest from .venv."""
    proc = result(runs, "test")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert re.search(r"^\d+ passed", proc.stdout.splitlines()[-1]), proc.stdout[-2000:]


def test_the_install_puts_olrender_on_a_login_shells_path(runs: dict[str, Future[object]]) -> None:
    """The Install command, then a new login shell (the user's next login) finds `olrender` by name."""
    proc = result(runs, "install")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    home = runs["home"].result()
    assert isinstance(home, Path)
    login = subprocess.run(["/bin/sh", "-lc", "command -v olrender && olrender --version"], capture_output=True,
                           text=True, env={"HOME": str(home), "PATH": STOCK_PATH}, timeout=60, check=False)
    assert login.returncode == 0, login.stderr
    assert login.stdout.split()[0] == str(home / ".local" / "bin" / "olrender") and __version__ in login.stdout


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """`.ci/run` runs the README's test command, character for character."""
    script = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in script.splitlines() if line.strip() and not line.startswith(("#", "set ", "cd ",
                                                                                              "export "))]
    assert commands == [readme_block("quickstart-test")]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lowercase, punctuation dropped, spaces as dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def test_every_link_between_the_docs_resolves() -> None:
    """Each relative link of the README and docs/ names a file that exists and, after #, one of its headings."""
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        prose = re.sub(r"`[^`\n]*`", "", page.read_text())  # (code may hold "](" too)
        for target in re.findall(r"\]\(([^)\s]+)\)", prose):
            if "://" in target or target.startswith("mailto:"):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.MULTILINE)
                if anchor not in {slug(h) for h in headings}:
                    broken.append(f"{page.name}: {target}")
    assert not broken
