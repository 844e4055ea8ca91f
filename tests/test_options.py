"""Tests for postrenderer.cli.options: fast_parse gives the command what click would, or defers to click.

Equivalence is checked against the real click command (``cli.build_command``)
on generated command lines and environments (hypothesis, derandomized) and on
fixed examples; the invocations users actually type must not defer; a plain
render must not import click at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postrenderer import cli
from postrenderer.cli.click_command import build_command
from postrenderer.cli.options import FLAG, OPTIONS, fast_parse
from tests.budget import examples

ROOT = Path(__file__).resolve().parent.parent
HELM3 = (ROOT / "fixtures" / "streams" / "helm3.yaml").read_bytes()
KEY = "sk-test-options-0001"
EQUIVALENCE_SETTINGS = settings(
    max_examples=examples(1000), deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def click_params(argv: Sequence[str], env: Mapping[str, str]) -> dict[str, Any]:
    """The parameters click gives the command for argv, with exactly env as the OLRENDER_* environment."""
    with mock.patch.dict(os.environ):
        for name in [name for name in os.environ if "OLRENDER_" in name]:
            del os.environ[name]
        os.environ.update(env)
        with build_command().make_context("olrender", list(argv)) as ctx:
            return dict(ctx.params)


def assert_same_as_click(argv: Sequence[str], env: Mapping[str, str]) -> dict[str, Any] | None:
    """fast_parse either defers or equals click; return its answer."""
    fast = fast_parse(argv, env)
    if fast is not None:
        assert fast == click_params(argv, env), (argv, env)
        assert list(fast) == [spec.name for spec in OPTIONS]
    return fast


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A directory and a regular file to name as values files."""
    base = tmp_path_factory.mktemp("options")
    (base / "values.yaml").write_text("openLineage: {}\n")
    return {"<dir>": str(base), "<file>": str(base / "values.yaml")}


def substitute(text: str, paths: dict[str, str]) -> str:
    """Replace the <dir>/<file> placeholders by real paths."""
    for placeholder, path in paths.items():
        text = text.replace(placeholder, path)
    return text


# ---- generated command lines and environments

DECLS = [decl for spec in OPTIONS for decl in spec.decls]
VALUES = ["a.yaml", "b.yaml", "", "-x", "-", "=", "x=y", "--", "secret", "existing-secret", "vault", "SECRET",
          "json", "text", "config-file", "<dir>", "<file>", "1", "true", "no"]
OTHER_TOKENS = ["-h", "--help", "--version", "--", "-", "--no-such-option", "-x", "-fh", "positional"]
ENV_NAMES = sorted({name for spec in OPTIONS for name in spec.envvars}
                   | {"OLRENDER_HELP", "OLRENDER_VERSION", "OLRENDER_UNKNOWN"})
ENV_VALUES = ["", " ", "1", "0", "true", "false", "TRUE", "False", "yes", "no", "on", "off", "y", "t", "2", "x",
              " true", "a.yaml", "a.yaml:b.yaml", ":", "a::b", "<dir>", "<file>", "<file>:<dir>", "secret", "vault",
              "json", "-x"]

tokens = st.one_of(
    st.sampled_from(DECLS),
    st.sampled_from(VALUES),
    st.sampled_from(OTHER_TOKENS),
    st.builds(lambda decl, value: f"{decl}={value}", st.sampled_from(DECLS), st.sampled_from(VALUES)),
    st.builds(lambda value: f"-f{value}", st.sampled_from(VALUES)),
)
pairs = st.builds(lambda decl, value: [decl, value], st.sampled_from(DECLS), st.sampled_from(VALUES))


@st.composite
def well_formed(draw: st.DrawFn) -> list[str]:
    """One option as users write it: a flag, or an option with a value it accepts, separate or glued."""
    spec = draw(st.sampled_from(OPTIONS))
    decl = draw(st.sampled_from(spec.decls))
    if spec.kind == FLAG:
        return [decl]
    value = draw(st.sampled_from(spec.choices or tuple(v for v in VALUES if not v.startswith("-"))))
    if draw(st.booleans()):
        return [decl, value]
    return [f"{decl}={value}" if decl.startswith("--") else decl + value]


# half well-formed options, so that fast_parse often answers; the rest anything from the vocabulary
parts = st.integers(0, 3).flatmap(
    lambda n: tokens.map(lambda token: [token]) if n == 0 else pairs if n == 1 else well_formed()
)
argvs = st.lists(parts, max_size=5).map(
    lambda parts: [token for part in parts for token in part]
)
environments = st.dictionaries(st.sampled_from(ENV_NAMES), st.sampled_from(ENV_VALUES), max_size=4)


