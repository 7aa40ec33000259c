"""The application and its wiring: ``create_app`` is the one place dependencies are chosen."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import FastAPI
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_runtime import tracing
from laboursight_runtime.kafka import make_broker
from laboursight_runtime.mongo import make_client
from laboursight_schemas import collections
from laboursight_schemas.envelope import now

from . import (
    alert_queries,
    batches,
    case_queries,
    case_routes,
    case_settings,
    contracts,
    delivery_queries,
    delivery_requests,
    disclosure_queries,
    disclosures,
    entities,
    entity_queries,
    errors,
    evidence_routes,
    finding_queries,
    health,
    key_routes,
    ledger_routes,
    openapi,
    retention_routes,
    subscriptions,
)
from . import dashboard as dashboard_pages
from .background import Background
from .bus import EventBus, KafkaBus
from .context import Context
from .dead_letter_reader import DeadLetterRecorder, read_dead_letters
from .disclosure_store import DisclosureStore
from .findings_view import FindingsView
from .keys import KeyCache
from .limits import BodyLimit
from .metrics import RequestTimer
from .outbox import Timing
from .publishing import Handoff
from .rate_limits import Limit, RateLimits
from .relay import Relay
from .settings import ApiSettings
from .sweeper import Sweeper
from .withdrawals import Withdrawals


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]], settings: ApiSettings) -> None:
    """The indexes of the collections the api owns; creating an existing index is a no-op."""
    keys = db[collections.IDEMPOTENCY_KEYS]
    await keys.create_index(
        [("tenant_id", ASCENDING), ("key_id", ASCENDING), ("idempotency_key", ASCENDING)],
        unique=True,
        name="tenant_key_idempotency_key",
    )
    await keys.create_index(
        "created_at", expireAfterSeconds=settings.api_idempotency_ttl_s, name="expiry"
    )
    await db[collections.SUBSCRIPTIONS].create_index(
        [("tenant_id", ASCENDING), ("created_at", ASCENDING)], name="tenant_created"
    )
    await DisclosureStore(db).create_indexes()
    await disclosure_queries.create_indexes(db)


def timing(settings: ApiSettings) -> Timing:
    return Timing(
        write_timeout=timedelta(seconds=settings.api_write_timeout_s),
        clock_skew=timedelta(seconds=settings.api_clock_skew_s),
        relay_delay=timedelta(seconds=settings.api_relay_delay_s),
        screening_deadline=timedelta(seconds=settings.api_screening_deadline_s),
    )


class _Api(FastAPI):
    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is not None:
            return self.openapi_schema
        return openapi.complete(super().openapi())


def create_app(
    settings: ApiSettings,
    *,
    publisher: EventBus | None = None,
    db: AsyncDatabase[dict[str, Any]] | None = None,
) -> FastAPI:
    """The api; what is not injected (Kafka, MongoDB) is connected by the lifespan.

    The lifespan also runs the outbox's background work: the hand-off, the relay and the
    sweeper, and, with the real Kafka, the reader of the dead-letter topics.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            background = Background()
            bus = publisher
            kafka: KafkaBus | None = None
            if bus is None:
                broker = make_broker(
                    settings,
                    client_id=f"{settings.kafka_client_id}-api",
                    # Bounds how long an unacknowledged record occupies the producer.
                    request_timeout_ms=int(settings.api_publish_timeout_s * 1000),
                )
                stack.push_async_callback(broker.stop)
                bus = kafka = KafkaBus(
                    broker, timeout_s=settings.api_publish_timeout_s, started=False
                )
            database = db
            if database is None:
                client = make_client(settings)
                stack.push_async_callback(client.close)
                database = client[settings.mongodb_database]
            await ensure_indexes(database, settings)
            ctx = _context(settings, database, bus)
            stack.push_async_callback(background.stop)
            stack.push_async_callback(_finish, ctx, settings.api_publish_timeout_s)
            _start(background, ctx, kafka)
            app.state.context = ctx
            yield

    app = _Api(
        title="laboursight api",
        version="1.0.0",
        lifespan=lifespan,
        # FastAPI's own request spans when tracing is on (``tracing``); the api's metrics are
        # Prometheus' (``metrics``) and its logs JSON lines, so FastAPI's stay off, and with
        # tracing off it does not look up the global providers on every request to find none.
        telemetry={
            "tracing": tracing.enabled(),
            "tracer_provider": tracing.provider(),
            "operation_spans": False,
            "metrics": False,
            "logs": False,
        },
    )
    errors.install(app, settings.api_retry_after_s)
    app.add_middleware(
        BodyLimit,
        max_body_bytes=settings.api_max_body_bytes,
        per_path={batches.UPLOADS: (settings.api_batch_max_body_bytes, "API_BATCH_MAX_BODY_BYTES")},
    )
    app.add_middleware(RequestTimer)
    for module in (
        disclosures,
        disclosure_queries,
        batches,
        entities,
        evidence_routes,
        entity_queries,
        finding_queries,
        alert_queries,
        case_routes,
        case_queries,
        case_settings,
        subscriptions,
        delivery_queries,
        delivery_requests,
        ledger_routes,
        key_routes,
        retention_routes,
        health,
        contracts,
    ):
        app.include_router(module.router)
    app.include_router(dashboard_pages.router)
    return app


def _context(settings: ApiSettings, db: AsyncDatabase[dict[str, Any]], bus: EventBus) -> Context:
    store = DisclosureStore(db)
    schedule = timing(settings)
    return Context(
        settings=settings,
        db=db,
        bus=bus,
        timing=schedule,
        disclosures=store,
        findings=FindingsView(db),
        handoff=Handoff(bus, store, schedule, now),
        withdrawals=Withdrawals(store, now),
        keys=KeyCache(db, settings.api_key_cache_s),
        limits=RateLimits(
            Limit(settings.api_rate_per_key, settings.api_burst_per_key),
            Limit(settings.api_rate_per_tenant, settings.api_burst_per_tenant),
        ),
    )


def _start(background: Background, ctx: Context, kafka: KafkaBus | None) -> None:
    settings, store = ctx.settings, ctx.disclosures
    relay = Relay(
        ctx.bus,
        store,
        ctx.timing,
        now,
        lease=timedelta(seconds=settings.api_relay_lease_s),
        batch=settings.api_relay_batch,
    )
    sweeper = Sweeper(
        store,
        ctx.findings,
        now,
        deadline=ctx.timing.screening_deadline,
        batch=settings.api_relay_batch,
    )
    if kafka is not None:
        background.keep_running("kafka", kafka.connect)
        recorder = DeadLetterRecorder(store, now)
        background.keep_running("dead letters", partial(read_dead_letters, settings, recorder))
    background.keep_running("hand-off", ctx.handoff.run)
    background.every("relay", settings.api_relay_interval_s, relay.run_once)
    background.every("sweeper", settings.api_sweep_interval_s, sweeper.run_once)


async def _finish(ctx: Context, within_s: float) -> None:
    """At shutdown: publish what was handed off and finish the withdrawals, for a while."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within_s):
            await asyncio.gather(ctx.handoff.idle(), ctx.withdrawals.settled())
