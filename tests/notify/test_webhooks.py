"""The signing sender against real HTTP servers on loopback: what goes on the wire, what comes back."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks import Webhook, WebhookVerificationError

from laboursight_notify.model import Attempt, Subscription
from laboursight_notify.webhooks import EXCERPT_BYTES, SignedWebhookSender
from laboursight_runtime.outbound import OutboundPolicy

from .fakes import SECRET, subscription

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The servers here listen on loopback, which the default policy refuses.
LOOPBACK = OutboundPolicy(allow_loopback=True)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class Server:
    """An aiohttp server answering every path with ``answer``, keeping each request it read."""

    answer: Handler
    seen: list[Seen] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        _, port = request.transport.get_extra_info("peername")[:2]
        headers = {name.lower(): value for name, value in request.headers.items()}
        body = await request.read()
        self.seen.append(Seen(request.method, request.path, headers, body, port))
        return await self.answer(request)


@asynccontextmanager
async def serving(answer: Handler) -> AsyncIterator[tuple[Server, TestServer]]:
    server = Server(answer)
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", server.handle)
    http = TestServer(app, host="127.0.0.1")
    await http.start_server()
    try:
        yield server, http
    finally:
        await http.close()


@asynccontextmanager
async def raw_server(
    behave: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """A TCP server that reads the request head and then does what ``behave`` does."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        try:
            await behave(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.close()
        await server.wait_closed()


def status(code: int, **headers: str) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, headers=headers)

    return answer


async def test_a_post_carries_a_standard_webhooks_signature() -> None:
    body = '{"id": "evt-1"}'
    async with (
        serving(status(204)) as (server, http),
        SignedWebhookSender(policy=LOOPBACK) as sender,
    ):
        url = str(http.make_url("/sub-1"))
        attempt = await sender.send(subscription(url=url), "evt-1:sub-1", body)

    assert attempt == Attempt(status_code=204)
    [request] = server.seen
    assert (request.method, request.path) == ("POST", "/sub-1")
    assert request.headers["webhook-id"] == "evt-1:sub-1"
    assert request.headers["content-type"] == "application/cloudevents+json"
    assert request.headers["user-agent"] == "laboursight-notify"
    assert request.body == body.encode()
    assert Webhook(SECRET).verify(request.body, request.headers) == {"id": "evt-1"}


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (503, "HTTP 503 Service Unavailable"),
        (500, "HTTP 500 Internal Server Error"),
        (429, "HTTP 429 Too Many Requests"),
        (410, "HTTP 410 Gone"),
        (401, "HTTP 401 Unauthorized"),
    ],
)
async def test_an_error_answer_is_an_attempt_with_its_status(code: int, error: str) -> None:
    async with serving(status(code)) as (_, http), SignedWebhookSender(policy=LOOPBACK) as sender:
        attempt = await sender.send(subscription(url=str(http.make_url("/h"))), "evt-1:s", "{}")

    assert attempt == Attempt(status_code=code, error=error)
    assert attempt.retryable == (code in {503, 500, 429})


async def test_a_redirect_is_the_answer_and_is_not_followed() -> None:
    redirect = status(302, location="/elsewhere")
    async with serving(redirect) as (server, http), SignedWebhookSender(policy=LOOPBACK) as sender:
        url = str(http.make_url("/registered"))
        attempt = await sender.send(subscription(url=url), "evt-1:sub-1", "{}")

    assert attempt == Attempt(status_code=302, error="HTTP 302 Found")
    assert not attempt.retryable
    assert [seen.path for seen in server.seen] == ["/registered"]


async def test_an_endless_answer_body_is_not_read() -> None:
    """The receiver streams a body that never ends: the attempt ends with the status anyway,
    and the connection is dropped rather than drained."""
    dropped = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        try:
            while True:
                await response.write(b"x" * 65536)
        finally:
            dropped.set()

    async with serving(endless) as (_, http), SignedWebhookSender(policy=LOOPBACK) as sender:
        attempt = await sender.send(subscription(url=str(http.make_url("/h"))), "evt-1:s", "{}")
        await dropped.wait()

    assert attempt == Attempt(status_code=200)


async def test_a_failed_answers_body_ends_its_error_read_only_up_to_a_limit() -> None:
    async def endless_refusal(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=400, reason="Bad Request")
        await response.prepare(request)
        await response.write(b'{"error": "invalid signature"}\n\t' + b"y" * 10_000)
        while True:
            await response.write(b"y" * 65536)

    async with (
        serving(endless_refusal) as (_, http),
        SignedWebhookSender(policy=LOOPBACK) as sender,
    ):
        attempt = await sender.send(subscription(url=str(http.make_url("/h"))), "evt-1:s", "{}")

    assert attempt.status_code == 400
    assert attempt.error is not None
    assert attempt.error.startswith('HTTP 400 Bad Request: {"error": "invalid signature"} yyy')
    assert len(attempt.error) <= len("HTTP 400 Bad Request: ") + EXCERPT_BYTES