@EQUIVALENCE_SETTINGS
@given(argv=argvs, env=environments)
def test_fast_parse_equals_click_or_defers(argv: list[str], env: dict[str, str], paths: dict[str, str]) -> None:
    """For any command line and environment, a fast_parse answer is exactly click's parameters."""
    assert_same_as_click([substitute(arg, paths) for arg in argv],
                         {name: substitute(value, paths) for name, value in env.items()})


def test_generated_examples_are_not_all_deferred(paths: dict[str, str]) -> None:
    """The property above is not vacuous: the generator's shapes are mostly ones fast_parse answers."""
    answered = [
        assert_same_as_click([substitute(a, paths) for a in argv], env) is not None
        for argv, env in [
            (["--url", "x=y", "-f", "<file>", "--method=vault"], {}),
            (["-f<file>", "--values=b.yaml", "--check", "--check"], {"OLRENDER_DEBUG": "TRUE"}),
            (["--report-format", "json", "--report-format=text"], {"OLRENDER_VALUES_FILES": "a.yaml:b.yaml"}),
            (["--method", "SECRET", "--method", "secret"], {}),  # only the last value is converted
            (["-f", ""], {"OLRENDER_URL": " "}),
        ]
    ]
    assert all(answered)


# ---- fixed examples


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        ([], {}, {}),
        (["--values=values.yaml"], {}, {"values_files": ("values.yaml",)}),
        (["-f", "a.yaml", "-f", "b.yaml"], {}, {"values_files": ("a.yaml", "b.yaml")}),
        (["-fa.yaml", "--values", "b.yaml"], {}, {"values_files": ("a.yaml", "b.yaml")}),
        (["-f=a.yaml"], {}, {"values_files": ("=a.yaml",)}),  # click's reading of a glued short option
        (["--api-key-secret", "NAME"], {}, {"api_key_secret": "NAME"}),
        (["--method", "vault", "--vault-addr", "https://vault.example:8200", "--vault-role", "astro-agent"], {},
         {"method": "vault", "vault_addr": "https://vault.example:8200", "vault_role": "astro-agent"}),
        (["--check"], {}, {"check": True}),
        (["--log-file", "olrender.log"], {}, {"log_file": "olrender.log"}),
        (["--url", "a", "--url=b"], {"OLRENDER_URL": "c"}, {"url": "b"}),
        (["--url="], {}, {"url": ""}),
        ([], {"OLRENDER_API_KEY_SECRET": "mine"}, {"api_key_secret": "mine"}),
        ([], {"OLRENDER_VALUES": "a.yaml:b.yaml"}, {"values_files": ("a.yaml", "b.yaml")}),
        ([], {"OLRENDER_VALUES_FILES": "a.yaml"}, {"values_files": ("a.yaml",)}),
        (["-f", "c.yaml"], {"OLRENDER_VALUES": "a.yaml:b.yaml"}, {"values_files": ("c.yaml",)}),
        ([], {"OLRENDER_OVERWRITE": "true", "OLRENDER_CHECK": "0", "OLRENDER_DEBUG": "Yes"},
         {"overwrite": True, "check": False, "debug": True}),
        (["--overwrite"], {"OLRENDER_OVERWRITE": "false"}, {"overwrite": True}),
        ([], {"OLRENDER_URL": "", "OLRENDER_OVERWRITE": ""}, {}),  # empty is unset
        ([], {"OLRENDER_METHOD": "existing-secret", "OLRENDER_REPORT_FORMAT": "json"},
         {"method": "existing-secret", "report_format": "json"}),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_usual_invocations_are_parsed_like_click(argv: list[str], env: dict[str, str],
                                                 expected: dict[str, Any]) -> None:
    """The forms users type are answered (no click import), with click's values."""
    fast = assert_same_as_click(argv, env)
    assert fast is not None
    unset = {spec.name: () if spec.name == "values_files" else None for spec in OPTIONS}
    assert fast == {**unset, **expected}


