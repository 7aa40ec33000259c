"""The application and its wiring: ``create_app`` is the one place dependencies are chosen."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_runtime.kafka import make_broker
from laboursight_runtime.mongo import make_client
from laboursight_schemas import collections

from . import contracts, disclosures, entities, errors, health, openapi, subscriptions
from .bus import EventBus, KafkaBus
from .context import Context
from .limits import BodyLimit
from .metrics import RequestTimer
from .settings import ApiSettings


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
    """The api; what is not injected (Kafka, MongoDB) is connected by the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            bus = publisher
            if bus is None:
                broker = make_broker(
                    settings,
                    client_id=f"{settings.kafka_client_id}-api",
                    # A record the client was already told failed (503) must not land later.
                    request_timeout_ms=int(settings.api_publish_timeout_s * 1000),
                )
                await broker.start()
                stack.push_async_callback(broker.stop)
                bus = KafkaBus(broker)
            database = db
            if database is None:
                client = make_client(settings)
                stack.push_async_callback(client.close)
                database = client[settings.mongodb_database]
            await ensure_indexes(database, settings)
            app.state.context = Context(settings, database, bus)
            yield

    app = _Api(title="laboursight api", version="1.0.0", lifespan=lifespan)
    errors.install(app, settings.api_retry_after_s)
    app.add_middleware(BodyLimit, max_body_bytes=settings.api_max_body_bytes)
    app.add_middleware(RequestTimer)
    for module in (disclosures, entities, subscriptions, health, contracts):
        app.include_router(module.router)
    return app
