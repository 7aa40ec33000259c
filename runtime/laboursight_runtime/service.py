"""A service as an ASGI server: for a consumer, the FastStream app plus health and metrics
routes; ``serve`` runs any of them, the api too, in one process or several."""

import asyncio
import contextlib
import ctypes
import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.types import Scope
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app
from pymongo import AsyncMongoClient

from laboursight_schemas.upcasting import Readable

from .pipeline import BatchSubscription, EventT, subscribe_batch
from .settings import Settings


def subscribe(
    broker: KafkaBroker,
    settings: Settings,
    topic: str,
    *,
    group_id: str,
    event_type: Readable[EventT],
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

    async def watch(self) -> None:
        """Runs while the service does (``BatchSubscription.watch``)."""
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

    watching: list[asyncio.Task[None]] = []

    async def start_watching() -> None:
        watching.extend(asyncio.create_task(c.watch()) for c in consumers)

    async def stop_watching() -> None:
        for task in watching:
            task.cancel()
        await asyncio.gather(*watching, return_exceptions=True)

    return AsgiFastStream(
        broker,
        asgi_routes=[("/healthz", healthz), ("/readyz", readyz), ("/metrics", make_asgi_app())],
        logger=logging.getLogger("faststream.app"),
        on_startup=on_startup or [],
        after_startup=[start_watching],
        on_shutdown=[stop_watching],
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


_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
_PR_SET_PDEATHSIG = 1


class FailFast:
    """``app``, except that a lifespan that ends before the server asked it to (its broker did
    not start, say) stops the server, and ``failure`` says why.

    FastStream's ASGI app reports its start complete before its broker has started, and uvicorn
    then serves on whatever the lifespan did: without this, a consumer started while Kafka was
    unreachable would answer ``/healthz`` for ever and consume nothing, even once Kafka is back.
    """

    def __init__(self, app: Any) -> None:
        self._app = app
        self.failure: BaseException | None = None
        self.on_failure: Callable[[], None] = lambda: None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self._app(scope, receive, send)
            return
        stopping = False

        async def receiving() -> Any:
            nonlocal stopping
            message = await receive()
            stopping = stopping or message["type"] == "lifespan.shutdown"
            return message

        try:
            await self._app(scope, receiving, send)
        except BaseException as error:
            if not stopping:
                self.failure = error
                self.on_failure()
            raise


def serve(app: Any, settings: Settings, *, workers: int = 1) -> None:
    """Serve ``app`` over HTTP until SIGINT or SIGTERM.

    With ``workers`` > 1, ``app`` is the import string ("module:function") of a function that
    makes the app: each of that many worker processes calls it and serves on the same port.
    This process supervises them (a worker that dies is started again) and takes them down
    with it, even when it is killed by SIGKILL (``worker_process``). Their Prometheus metrics
    are kept in files that ``/metrics`` of any worker reads back for all of them
    (``PROMETHEUS_MULTIPROC_DIR``; a temporary folder unless it is set).

    A single-process app whose start fails (``FailFast``) makes this exit with status 1, for
    its supervisor (Kubernetes, compose's restart policy) to start it again.
    """
    options: dict[str, Any] = {
        "host": settings.http_host,
        "port": settings.http_port,
        # C event loop and HTTP parser: less CPU per request than asyncio's and h11.
        "loop": "uvloop",
        "http": "httptools",
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1:
        guarded = FailFast(app)
        server = uvicorn.Server(uvicorn.Config(guarded, **options))
        guarded.on_failure = lambda: setattr(server, "should_exit", True)
        server.run()
        if guarded.failure is not None:
            sys.exit(f"stopped: the service did not start: {guarded.failure!r}")
        return
    with contextlib.ExitStack() as stack:
        if _MULTIPROC_DIR not in os.environ:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="laboursight-"))
            os.environ[_MULTIPROC_DIR] = folder
        uvicorn.run(app, factory=True, workers=workers, **options)


def worker_process() -> bool:
    """In a worker process of ``serve``: make it die with its supervisor and return True;
    elsewhere return False. The app factory a multi-worker ``serve`` runs calls it first."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return False
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent.pid:  # the supervisor died before prctl took effect
            os._exit(1)
    return True
