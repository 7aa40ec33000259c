"""The consumer pipeline: small steps over batches, offsets committed after effects are durable.

A subscription built by :func:`subscribe_batch` runs, for every batch a subscriber fetches
(FastStream batch subscriber, ``AckPolicy.MANUAL``), these steps, in the style of Sentry's arroyo:

1. **batch** — up to ``max_records`` records (aiokafka ``getmany``), handed on as soon as any
   are fetched, never held back to fill: the batch closes at ``max_records`` or when the wait
   for a first record ends, whichever comes first. At low load a batch is one
   record and waits for nothing (an idle subscriber waits for records, then FastStream sleeps as
   long again before it polls; how long follows the pace, ``pace``, brisk while records flow
   and lazy after a quiet spell); under load batches fill from what the consumer prefetched.
2. **split by partition** — each partition's records go on in offset order, and the partitions
   of one fetch are processed concurrently; a partition (and so every key, which Kafka maps to
   one partition) keeps its order.
3. **decode** — ``laboursight_schemas.upcasting.read_event``: unknown fields ignored, older
   versions upcast. A record that cannot be read even so is a dead letter.
4. **handle** — the service's :data:`BatchHandler` over the partition's decoded events, each
   call traced (``traced``: a span per event in the trace it came with):

   - it returns: every effect is durable;
   - it raises a transient error (``failures.is_transient``): the whole batch is retried with
     backoff for ``retry_budget_s``, then rewound (the partition is sought back to its first
     record and fetched again). Never dropped, never dead-lettered;
   - it raises anything else: the batch is bisected until the events that fail *alone* are found;
     those are dead letters, every other event is handled (each half in offset order, the left
     half's effects durable before the right half runs).
5. **dead-letter guard** — per partition, its state recovered on (re)assignment from the tail of
   ``<topic>.dlq`` so that it survives restarts (``guard``, ``history``): more than
   ``max_consecutive`` dead letters in a row, or more than ``max_ratio`` of the last ``window``
   records, means the fault is ours, not the messages'. The partition is rewound to the record
   that would have crossed the limit (nothing from it on is committed or dead-lettered) and the
   subscription halts: ``halted`` names why, ``/healthz`` answers 503, the subscriber stops.
6. **produce dead letters** — every admitted dead letter is sent to ``<topic>.dlq`` (original
   bytes and key, error headers), all at once, then awaited.
7. **commit** — one commit for the fetch: each partition's offset moves to just past the last
   record whose effect (handled or dead-lettered) is durable; nothing at or after a rewind point
   is committed. A failed commit rewinds nothing (the next one covers it) but makes the
   consumer unready. Each partition's lag (``laboursight_consumer_lag``) is then what lies
   between that offset and the high watermark the fetch saw.
8. **watch** (every half second, and on each assignment) — the poll pace (``pace``), and a log
   the broker started again (tansu keeps memory only) read from its start (``resets``); a commit
   is never sent past the consumer's position, nor for a batch that spanned a rebalance.

Delivery is therefore at least once: a crash anywhere before 7 redelivers the batch, so every
handler must be idempotent on the event id.

The interface services code against::

    async def handle(events: Sequence[Envelope[X]]) -> None: ...

    subscription = subscribe_batch(
        broker, settings, topics.FINDINGS,
        group_id="risk", event_type=FindingsEvent, handle=handle,
        max_records=500,
    )
    app = consumer_app(broker, consumers=[subscription], mongo=client)
"""

from .decode import Reading
from .handler import BatchHandler, Decoded, EventT, RecordsHandler
from .subscription import (
    BACKLOG_FETCH,
    BatchSubscription,
    FetchBytes,
    subscribe_batch,
    subscribe_records,
)

__all__ = [
    "BACKLOG_FETCH",
    "BatchHandler",
    "BatchSubscription",
    "Decoded",
    "EventT",
    "FetchBytes",
    "Reading",
    "RecordsHandler",
    "subscribe_batch",
    "subscribe_records",
]
