"""Let the real OpenLineage client (or the Airflow provider) send one event per case, as a container would.

Run as ``python emit_oracle.py {client|airflow} CASES.json RESULTS.json`` by the
interpreter that has the real packages (the project's for ``client``, the cached
Airflow virtualenv for ``airflow``). For each case, in order, it replaces
``os.environ`` with the case's environment, writes the case's files, changes to
its working directory, builds the client (``OpenLineageClient()``, or
``OpenLineageAdapter().get_or_create_openlineage_client()`` with the provider's
cached settings cleared, after ``conf.is_disabled()``), and emits one START event
whose job name is ``<mode>-<n>``. The packages are imported once; each case runs in a
forked child of that clean process, so that no case sees another's settings. The
answer per case is ``{"kind": <transport kind>}`` or ``{"kind": "error", "error":
"<type>"}`` (the message is left out: it may hold a key). What was sent is what the loopback ``Recorder`` saw.
Standard library only at import time.
"""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from typing import Any

from forked import in_child  # (beside this script: it runs as a script)


def _client(mode: str) -> Any:
    """The client as the consumer builds it."""
    if mode == "airflow":
        from airflow.providers.openlineage import conf
        from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter

        for setting in vars(conf).values():  # the provider caches every setting (functools.cache)
            getattr(setting, "cache_clear", lambda: None)()
        if conf.is_disabled():
            return None
        return OpenLineageAdapter().get_or_create_openlineage_client()
    from openlineage.client import OpenLineageClient

    return OpenLineageClient()


def _emit(mode: str, number: int, case: dict[str, Any]) -> dict[str, Any]:
    """Build the client from the case's environment and send one event."""
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

    os.environ.clear()
    os.environ.update(case["env"])
    for path, text in case.get("files", {}).items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    os.makedirs(case["cwd"], exist_ok=True)
    os.chdir(case["cwd"])
    try:
        client = _client(mode)
        if client is None:
            return {"kind": "disabled"}
        event = RunEvent(eventType=RunState.START, eventTime="2026-12-07T00:00:00Z", producer="olrender-tests",
                         run=Run(runId="01930000-0000-7000-8000-000000000000"),
                         job=Job(namespace="olrender-tests", name=f"{mode}-{number}"))
        client.emit(event)
        kind = getattr(client.transport, "kind", None) or type(client.transport).__name__
        client.transport.close(0)
        return {"kind": kind}
    except Exception as exc:
        return {"kind": "error", "error": type(exc).__name__}




def main(argv: list[str]) -> int:
    """Emit for every case of CASES.json and write the answers, in order, to RESULTS.json."""
    mode, cases_path, results_path = argv
    with open(cases_path, encoding="utf-8") as fh:
        cases = json.load(fh)
    import logging

    logging.disable(logging.CRITICAL)  # the client logs every transport it builds
    if mode == "airflow":
        import airflow.providers.openlineage.plugins.adapter  # noqa: F401  (import once, before forking)
    import openlineage.client.event_v2  # noqa: F401
    answers = [in_child(partial(_emit, mode, number, case), f"{results_path}.{number}")
               for number, case in enumerate(cases)]
    with open(results_path, "w", encoding="utf-8") as fh:
        json.dump(answers, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
