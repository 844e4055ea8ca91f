"""The cost model: every stream within the documented limits costs time and memory in proportion to its size.

The limits (docs/reliability.md) are refused with exit 3 and the number as soon
as they are passed; inputs at the limits finish within the bound. Linearity is
shown by counting work (function calls under cProfile), never by timing; the
real-process runs only check generous time and memory ceilings, so that a
hang or an explosion fails the suite instead of stalling it.
"""

from __future__ import annotations

import cProfile
import pstats

import pytest

from postrenderer.config.settings import ApiKey, OpenLineageConfig, Settings
from postrenderer.read import analysis, stream
from tests import programs
from tests.hardening import aliases, component, cost_shapes, many_documents, pods, run_measured, worst_case

KEY = "sk-test-cost-model-0001"
ENV = {"OPENLINEAGE_API_KEY": KEY}
SETTINGS = Settings(openlineage=OpenLineageConfig(api_key=ApiKey(KEY), url="https://o11y.astronomer.io",
                                                  namespace="ultraviolet-corona-6870"))


# what each read-side shape must say when it is refused: the document, the variable and the limit
REFUSALS = {
    0: ["document 2 (Deployment/agent-triggerer): container 'agent': OPENLINEAGE_CONFIG: the config file "
        "/etc/ol/openlineage.yml (key openlineage.yml of document 1 (ConfigMap/ol-config)): YAML aliases expand to "
        "more than 1,000,000 nodes"],
    5: ["document 1 (Deployment/agent-triggerer): container 'agent': AIRFLOW__OPENLINEAGE__TRANSPORT: the JSON "
        "value is nested more than 200 levels deep (olrender's limit)"],
    6: ["container 'agent': OPENLINEAGE__TRANSPORT: the JSON value is nested more than 200 levels deep"],
    7: ["(key openlineage.yml of document 1 (ConfigMap/ol-config)): nested more than 200 levels deep at line 1"],
    8: ["takes keys from a << merge key (line 9)"],
}


def calls(data: bytes) -> int:
    """The Python function calls a whole in-process render of data makes."""
    profile = cProfile.Profile()
    profile.runcall(programs.render, data, SETTINGS)
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def test_work_grows_linearly_with_components() -> None:
    """Ten times the components, ten times the work (within 5 %): no step is quadratic."""
    small, large = calls(pods(300)), calls(pods(3_000))
    assert 9.5 < large / small < 10.5, (small, large)


def test_component_limit_is_refused_early() -> None:
    """100,000 components: refused once the 10,001st is read, naming the limit."""
    run = run_measured([], pods(100_000), ENV, timeout=300)
    assert run.returncode == 3, run.text
    assert f"more than {analysis.MAX_COMPONENTS:,} agent components" in run.text
    assert run.stdout == b""
    assert run.seconds < 120 and run.max_rss_mb < 400, (run.seconds, run.max_rss_mb)


def test_components_at_the_limit_finish() -> None:
    """10,000 components (the limit) all get their key, within the bound (30 s and 1 GiB, with room for noise)."""
    run = run_measured([], pods(analysis.MAX_COMPONENTS), ENV, timeout=300)
    assert run.returncode == 0, run.text
    assert run.stdout.count(b"name: OPENLINEAGE_API_KEY") == analysis.MAX_COMPONENTS
    assert run.seconds < 120 and run.max_rss_mb < 1024, (run.seconds, run.max_rss_mb)


def test_empty_documents_are_counted() -> None:
    """64 MiB of empty documents around one component: more than 200,000 documents, refused at once."""
    data = b"---\n" * (16 * 2**20 - 40) + pods(1)
    run = run_measured([], data, ENV, timeout=120)
    assert run.returncode == 3, run.text
    assert f"more than {stream.MAX_DOCUMENTS:,} documents" in run.text
    assert run.seconds < 30 and run.max_rss_mb < 500, (run.seconds, run.max_rss_mb)


def test_documents_at_the_limit_pass() -> None:
    """200,000 documents (empty ones and ConfigMaps) with a component pass through."""
    data = many_documents()
    assert stream.MAX_DOCUMENTS - 2 <= data.count(b"---") <= stream.MAX_DOCUMENTS
    run = run_measured([], data, ENV, timeout=300)
    assert run.returncode == 0, run.text
    assert run.stdout.startswith(data[: data.index(b"p0-worker-a")])
    assert run.seconds < 120 and run.max_rss_mb < 600, (run.seconds, run.max_rss_mb)


