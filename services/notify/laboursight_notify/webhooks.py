"""Sending one webhook: an HTTP POST signed with the Standard Webhooks scheme."""

import asyncio
import socket
import ssl
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

import aiohttp
import certifi
from aiohttp.abc import AbstractResolver, ResolveResult
from standardwebhooks import Webhook

from laboursight_runtime import outbound, tracing
from laboursight_runtime.outbound import OutboundPolicy
from laboursight_schemas.envelope import CLOUDEVENTS_JSON

from .model import Attempt, Subscription

# 5 s to connect, 10 s between reads of the answer, 15 s in all to get a connection (a wait for a
# free one in the pool included). aiohttp has no write timeout: the dispatcher's
# ``attempt_timeout`` bounds the whole attempt.
TIMEOUT = aiohttp.ClientTimeout(total=None, connect=15.0, sock_connect=5.0, sock_read=10.0)
# Under the 5 s after which many servers (Node's default) drop an idle connection, so that a POST
# is not sent on a connection its receiver is closing.
KEEPALIVE_S = 5.0
# What a failed answer's body may add to the attempt's error, for the subscriber to read in the
# delivery log ("invalid signature"), and how long it may take to arrive.
EXCERPT_BYTES = 256
EXCERPT_WAIT_S = 1.0


class Refused(OSError):
    """The outbound policy refuses where a host resolved to; no connection was opened."""


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver, whose answer is refused whole when the policy refuses any address in
    it: the connection is opened to an address that was checked, from the same resolution, so a
    name that resolves elsewhere between a check and a connect (DNS rebinding) gains nothing.
    aiohttp caches what this returns (``ttl_dns_cache``), so only checked answers are reused.
    """

    def __init__(self, policy: OutboundPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        reason = outbound.address_refusal([result["host"] for result in found], self._policy)
        if reason is not None:
            raise Refused(f"refused: {host} {reason}")
        return found

    async def close(self) -> None:
        await self._inner.close()


class WebhookSender(Protocol):
    async def send(self, subscription: Subscription, message_id: str, body: str) -> Attempt:
        """POST ``body`` once; a receiver that fails or does not answer is an Attempt, not an error."""
        ...


class SignedWebhookSender:
    """Each attempt is signed afresh, since receivers reject timestamps older than a few minutes.

    Every attempt goes through one aiohttp session, which ``open`` creates in the running event
    loop (aiohttp binds a session to the loop it is made in) and ``close`` closes; ``send`` before
    ``open`` or after ``close`` is a RuntimeError. The session keeps up to ``connections``
    connections (the dispatcher's concurrency) open and alive between attempts.

    - Redirects are not followed: a signed alert goes only to the URL the tenant registered, and a
      3xx is the attempt's answer.
    - A successful answer's body is never read, whatever its size; of a failed answer's, at most
      ``EXCERPT_BYTES`` within ``EXCERPT_WAIT_S``, which end the attempt's error. The connection
      goes back to the pool when the whole body had already arrived, and is closed otherwise.
    - Nothing is sent where ``policy`` refuses (``laboursight_runtime.outbound``): a URL whose
      host is an IP address is judged before the attempt, a name by the connector's resolver
      each time it is resolved, so the address connected to is the address judged. A refusal is
      an attempt with ``refused`` set, which is final.
    - Every secret the subscription signs with at the moment of the attempt signs it: after a
      rotation, the old and the new, space-separated in ``webhook-signature`` as the scheme
      allows, so a receiver holding either verifies it.
    - The active span's trace context goes along in ``traceparent`` (and ``tracestate``).
    - Certificates are checked against certifi's roots. No proxy is used, whatever
      ``HTTPS_PROXY`` says: aiohttp's reading of the environment costs two hand-offs to a thread
      and a read of ``~/.netrc`` on every POST.
    """

    def __init__(
        self,
        connections: int = 64,
        *,
        timeout: aiohttp.ClientTimeout = TIMEOUT,
        policy: OutboundPolicy = OutboundPolicy(),  # noqa: B008 — frozen, so safe to share
    ) -> None:
        self._connections = connections
        self._timeout = timeout
        self._policy = policy
        self._session: aiohttp.ClientSession | None = None
        self._resolver: PolicyResolver | None = None

    async def open(self) -> None:
        # A resolver given to the connector is not closed with it.
        self._resolver = PolicyResolver(self._policy)
        connector = aiohttp.TCPConnector(
            limit=self._connections,
            limit_per_host=0,
            keepalive_timeout=KEEPALIVE_S,
            resolver=self._resolver,
            ssl=ssl.create_default_context(cafile=certifi.where()),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            headers={"user-agent": "laboursight-notify"},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._resolver is not None:
            await self._resolver.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def send(self, subscription: Subscription, message_id: str, body: str) -> Attempt:
        if self._session is None or self._session.closed:
            raise RuntimeError("the webhook sender is not open")
        refused = self._refusal(subscription.url)
        if refused is not None:
            return Attempt(error=f"refused: {subscription.url} {refused}", refused=True)
        timestamp = datetime.now(UTC)
        signatures = [
            Webhook(secret).sign(message_id, timestamp, body)
            for secret in subscription.signing_secrets(timestamp)
        ]
        headers = {
            # The body is the event's CloudEvent: the HTTP binding's structured content mode.
            "content-type": CLOUDEVENTS_JSON,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": " ".join(signatures),
            # The attempt's span (W3C Trace Context), for a receiver that traces too.
            **tracing.headers(tracing.current()),
        }
        try:
            async with self._session.post(
                subscription.url, data=body.encode(), headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                reason = response.reason or ""
                if 200 <= status < 300:
                    return Attempt(status_code=status)
                said = await _excerpt(response)
        # aiohttp's timeouts are ClientErrors and TimeoutErrors both; TimeoutError is caught for
        # any raised bare. The dispatcher's own timeout cancels, and a cancellation goes through.
        except (aiohttp.ClientError, TimeoutError) as error:
            if isinstance(error, aiohttp.ClientConnectorError) and isinstance(
                error.os_error, Refused
            ):
                return Attempt(error=str(error.os_error), refused=True)
            return Attempt(error=f"{type(error).__name__}: {error}")
        answer = f"HTTP {status} {reason}".strip()
        return Attempt(status_code=status, error=f"{answer}: {said}" if said else answer)

    def _refusal(self, url: str) -> str | None:
        """What can be judged before connecting: the URL, and its host if it is an address."""
        literal = outbound.literal_address(url)
        return outbound.url_refusal(url) or (
            None if literal is None else outbound.address_refusal([literal], self._policy)
        )


async def _excerpt(response: aiohttp.ClientResponse) -> str:
    """The start of a failed answer's body, as one line of printable text; what does not come
    in time, or at all, is left out."""
    read = b""
    try:
        async with asyncio.timeout(EXCERPT_WAIT_S):
            while len(read) < EXCERPT_BYTES:
                chunk = await response.content.read(EXCERPT_BYTES - len(read))
                if not chunk:
                    break
                read += chunk
    except (aiohttp.ClientError, TimeoutError):
        pass
    text = read.decode("utf-8", errors="replace")
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())
