"""The post-renderer's one program as unit tests call it: ``program.program``, the run's failure raised.

``render`` is render mode with the output joined; ``check`` is ``--check`` mode's verdict data
(a check resolution needs no key: the expectations are the URL and namespace it is given).
"""

from __future__ import annotations

from postrenderer import program
from postrenderer.config.settings import Settings
from postrenderer.inject.contract import OpenLineageConfig
from postrenderer.lint.container import Expected
from postrenderer.lint.verdict import CheckResult
from postrenderer.read.discovery import ComponentRules
from postrenderer.result import Result


def render(data: bytes, settings: Settings) -> Result:
    """Render mode through ``program.program``; raises the run's failure (conflicts, no match)."""
    result = program.program(data, settings)
    if result.failure is not None:
        raise result.failure
    result.output = b"".join(result.parts)
    return result


def output(result: Result) -> bytes:
    """The output stream of a render."""
    return b"".join(result.parts)


def check(data: bytes, rules: ComponentRules, expected: Expected | None = None,
          forbid_plaintext: bool = False) -> CheckResult:
    """``--check`` mode through ``program.program``: the evaluation of every component (the verdict not raised)."""
    expected = expected or Expected()
    config = OpenLineageConfig(url=expected.url, namespace=expected.namespace)
    result = program.program(data, Settings(config, rules), mode="check", forbid_plaintext=forbid_plaintext)
    assert result.check is not None
    return result.check
