"""Small hand-written fakes of the ports the handlers use."""

from typing import Any

from laboursight_schemas.envelope import Envelope


class FakePublisher:
    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[tuple[str, str, Envelope[Any]]] = []
        self._fail_times = fail_times

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None:
        if self._fail_times:
            self._fail_times -= 1
            raise ConnectionError("broker unreachable")
        self.sent.append((topic, key, event))
