"""A loopback HTTP server that plays the OpenLineage backend and records what real clients send it.

Every POST is answered ``200 {}`` and recorded as a ``Request``: the path, the
``Authorization`` header and the run's job name, which the emitting oracle sets
to the case's number, so that each request can be matched with its case. Nothing
is checked here: the tests compare what was recorded with what they expect.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    """One request as the backend saw it."""

    path: str
    authorization: str | None
    job: str | None


class Recorder:
    """The recording backend on 127.0.0.1 (use as a context manager)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.record(self.path, self.headers.get("Authorization"), body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="openlineage-recorder", daemon=True)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """The backend's base URL (what a transport's ``url`` is set to)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def record(self, path: str, authorization: str | None, body: bytes) -> None:
        """Keep one request."""
        try:
            job = json.loads(body).get("job", {}).get("name")
        except (ValueError, AttributeError):
            job = None
        with self.lock:
            self.requests.append(Request(path, authorization, job))

    def for_job(self, job: str) -> list[Request]:
        """The requests sent for one case."""
        with self.lock:
            return [r for r in self.requests if r.job == job]

    def __enter__(self) -> Recorder:
        """Serve in a daemon thread."""
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
