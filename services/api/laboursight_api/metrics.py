"""Prometheus metrics of the HTTP edge, the outbox and the statuses the api keeps.

With several worker processes (``API_WORKERS``, ``PROMETHEUS_MULTIPROC_DIR`` set by ``serve``)
each records into files of its own, and the default registry, which ``/metrics`` shows, reads
every worker's files: a counter is the sum over the workers, the backlog the latest reading.
"""

import os
import time

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# In one process the metrics register as usual; in several, the files stand for them.
_MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
_REGISTRY = None if _MULTIPROCESS else REGISTRY
if _MULTIPROCESS:
    multiprocess.MultiProcessCollector(REGISTRY)  # type: ignore[no-untyped-call]

ACCEPTED = Counter(
    "laboursight_api_disclosures_accepted_total",
    "Disclosures accepted: durable in MongoDB, to be published to Kafka",
    ["kind"],
    registry=_REGISTRY,
)
REJECTED = Counter(
    "laboursight_api_disclosures_rejected_total",
    "Disclosures refused, by kind (unknown when unreadable) and reason",
    ["kind", "reason"],
    registry=_REGISTRY,
)
OUTBOX_PUBLISHED = Counter(
    "laboursight_api_outbox_published_total",
    "Outbox entries Kafka acknowledged, by who published them (the accepting request's hand-off, "
    "or the relay)",
    ["path"],
    registry=_REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "laboursight_api_outbox_backlog",
    "Accepted disclosures not yet published to Kafka, across every replica (read by the relay)",
    registry=_REGISTRY,
    multiprocess_mode="mostrecent",
)
OUTBOX_VOIDED = Counter(
    "laboursight_api_outbox_voided_total",
    "Writes that reached MongoDB after their request had been answered 503: withdrawn, never "
    "published",
    registry=_REGISTRY,
)
REDRIVEN = Counter(
    "laboursight_api_disclosures_redriven_total",
    "Disclosures published but not screened by the screening deadline, published again",
    registry=_REGISTRY,
)
AWAITING_SCREENING = Gauge(
    "laboursight_api_awaiting_screening",
    "Disclosures published and not yet screened, across every replica (read by the sweeper): "
    "`within_deadline`, or `redriven` at least once because their deadline passed",
    ["state"],
    registry=_REGISTRY,
    multiprocess_mode="mostrecent",
)
FAILED = Counter(
    "laboursight_api_disclosures_failed_total",
    "Disclosures marked failed because their event ended in a dead-letter topic, by the stage "
    "that gave up",
    ["stage"],
    registry=_REGISTRY,
)
DEAD_LETTERS_UNMATCHED = Counter(
    "laboursight_api_dead_letters_unmatched_total",
    "Dead letters read that name no disclosure the api could mark failed, by topic",
    ["topic"],
    registry=_REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "laboursight_api_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
    registry=_REGISTRY,
)


class RequestTimer:
    """Times every request, labelled by route template so ids do not explode the label set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_SECONDS.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