def test_every_option_and_its_variable_is_parsed(paths: dict[str, str]) -> None:
    """Each option in the table, on the command line and from its OLRENDER_* variable, takes the fast path."""
    for spec in OPTIONS:
        value = "true" if spec.kind == FLAG else (spec.choices or (paths["<file>"],))[0]
        for argv, env in [(list(spec.decls[-1:]) + ([] if spec.kind == FLAG else [value]), {}),
                          ([], {spec.envvar: value})]:
            assert assert_same_as_click(argv, env) is not None, (spec, argv, env)


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["-h"], {}),
        (["--help"], {}),
        (["--version"], {}),
        (["--check", "-h"], {}),
        (["--no-such-option"], {}),
        (["--ur", "x"], {}),  # click knows no abbreviations
        (["-x"], {}),
        (["positional"], {}),
        (["--"], {}),
        (["--", "--check"], {}),
        (["-"], {}),
        (["--url", "-x"], {}),  # click would take -x as the URL: let it
        (["-f", "--check"], {}),
        (["--url"], {}),
        (["-f"], {}),
        (["--check=1"], {}),
        (["--check="], {}),
        (["--method", "SECRET"], {}),
        (["--method=nope"], {}),
        (["--report-format", "yaml"], {}),
        (["-f", "<dir>"], {}),
        (["--values=<dir>"], {}),
        ([], {"OLRENDER_VALUES": "<file>:<dir>"}),
        ([], {"OLRENDER_VALUES": "a.yaml::b.yaml"}),
        ([], {"OLRENDER_METHOD": "Vault"}),
        ([], {"OLRENDER_CHECK": "2"}),
        ([], {"OLRENDER_CHECK": " "}),
        ([], {"OLRENDER_CHECK": " true"}),
        ([], {"OLRENDER_CHECK": "t"}),
        ([], {"OLRENDER_VERSION": "1"}),
        ([], {"OLRENDER_HELP": "1"}),
        ([], {"_OLRENDER_COMPLETE": "bash_source"}),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_defers_to_click(argv: list[str], env: dict[str, str], paths: dict[str, str]) -> None:
    """Help, version, errors and doubtful forms are left to click."""
    argv = [substitute(arg, paths) for arg in argv]
    env = {name: substitute(value, paths) for name, value in env.items()}
    assert fast_parse(argv, env) is None


def test_click_command_is_still_there() -> None:
    """cli.command is the click command (tests and embedders use it); other names still fail."""
    assert isinstance(cli.command, click.Command) and cli.command is build_command()
    with pytest.raises(AttributeError):
        cli.no_such_thing  # noqa: B018


# ---- the process


LAUNCHER = """\
import atexit, sys
atexit.register(lambda: sys.stderr.write(f"\\nclick imported: {'click' in sys.modules}\\n"))
from postrenderer import cli
from postrenderer.cli import entrypoint
if sys.argv[1] == "click":  # force the click path
    entrypoint.fast_parse = lambda argv, environ: None
cli.main(sys.argv[2:])
"""


def launch(path: str, *args: str, env: dict[str, str] | None = None, data: bytes = HELM3,
           cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    """Run cli.main(args) in a fresh interpreter through the fast or the click path."""
    base = {k: v for k, v in os.environ.items() if "OLRENDER_" not in k and k != "OPENLINEAGE_API_KEY"}
    base.update(env or {})
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-c", LAUNCHER, path, *args], input=data, capture_output=True,
                          env=base, cwd=cwd, timeout=60, check=False)


def test_plain_render_does_not_import_click() -> None:
    """A render with a values file and the key in the environment never imports click."""
    proc = launch("fast", "-f", "fixtures/sample/values.yaml", env={"OPENLINEAGE_API_KEY": KEY})
    assert proc.returncode == 0, proc.stderr
    assert b"OPENLINEAGE_API_KEY" in proc.stdout
    assert proc.stderr.decode().endswith("click imported: False\n")


def test_help_still_uses_click() -> None:
    """--help goes through click and shows the options, their variables and the exit codes."""
    proc = launch("fast", "--help")
    assert proc.returncode == 0
    assert b"OLRENDER_API_KEY_SECRET" in proc.stdout and b"Exit codes" in proc.stdout
    assert proc.stderr.decode().endswith("click imported: True\n")


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A directory with a values file and a key file."""
    (tmp_path / "values.yaml").write_text("openLineage:\n  namespace: ultraviolet-corona-6870\n")
    key = tmp_path / "key"
    key.write_text(KEY + "\n")
    key.chmod(0o600)
    yield tmp_path


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ([], {"OPENLINEAGE_API_KEY": KEY}),
        (["-f", "values.yaml", "--api-key-file", "key", "--debug"], {}),
        ([], {"OLRENDER_API_KEY_SECRET": "mine", "OLRENDER_OVERWRITE": "true", "OLRENDER_VALUES": "values.yaml"}),
        (["--check"], {}),
        (["--emit-patches", "--api-key-secret", "mine"], {}),
        ([], {}),  # the secret method without a key: exit 2
        (["--url", "https://other.example"], {"OPENLINEAGE_API_KEY": KEY}),  # conflict: exit 4
        (["-f", "missing.yaml"], {"OPENLINEAGE_API_KEY": KEY}),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_fast_and_click_paths_behave_the_same(args: list[str], env: dict[str, str], workdir: Path) -> None:
    """Same exit code, stdout and stderr whichever path parsed the options (one command body)."""
    fast = launch("fast", *args, env=env, cwd=workdir)
    slow = launch("click", *args, env=env, cwd=workdir)
    assert fast.stderr.decode().endswith("click imported: False\n")
    assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout)
    assert fast.stderr.replace(b"False", b"True") == slow.stderr
    assert KEY.encode() not in fast.stderr
