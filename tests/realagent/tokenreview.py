"""TEST DOUBLE: a loopback stand-in for the Kubernetes TokenReview API, the one thing no real program provides here.

OpenBao's (and Vault's) ``kubernetes`` auth method checks a pod's service-account
token by POSTing a ``TokenReview`` to ``kubernetes_host`` at
``/apis/authentication.k8s.io/v1/tokenreviews``. No API server can run on these
machines, so this handler answers in its place: ``authenticated: true`` with the
service account's username and uid for the one token it was given, and
``authenticated: false`` for anything else. Everything else in the tier is real.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"
ISSUER = "https://kubernetes.default.svc.cluster.local"


def _b64url(data: bytes) -> str:
    """Unpadded base64url, as in a JWT."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def service_account_jwt(namespace: str, name: str, uid: str) -> str:
    """A well-formed service-account JWT (header.payload.signature); its signature is never checked."""
    claims = {
        "iss": ISSUER, "sub": f"system:serviceaccount:{namespace}:{name}", "aud": [ISSUER],
        "iat": 1764547200, "nbf": 1764547200, "exp": 4102444800,
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
    }
    header = {"alg": "RS256", "kid": "olrender-test-double"}
    parts = (json.dumps(header).encode(), json.dumps(claims).encode(), b"test double: not a signature")
    return ".".join(_b64url(part) for part in parts)


class TokenReviewDouble:
    """TEST DOUBLE of the TokenReview API on 127.0.0.1: accepts exactly one token."""

    def __init__(self, token: str, namespace: str, name: str, uid: str) -> None:
        self.token, self.username, self.uid = token, f"system:serviceaccount:{namespace}:{name}", uid
        self.reviews: list[bool] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                answer = double.review(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(201 if self.path == REVIEW_PATH else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="tokenreview-double", daemon=True)

    @property
    def url(self) -> str:
        """Where the auth method sends its reviews."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def review(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The TokenReview answer for a request body."""
        if path != REVIEW_PATH:
            return {"kind": "Status", "status": "Failure", "code": 404}
        spec = body.get("spec") or {}
        ok = spec.get("token") == self.token
        self.reviews.append(ok)
        status: dict[str, Any] = {"authenticated": ok}
        if ok:
            status["user"] = {"username": self.username, "uid": self.uid, "groups": ["system:serviceaccounts"]}
            status["audiences"] = spec.get("audiences") or []
        else:
            status["error"] = "[invalid bearer token, test double: not the pod's token]"
        return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}

    def start(self) -> TokenReviewDouble:
        """Serve in a daemon thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