def test_aliases_are_counted_in_bytes() -> None:
    """200 aliases of a 1 MiB string (1 MiB in, 201 MiB as Kubernetes expands it): refused at once."""
    run = run_measured([], aliases(2**20, 200), ENV)
    assert run.returncode == 3, run.text
    assert "YAML aliases expand to 201 MiB of text, more than the 16 MiB a document may hold" in run.text
    assert run.seconds < 30 and run.max_rss_mb < 200, (run.seconds, run.max_rss_mb)


def test_a_component_that_would_outgrow_the_limit_is_refused() -> None:
    """Right under 16 MiB a component would grow past it: refused, so that a second run never fails."""
    near = component(stream.MAX_DOCUMENT_BYTES - 100)
    assert len(near) <= stream.MAX_DOCUMENT_BYTES
    run = run_measured([], near, ENV, timeout=180)
    assert run.returncode == 3, run.text
    assert "with olrender's changes the document would be 16.00 MiB, over the 16 MiB olrender accepts" in run.text
    fits = component(stream.MAX_DOCUMENT_BYTES - 4096)
    first = run_measured([], fits, ENV, timeout=180)
    assert first.returncode == 0, first.text
    second = run_measured([], first.stdout, ENV, timeout=180)
    assert second.returncode == 0 and second.stdout == first.stdout, second.text


def test_components_hold_16_mib_at_most() -> None:
    """Four 16 MiB components: refused at the second; one of them beside 48 MiB more is the worst case that passes."""
    run = run_measured([], component(16 * 2**20 - 4096, "a-triggerer") + component(16 * 2**20 - 4096), ENV,
                       timeout=180)
    assert run.returncode == 3, run.text
    assert f"agent components hold more than {analysis.MAX_COMPONENT_BYTES // 2**20} MiB of text together" in run.text
    worst = run_measured([], worst_case(), ENV, timeout=300)
    assert worst.returncode == 0, worst.text
    assert worst.seconds < 120 and worst.max_rss_mb < 1024, (worst.seconds, worst.max_rss_mb)


@pytest.mark.parametrize("number", range(len(cost_shapes())), ids=[label[:60] for label, _, _ in cost_shapes()])
def test_read_side_shapes_within_the_bound(number: int) -> None:
    """Each cost and internal-error shape of the read side: its exit code and message, within 30 s and 1 GiB.

    (100,000 same-named ConfigMaps with 10,000 components are mostly parse work, linear in the stream:
    their ceiling is that of the other large streams here, 120 s.)
    """
    label, data, code = cost_shapes()[number]
    run = run_measured([], data, ENV, timeout=300)
    assert run.returncode == code, run.text
    assert "Traceback" not in run.text
    for fragment in REFUSALS.get(number, []):
        assert fragment in run.text
    if code:
        assert run.stdout == b""
    ceiling = 120 if "100,000 same-named" in label else 30
    assert run.seconds < ceiling and run.max_rss_mb < 1024, (run.seconds, run.max_rss_mb)


def test_a_config_file_is_read_once_per_run() -> None:
    """Ten components mounting one 1 MiB config file: it is parsed once, not once per component."""
    from postrenderer.read import reader
    from tests.hardening import large_config

    profile = cProfile.Profile()
    profile.runcall(programs.render, large_config(2**20, 10), SETTINGS)
    loads = [count for (file, _, name), (count, *_rest) in pstats.Stats(profile).stats.items()  # type: ignore[attr-defined]
             if name == "load" and file == reader.__file__]
    documents = 11  # the ConfigMap and the ten components, each read once
    read_back = 10  # each changed component, read back before it is written (verify.check)
    assert sum(loads) == documents + read_back + 1, loads  # and the config file once


def test_objects_are_found_in_constant_time() -> None:
    """A lookup among 100,000 same-named objects in other namespaces costs what a lookup among one does."""
    from postrenderer.read.objects import Objects

    def lookup_calls(others: int) -> int:
        objects = Objects()
        for i in range(others):
            objects.add({"kind": "ConfigMap", "metadata": {"name": "shared", "namespace": f"ns-{i}"}})
        profile = cProfile.Profile()
        profile.runcall(lambda: [objects.content("ConfigMap", "shared", "agent") for _ in range(1_000)])
        return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]

    assert lookup_calls(100_000) == lookup_calls(1)
