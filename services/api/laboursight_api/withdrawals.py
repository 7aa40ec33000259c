"""Withdrawing a disclosure whose write may have reached MongoDB after all, once its request
was answered 503: a tombstone takes its ``_id`` (``DisclosureStore.withdraw``), so neither the
write, nor a late copy of it, is ever published.

The withdrawal is retried in the background until MongoDB answers, and only then is the
Idempotency-Key reservation released, so a retry with the same key cannot accept the disclosure
while its withdrawal is still pending. Limits, stated: a process that dies before its withdrawal
succeeds leaves it to the void rule (``outbox.is_void``), which covers writes that landed after
the deadline but not one that landed in time and whose acknowledgement was lost.
"""

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from pymongo.errors import (
    ConnectionFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WriteConcernError,
)
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from .disclosure_store import DisclosureStore

log = logging.getLogger(__name__)


class Withdrawals:
    def __init__(self, store: DisclosureStore, now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now
        self._pending: set[asyncio.Task[None]] = set()

    def withdraw(
        self,
        tenant_id: str,
        disclosure_id: str,
        then: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Start withdrawing; ``then`` runs once the withdrawal holds."""
        # In a context of its own: the request's (its MongoDB deadline) has run out.
        task = asyncio.create_task(
            self._withdraw(tenant_id, disclosure_id, then), context=contextvars.Context()
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settled(self) -> None:
        """Returns once every withdrawal started so far has finished."""
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def _withdraw(
        self, tenant_id: str, disclosure_id: str, then: Callable[[], Awaitable[object]] | None
    ) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(PyMongoError),
            wait=wait_exponential(multiplier=0.2, max=5.0),
        ):
            with attempt:
                withdrawn = await self._store.withdraw(tenant_id, disclosure_id, self._now())
                if then is not None:
                    await then()
        if not withdrawn:
            log.warning(
                "a disclosure answered 503 stands: a retry accepted it, or it was published "
                "before it could be withdrawn",
                extra={"disclosure_id": disclosure_id},
            )


def may_have_landed(error: PyMongoError) -> bool:
    """False only when the write never left: no server could be selected to send it to."""
    if isinstance(error, ServerSelectionTimeoutError):
        return False
    return isinstance(error, ConnectionFailure | WriteConcernError) or error.timeout
