"""Processing batches: each upload's lines judged, and its good lines accepted in bulk.

A chunk of lines is one bulk write of disclosure documents into ``disclosures`` (journaled,
majority), each the same document, event and outbox entry a single POST stores, then one page
of line results and one conditional move of the batch's cursor. The hand-off publishes the new
disclosures at once and the relay whatever it could not, exactly as for a single POST.

A batch is claimed with a lease and its cursor moves only under that claim, so several replicas
may run this: a batch whose processor died is resumed by another, from its cursor, once the lease
expires. A chunk written again writes the same disclosures (``batch_jobs``), so resuming never
duplicates a line, and a line stored by an attempt whose acknowledgement was lost counts as
accepted. A batch's disclosures carry no ``stored_at``: no request waits on their write, so a
write that lands late is never void (``outbox.is_void``).

An upload answered 503 is never processed: its request withdraws it (``withdraw``), and a copy
of its write that lands after the deadline is voided when claimed.
"""

import asyncio
import contextlib
import contextvars
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pymongo
from pymongo.errors import PyMongoError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from .batch_jobs import CHUNK_LINES, accepted_result, line_ids, rejected_result, results_page
from .batch_store import BatchStore
from .batch_upload import Bad, Good, judge, lines
from .context import Context
from .events import submitted_event
from .metrics import ACCEPTED, OUTBOX_VOIDED, REJECTED
from .outbox import OutboxRecord, accepted_document, is_void, outbox_record

log = logging.getLogger(__name__)


class BatchWorker:
    def __init__(self, ctx: Context, store: BatchStore, now: Callable[[], datetime]) -> None:
        self._ctx = ctx
        self._store = store
        self._now = now
        self._lease = timedelta(seconds=ctx.settings.api_batch_lease_s)
        self._started: asyncio.Queue[str] = asyncio.Queue()
        self._withdrawals: set[asyncio.Task[None]] = set()

    def start(self, batch: str) -> None:
        """Process ``batch`` (just accepted here) as soon as this worker is free."""
        self._started.put_nowait(batch)

    async def run(self) -> None:
        """Process what this replica accepted, and every batch whose lease expired."""
        while True:
            batch: str | None = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._ctx.settings.api_batch_poll_s):
                    batch = await self._started.get()
            while await self.process_one(batch):
                batch = None

    async def process_one(self, batch: str | None = None) -> bool:
        """Claim and process one batch: ``batch`` if it is still pending, otherwise any whose
        lease expired; False when there was none."""
        claim = await self._store.claim(self._now(), self._lease, batch)
        if claim is not None:
            await self._process(*claim)
        return claim is not None

    async def _process(self, token: str, claimed: dict[str, Any]) -> None:
        if is_void(claimed, self._ctx.timing) and await self._store.void(
            claimed, token, self._now()
        ):
            OUTBOX_VOIDED.inc()
            log.warning("a late batch write voided", extra={"batch_id": claimed["_id"]})
            return
        try:
            found = lines(claimed["body"], claimed["format"])
            entity_ids = frozenset(claimed["entity_ids"])
            while claimed["cursor"] < len(found):
                chunk = found[claimed["cursor"] : claimed["cursor"] + CHUNK_LINES]
                verdicts = [judge(line, entity_ids) for line in chunk]
                if not await self._accept(token, claimed, verdicts):
                    log.info("batch claim lost", extra={"batch_id": claimed["_id"]})
                    return
        except PyMongoError:
            with contextlib.suppress(PyMongoError):
                await self._store.release(claimed["_id"], token, self._now())
            raise

    async def _accept(
        self, token: str, claimed: dict[str, Any], verdicts: list[Good | Bad]
    ) -> bool:
        batch, tenant_id, key_id = claimed["_id"], claimed["tenant_id"], claimed["submitted_by"]
        accepted_at = self._now()
        documents, records, kinds, results = [], [], [], []
        for verdict in verdicts:
            if isinstance(verdict, Bad):
                results.append(rejected_result(verdict))
                continue
            disclosure = verdict.disclosure
            disclosure_id, event_id = line_ids(batch, verdict.number)
            results.append(accepted_result(verdict.number, disclosure_id))
            topic, event = submitted_event(
                disclosure,
                disclosure_id=disclosure_id,
                event_id=event_id,
                tenant_id=tenant_id,
                submitted_by=key_id,
                time=accepted_at,
            )
            record = outbox_record(topic, disclosure.entity_id, event)
            document = accepted_document(
                record,
                tenant_id=tenant_id,
                kind=disclosure.kind,
                entity_id=disclosure.entity_id,
                submitted_by=key_id,
                event_id=event_id,
                accepted_at=accepted_at,
                timing=self._ctx.timing,
            )
            del document["stored_at"]
            document.update(batch_id=batch, batch_line=verdict.number)
            documents.append(document)
            records.append(record)
            kinds.append(disclosure.kind)
        with pymongo.timeout(self._ctx.settings.api_write_timeout_s):
            stored_before = await self._store.insert_disclosures(documents)
        self._hand_off(records, stored_before)
        bad = [v for v in verdicts if isinstance(v, Bad)]
        with pymongo.timeout(self._ctx.settings.api_write_timeout_s):
            moved = await self._store.record(
                claimed,
                token,
                results_page(batch, tenant_id, results, claimed["expires_at"]),
                cursor=claimed["cursor"] + len(verdicts),
                accepted=len(documents),
                rejected=len(bad),
                now=self._now(),
                lease=self._lease,
            )
        if moved:
            new = Counter(
                k
                for k, r in zip(kinds, records, strict=True)
                if r.disclosure_id not in stored_before
            )
            for kind, count in new.items():
                ACCEPTED.labels(kind).inc(count)
            for reason, count in Counter((b.kind, b.code) for b in bad).items():
                REJECTED.labels(*reason).inc(count)
        return moved

    def _hand_off(self, records: list[OutboxRecord], stored_before: set[str]) -> None:
        # What an earlier attempt stored is the relay's: that attempt may have handed it off.
        for record in records:
            if record.disclosure_id not in stored_before:
                self._ctx.handoff.offer(record)

    # --- withdrawing -------------------------------------------------------------------------

    def withdraw(self, tenant_id: str, batch: str) -> None:
        """Start withdrawing an upload answered 503 whose write may have landed all the same;
        retried in the background until MongoDB answers."""
        # In a context of its own: the request's (its MongoDB deadline) has run out.
        task = asyncio.create_task(self._withdraw(tenant_id, batch), context=contextvars.Context())
        self._withdrawals.add(task)
        task.add_done_callback(self._withdrawals.discard)

    async def _withdraw(self, tenant_id: str, batch: str) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(PyMongoError),
            wait=wait_exponential(multiplier=0.2, max=5.0),
        ):
            with attempt:
                withdrawn = await self._store.withdraw(tenant_id, batch, self._now())
        if not withdrawn:
            log.warning("a batch answered 503 stands: a retry took it", extra={"batch_id": batch})

    async def settled(self) -> None:
        """Returns once every withdrawal started so far has finished."""
        await asyncio.gather(*self._withdrawals, return_exceptions=True)
