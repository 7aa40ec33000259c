"""A real webhook receiver on loopback that checks every signature, as a subscriber would."""

import threading
from collections import defaultdict
from dataclasses import dataclass

from standardwebhooks import Webhook, WebhookVerificationError

from tests.http_capture import Answer, HttpCapture


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int


class Receiver(HttpCapture):
    """Endpoints by path, each with its secret and the failures to answer before a 204.

    ``port`` 0 takes a free one; a given port brings a receiver back where one was down.
    """

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}
        self._failures: dict[str, list[int]] = {}
        self._received: dict[str, list[Received]] = defaultdict(list)
        super().__init__(port)

    def endpoint(self, path: str, secret: str, *, failures: tuple[int, ...] = ()) -> str:
        with self._lock:
            self._secrets[path] = secret
            self._failures[path] = list(failures)
        return self.url + path

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return list(self._received[path])

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            secret = self._secrets.get(path)
            failures = self._failures.get(path, [])
            verified = secret is not None and _verifies(secret, body, headers)
            status = failures.pop(0) if failures else (204 if verified else 401)
            self._received[path].append(Received(headers, body, verified, status))
            return Answer(status)


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True
