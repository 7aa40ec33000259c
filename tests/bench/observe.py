"""What the running system produced, seen from outside: findings in MongoDB, signed webhooks.

Both only read. Findings are seen through a change stream on the findings collection (every
document carries ``tenant_id`` and the ``disclosure_id`` the api reads it by), timed by the
server's wall clock for the write, so a busy benchmark process does not delay the figure.
Webhooks are timed when the receiver, having verified the signature, hands the alert over.
"""

import asyncio
import contextlib
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.collection import AsyncCollection

from laboursight_runtime.local.receiver import WebhookReceiver


class FindingsWatcher:
    """``seen(tenant)``: disclosure id → wall-clock seconds its findings were written."""

    def __init__(self, findings: AsyncCollection[dict[str, Any]], tenants: Iterable[str]) -> None:
        self._findings = findings
        self._tenants = sorted(tenants)
        self._seen: dict[str, dict[str, float]] = {tenant: {} for tenant in self._tenants}
        self._stream: AsyncChangeStream[dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Opened here, not in the task: findings written after start() returns are never missed.
        self._stream = await self._findings.watch(
            [
                {
                    "$match": {
                        "operationType": {"$in": ["insert", "replace"]},
                        "fullDocument.tenant_id": {"$in": self._tenants},
                    }
                },
                {
                    "$project": {
                        "wallTime": 1,
                        "documentKey": 1,
                        "fullDocument.tenant_id": 1,
                        "fullDocument.disclosure_id": 1,
                    }
                },
            ]
        )
        self._task = asyncio.create_task(self._follow(self._stream))

    async def _follow(self, stream: AsyncChangeStream[dict[str, Any]]) -> None:
        async for change in stream:
            document = change["fullDocument"]
            written = change.get("wallTime")
            at = written.timestamp() if isinstance(written, datetime) else time.time()
            disclosure = str(document.get("disclosure_id", change["documentKey"]["_id"]))
            self._seen[document["tenant_id"]].setdefault(disclosure, at)

    def seen(self, tenant: str) -> dict[str, float]:
        return self._seen[tenant]

    def count(self, tenant: str, disclosures: Collection[str]) -> int:
        seen = self._seen[tenant]
        return sum(1 for disclosure in disclosures if disclosure in seen)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._stream is not None:
            await self._stream.close()


@dataclass(frozen=True)
class Arrival:
    at: float
    tenant_id: str
    correlation_id: str
    webhook_id: str


class Webhooks:
    """A verifying receiver for one tenant's subscription, keeping when each alert arrived."""

    def __init__(self) -> None:
        self.receiver = WebhookReceiver(on_alert=self._arrived)
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []

    def _arrived(self, event: dict[str, Any], headers: dict[str, str]) -> None:
        arrival = Arrival(
            at=time.time(),
            tenant_id=str(event.get("tenantid")),
            correlation_id=str(event.get("correlationid")),
            webhook_id=headers.get("webhook-id", ""),
        )
        with self._lock:
            self._arrivals.append(arrival)

    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._arrivals)

    def first_by_disclosure(self, since: int = 0) -> dict[str, float]:
        """Disclosure id → when its first alert arrived, over arrivals from index ``since``."""
        first: dict[str, float] = {}
        for arrival in self.arrivals()[since:]:
            first.setdefault(arrival.correlation_id, arrival.at)
        return first

    @property
    def rejected(self) -> int:
        return self.receiver.rejected
