"""A real webhook receiver on loopback that checks every signature, as a subscriber would."""

import http.server
import threading
from collections import defaultdict
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int


class Receiver:
    """Endpoints by path, each with its secret and the failures to answer before a 204.

    ``port`` 0 takes a free one; a given port brings a receiver back where one was down.
    """

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}
        self._failures: dict[str, list[int]] = {}
        self._received: dict[str, list[Received]] = defaultdict(list)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def endpoint(self, path: str, secret: str, *, failures: tuple[int, ...] = ()) -> str:
        with self._lock:
            self._secrets[path] = secret
            self._failures[path] = list(failures)
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return list(self._received[path])

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            secret = self._secrets.get(path)
            failures = self._failures.get(path, [])
            verified = secret is not None and _verifies(secret, body, headers)
            status = failures.pop(0) if failures else (204 if verified else 401)
            self._received[path].append(Received(headers, body, verified, status))
            return status

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = receiver._answer(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test output is no place for an access log

        return Handler


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True
