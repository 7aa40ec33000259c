"""A real HTTP server on loopback for the tests' stand-in receivers (a webhook subscriber, an
OTLP collector): the threads and sockets here, what each POST gets in the subclass."""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class Answer:
    """What a POST gets back; ``content-length`` is always sent, so every body is delimited."""

    status: int
    body: bytes = b""
    content_type: str | None = None


class HttpCapture:
    """Serves on 127.0.0.1 from ``start`` (or ``with``) until ``stop``, each request in a thread
    of its own, so ``answer`` must be thread-safe. ``port`` 0 takes a free one; a given port
    brings a server back where one was down.

    ``protocol_version`` is the handler's: HTTP/1.0 closes the connection after every answer,
    HTTP/1.1 keeps it open for the client's next request.
    """

    protocol_version = "HTTP/1.0"

    def __init__(self, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://host:port``, no path."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """The answer to a POST of ``body`` to ``path``; ``headers`` as the client spelled them."""
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = capture.protocol_version

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                answer = capture.answer(self.path, dict(self.headers.items()), body)
                self.send_response(answer.status)
                if answer.content_type is not None:
                    self.send_header("content-type", answer.content_type)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test output is no place for an access log

        return Handler
