"""Ask the real OpenLineage client (or the Airflow provider) which transport a container's environment gives.

Run by ``tests.tools.oracles`` with the interpreter that has the real packages:
``python openlineage_oracle.py {client|airflow} CASES.json RESULTS.json EVERY``. Each
case holds the container's exact environment, the files to write where that
environment says (absolute paths), a working directory, and the sentinel URLs,
endpoints and keys mapped to labels. For each case the process replaces
``os.environ`` with the case's environment, writes the files, builds the client
and reports the transport it resolved:

    {"kind": "http", "url": "OPENLINEAGE_URL", "endpoint": "default", "key": "OPENLINEAGE_API_KEY"}
    {"kind": "composite", "children": [...]}    {"kind": "noop"}    {"kind": "error", "error": "..."}

Mode ``client`` builds ``OpenLineageClient()``. Mode ``airflow`` does what the
provider's listener does: nothing (``disabled``) when ``conf.is_disabled()``,
otherwise ``OpenLineageAdapter().get_or_create_openlineage_client()``. URLs and
keys are reported by label only (a sentinel never leaves this process).

Speed: the packages are imported once and the cases run one after another in
this process (about a millisecond each; a fork costs ten or more), with the
provider's cached settings cleared and each transport closed between cases.
That nothing leaks from one case into the next is checked: first, before any
case has run here, every EVERY-th case also runs in a forked child of the clean
process, and the results file holds those answers too, for the caller to
compare. Standard library only at import time.
"""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from typing import Any

from forked import in_child  # (beside this script: it runs as a script)


def _summary(transport: Any, case: dict[str, Any]) -> dict[str, Any]:
    """What a transport is: kind, and for HTTP transports the labels of its URL, endpoint and key."""
    kind = getattr(transport, "kind", None) or type(transport).__name__
    if kind == "composite":
        return {"kind": kind, "children": [_summary(child, case) for child in transport.transports]}
    if kind not in ("http", "async_http"):
        return {"kind": kind}
    auth = transport.config.auth
    if type(auth).__name__ == "ApiKeyTokenProvider":
        bearer = auth.get_bearer() or ""
        token = bearer[len("Bearer "):] if bearer.startswith("Bearer ") else bearer
        key = case["keys"].get(token, "an unknown key")
    else:
        key = None  # no auth, or a token from a token endpoint (jwt, oauth2): not the API key
    endpoint = transport.config.endpoint
    return {
        "kind": kind,
        "url": case["urls"].get(transport.url, "an unknown URL"),
        "endpoint": "default" if endpoint == "api/v1/lineage" else case["endpoints"].get(endpoint, "an unknown one"),
        "key": key,
    }


def _scrub(text: str, case: dict[str, Any]) -> str:
    """An error message with every sentinel key replaced by its label."""
    for sentinel, label in case["keys"].items():
        text = text.replace(sentinel, f"<{label}>")
    return text


def _resolve(mode: str, case: dict[str, Any]) -> dict[str, Any]:
    """Build the client for one case in this process and summarise its transport."""
    os.environ.clear()
    os.environ.update(case["env"])
    for path, text in case["files"].items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    os.makedirs(case["cwd"], exist_ok=True)
    os.chdir(case["cwd"])
    try:
        if mode == "airflow":
            from airflow.providers.openlineage import conf
            from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter

            for setting in vars(conf).values():  # the provider caches every setting (functools.cache)
                getattr(setting, "cache_clear", lambda: None)()
            if conf.is_disabled():
                return {"kind": "disabled"}
            client = OpenLineageAdapter().get_or_create_openlineage_client()
        else:
            from openlineage.client import OpenLineageClient

            client = OpenLineageClient()
    except Exception as exc:
        return {"kind": "error", "error": _scrub(f"{type(exc).__name__}: {exc}", case)}
    try:
        return _summary(client.transport, case)
    finally:
        client.transport.close(0)  # async_http runs a thread


def main(argv: list[str]) -> int:
    """Resolve every case of CASES.json and write the answers, in order, to RESULTS.json."""
    mode, cases_path, results_path, every = argv
    with open(cases_path, encoding="utf-8") as fh:
        cases = json.load(fh)
    import logging

    logging.disable(logging.CRITICAL)  # the client logs every transport it builds
    if mode == "airflow":
        import airflow.providers.openlineage.plugins.adapter  # noqa: F401  (import once)
    else:
        import openlineage.client  # noqa: F401
    forked = {number: in_child(partial(_resolve, mode, cases[number]), f"{results_path}.{number}")
              for number in range(0, len(cases), int(every))}
    answers = [_resolve(mode, case) for case in cases]
    with open(results_path, "w", encoding="utf-8") as fh:
        json.dump({"answers": answers, "forked": forked}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
