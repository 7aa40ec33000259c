"""A consumer service as one ASGI process: the FastStream app plus health and metrics routes."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.types import Scope
from faststream.kafka import KafkaBroker, KafkaMessage
from prometheus_client import make_asgi_app
from pymongo import AsyncMongoClient

from .consumer import EventConsumer, EventT
from .dead_letters import KafkaDeadLetters
from .kafka import consumer_options
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
) -> EventConsumer[EventT]:
    """Consume ``topic`` with ``handle``, dead-lettering to ``<topic>.dlq``.

    If the consumer halts (too many dead letters in a row), its subscriber stops fetching.
    """
    tasks: set[asyncio.Task[None]] = set()

    def halt(_reason: str) -> None:
        task = asyncio.get_running_loop().create_task(subscriber.stop())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    consumer = EventConsumer(
        event_type=event_type,
        handle=handle,
        dead_letters=KafkaDeadLetters(broker, group_id),
        on_halt=halt,
        retry_budget_s=retry_budget_s,
    )
    subscriber = broker.subscriber(topic, **consumer_options(settings, group_id=group_id))

    async def on_message(message: KafkaMessage) -> None:
        await consumer(message)

    subscriber(on_message)
    return consumer


def _json(status: int, body: dict[str, Any]) -> AsgiResponse:
    return AsgiResponse(
        json.dumps(body).encode(), status, headers={"content-type": "application/json"}
    )


def consumer_app(
    broker: KafkaBroker,
    *,
    consumers: list[EventConsumer[Any]],
    mongo: AsyncMongoClient[dict[str, Any]] | None = None,
    on_startup: list[Callable[[], Awaitable[None]]] | None = None,
) -> AsgiFastStream:
    """``/healthz`` fails only when a consumer halted; ``/readyz`` when a dependency is unreachable."""

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
            try:
                await mongo.admin.command("ping")
                checks["mongodb"] = True
            except Exception:
                checks["mongodb"] = False
        ready = all(checks.values())
        return _json(200 if ready else 503, {"status": "ready" if ready else "not ready", **checks})

    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", healthz), ("/readyz", readyz), ("/metrics", make_asgi_app())],
        logger=logging.getLogger("faststream.app"),
        on_startup=on_startup or [],
        # After the broker stopped: an in-flight handler must not meet a closed client.
        after_shutdown=[mongo.close] if mongo is not None else [],
    )


def serve(app: Any, settings: Settings) -> None:
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
