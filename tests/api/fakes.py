"""A hand-written event bus: records what was published, or fails like an absent Kafka."""

import asyncio
from typing import Any

from laboursight_schemas.envelope import Envelope


class FakeBus:
    def __init__(self, failure: Exception | None = None, *, ready: bool = True) -> None:
        self.sent: list[tuple[str, str, Envelope[Any]]] = []
        self.failure = failure
        self.ready = ready
        self.publishing = asyncio.Event()
        # Cleared, it holds every publish until set: a request caught in flight.
        self.gate = asyncio.Event()
        self.gate.set()

    async def publish(self, topic: str, key: str, event: Envelope[Any]) -> None:
        self.publishing.set()
        await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        self.sent.append((topic, key, event))

    async def ping(self) -> bool:
        return self.ready
