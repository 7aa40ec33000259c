"""A webhook receiver for `make run` and the end-to-end tests: it verifies the Standard Webhooks
signature of every delivery and keeps (and optionally prints) the alerts it accepted.
"""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


class WebhookReceiver:
    def __init__(
        self,
        on_alert: Callable[[dict[str, Any], dict[str, str]], None] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.secret: str | None = None
        self.accepted: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.rejected = 0
        self._on_alert = on_alert
        self._arrived = threading.Condition()
        # ``host``: where it listens; containers reach the host at their network's gateway.
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return self.url_at(str(self._server.server_address[0]))

    def url_at(self, host: str) -> str:
        """Its URL under another name for the host it listens on."""
        return f"http://{host}:{self.port}/webhooks/laboursight"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Persistent connections, as receivers in production serve them: over HTTP/1.0
            # every webhook would open a connection, a cost notify does not pay there.
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._accept(body, headers)
                self.send_response(status)
                if status != 204:  # on a persistent connection an empty body is delimited
                    self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # deliveries are reported through on_alert, not the access log

        return Handler

    def _accept(self, body: bytes, headers: dict[str, str]) -> int:
        if self.secret is None:
            return 503
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            self.rejected += 1
            return 401
        event = json.loads(body)
        with self._arrived:
            self.accepted.append((event, headers))
            self._arrived.notify_all()
        if self._on_alert is not None:
            self._on_alert(event, headers)
        return 204

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout_s: float
    ) -> dict[str, Any]:
        """The first accepted event matching ``predicate``; raises TimeoutError after ``timeout_s``."""
        with self._arrived:
            found = self._arrived.wait_for(
                lambda: next((e for e, _ in self.accepted if predicate(e)), None), timeout_s
            )
        if found is None:
            raise TimeoutError(f"no matching webhook within {timeout_s} s")
        return found

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a loop never started
            self._server.shutdown()
        self._server.server_close()
