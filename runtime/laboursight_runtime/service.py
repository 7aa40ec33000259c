"""A consumer service as one ASGI process: the FastStream app plus health and metrics routes."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.types import Scope
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app
from pymongo import AsyncMongoClient

from .pipeline import BatchSubscription, EventT, subscribe_batch
from .settings import Settings


def subscribe(
    broker: KafkaBroker,
    settings: Settings,
    topic: str,
    *,
    group_id: str,
    event_type: type[EventT],
    handle: Callable[[EventT], Awaitable[None]],
    retry_budget_s: float = 60.0,
) -> BatchSubscription[EventT]:
    """Consume ``topic`` with a handler of one event at a time (``pipeline.subscribe_batch``
    with the events of each batch handed over in offset order, each durable before the next).

    Kept for handlers not yet written for batches; the guarantees are the pipeline's.
    """

    async def each(events: Sequence[EventT]) -> None:
        for event in events:
            await handle(event)

    return subscribe_batch(
        broker,
        settings,
        topic,
        group_id=group_id,
        event_type=event_type,
        handle=each,
        retry_budget_s=retry_budget_s,
    )


class Consumer(Protocol):
    """What the health routes need of a subscription (``pipeline.BatchSubscription``)."""

    @property
    def halted(self) -> str | None: ...

    def write_problems(self) -> dict[str, str]:
        """Each kind of write failing now (named so that it is unique in the service) → why."""
        ...


def _json(status: int, body: dict[str, Any]) -> AsgiResponse:
    return AsgiResponse(
        json.dumps(body).encode(), status, headers={"content-type": "application/json"}
    )


def consumer_app(
    broker: KafkaBroker,
    *,
    consumers: Sequence[Consumer],
    mongo: AsyncMongoClient[dict[str, Any]] | None = None,
    on_startup: list[Callable[[], Awaitable[None]]] | None = None,
) -> AsgiFastStream:
    """``/healthz`` fails only when a consumer halted. ``/readyz`` fails while the service
    cannot write: the broker does not answer, MongoDB has no writable primary, or the last
    attempt of one of its kinds of write (handler effects, dead letters, commits) failed
    recently — a broker that answers metadata requests while refusing every record is not ready.
    """

    @get
    async def healthz(scope: Scope) -> AsgiResponse:
        halted = [c.halted for c in consumers if c.halted]
        return _json(
            503 if halted else 200, {"status": "halted" if halted else "ok", "halted": halted}
        )

    @get
    async def readyz(scope: Scope) -> AsgiResponse:
        checks = {"kafka": await broker.ping(timeout=2.0)}
        if mongo is not None:
            checks["mongodb"] = await _writable(mongo)
        failing = {kind: error for c in consumers for kind, error in c.write_problems().items()}
        ready = all(checks.values()) and not failing
        return _json(
            200 if ready else 503,
            {"status": "ready" if ready else "not ready", **checks, "failing": failing},
        )

    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", healthz), ("/readyz", readyz), ("/metrics", make_asgi_app())],
        logger=logging.getLogger("faststream.app"),
        on_startup=on_startup or [],
        # After the broker stopped: an in-flight handler must not meet a closed client.
        after_shutdown=[mongo.close] if mongo is not None else [],
    )


async def _writable(mongo: AsyncMongoClient[dict[str, Any]]) -> bool:
    """True when the deployment has a primary that takes writes (not merely a reachable node)."""
    try:
        async with asyncio.timeout(2.0):
            hello = await mongo.admin.command("hello")
    except Exception:
        return False
    return bool(hello.get("isWritablePrimary"))


def serve(app: Any, settings: Settings) -> None:
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