async def test_after_a_rotation_a_receiver_holding_either_secret_accepts_the_delivery() -> None:
    new = "whsec_" + "bmV3IHNlY3JldCBvZiB0aGUgc3Vic2NyaXB0aW9u"
    rotated = Subscription(
        "sub-1",
        "tenant-a",
        "",
        new,
        previous_secret=SECRET,
        previous_secret_until=datetime.now(UTC) + timedelta(hours=1),
    )
    stranger = "whsec_" + "c29tZWJvZHkgZWxzZSdzIHNlY3JldA=="
    async with (
        serving(status(204)) as (server, http),
        SignedWebhookSender(policy=LOOPBACK) as sender,
    ):
        url = str(http.make_url("/h"))
        await sender.send(replace(rotated, url=url), "evt-1:sub-1", '{"id": "evt-1"}')
        ended = replace(rotated, url=url, previous_secret_until=datetime.now(UTC))
        await sender.send(ended, "evt-2:sub-1", '{"id": "evt-2"}')

    during, after = server.seen
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, new):
        assert Webhook(secret).verify(during.body, during.headers) == {"id": "evt-1"}
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(during.body, during.headers)
    assert Webhook(new).verify(after.body, after.headers) == {"id": "evt-2"}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(after.body, after.headers)


async def test_attempts_share_kept_alive_connections_up_to_the_limit() -> None:
    """Four attempts at once over a limit of two: two connections, each carrying two POSTs."""
    two_arrived = asyncio.Event()
    arrived = 0

    async def hold_until_two(request: web.Request) -> web.StreamResponse:
        nonlocal arrived
        arrived += 1
        if arrived >= 2:
            two_arrived.set()
        await two_arrived.wait()
        return web.Response(status=204)

    async with (
        serving(hold_until_two) as (server, http),
        SignedWebhookSender(2, policy=LOOPBACK) as sender,
    ):
        target = subscription(url=str(http.make_url("/h")))
        attempts = await asyncio.gather(
            *(sender.send(target, f"evt-{n}:s", "{}") for n in range(4))
        )

    assert attempts == [Attempt(status_code=204)] * 4
    ports = [seen.client_port for seen in server.seen]
    assert len(ports) == 4
    assert len(set(ports)) == 2


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    pass


async def _speak_nonsense(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()


async def _never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client gives up and closes


@pytest.mark.parametrize(
    ("behave", "error_type"),
    [
        (_hang_up, "ServerDisconnectedError"),
        (_speak_nonsense, "ClientResponseError"),
        (_never_answer, "SocketTimeoutError"),
    ],
)
async def test_no_answer_is_an_attempt_without_status(
    behave: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    error_type: str,
) -> None:
    quick = aiohttp.ClientTimeout(total=None, sock_connect=5.0, sock_read=0.2)
    async with (
        raw_server(behave) as url,
        SignedWebhookSender(timeout=quick, policy=LOOPBACK) as sender,
    ):
        attempt = await sender.send(subscription(url=url), "evt-1:sub-1", "{}")

    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith(f"{error_type}: ")
    assert attempt.retryable


async def test_a_refused_connection_is_an_attempt_without_status() -> None:
    with_nobody = await asyncio.start_server(_hang_up, "127.0.0.1", 0)
    port = with_nobody.sockets[0].getsockname()[1]
    with_nobody.close()
    await with_nobody.wait_closed()

    async with SignedWebhookSender(policy=LOOPBACK) as sender:
        url = f"http://127.0.0.1:{port}/hook"
        attempt = await sender.send(subscription(url=url), "evt-1:sub-1", "{}")

    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("ClientConnectorError: ")
    assert attempt.retryable


@pytest.mark.parametrize("url", ["ftp://hooks.example/sub-1", "not a url", "http://[::1/x"])
async def test_a_url_that_cannot_be_posted_to_is_an_attempt_without_status(url: str) -> None:
    async with SignedWebhookSender(policy=LOOPBACK) as sender:
        attempt = await sender.send(subscription(url=url), "evt-1:sub-1", "{}")

    assert attempt.status_code is None
    assert attempt.error is not None


async def test_a_sender_not_open_refuses_to_send() -> None:
    sender = SignedWebhookSender()
    with pytest.raises(RuntimeError, match="not open"):
        await sender.send(subscription(), "evt-1:sub-1", "{}")
    async with sender:
        pass
    with pytest.raises(RuntimeError, match="not open"):
        await sender.send(subscription(), "evt-1:sub-1", "{}")
