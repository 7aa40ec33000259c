"""Load on the api: an open loop that sends on a schedule, and a closed loop of N clients.

The open loop starts each request at its scheduled time whatever the answers before it, and
every latency counts from that scheduled time, so a system that falls behind shows it in the
figures instead of slowing the load down (no coordinated omission). Both loops send each body
at most once and stop at a time limit, so a stalled api cannot hold the benchmark. A request
that gets no answer (refused, dropped, timed out) is kept with status 0 and the error's type.

The loops post through aiohttp rather than httpx: httpx spent several times the api's own CPU
per request, and the generator shares the machine's cores with the system it measures.
"""

import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import aiohttp
import httpx

from tests.bench.workload import Raw

REQUEST_TIMEOUT_S = 10.0
DISCLOSURES = "/v1/disclosures"


@dataclass(frozen=True)
class Submission:
    submitted_at: float  # wall clock: the scheduled time (open loop) or the send (closed loop)
    latency_s: float
    status: int  # 0: no answer (the error is in ``error``)
    disclosure_id: str | None
    error: str | None = None


def api_client(base_url: str, key: str, connections: int) -> httpx.AsyncClient:
    """For the bench's few requests outside the load loops, where convenience beats CPU."""
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=REQUEST_TIMEOUT_S,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def load_session(base_url: str, key: str, connections: int) -> aiohttp.ClientSession:
    """The loops' session: at most ``connections`` kept-alive connections, each request
    bounded by ``REQUEST_TIMEOUT_S`` including its wait for a free connection."""
    return aiohttp.ClientSession(
        base_url=base_url,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        connector=aiohttp.TCPConnector(limit=connections),
        cookie_jar=aiohttp.DummyCookieJar(),  # the api sets none; matching them costs CPU
    )


def encoded(bodies: Sequence[Raw]) -> list[bytes]:
    return [json.dumps(body).encode() for body in bodies]


async def _post(
    session: aiohttp.ClientSession, body: bytes, submitted_at: float, started: float
) -> Submission:
    try:
        # Read every answer to its end: an unread body would close the connection, not keep it.
        async with session.post(DISCLOSURES, data=body) as response:
            answer = await response.read()
    except (aiohttp.ClientError, TimeoutError) as error:
        return Submission(
            submitted_at, time.perf_counter() - started, 0, None, type(error).__name__
        )
    latency = time.perf_counter() - started
    disclosure = json.loads(answer).get("disclosure_id") if response.status == 202 else None
    return Submission(submitted_at, latency, response.status, disclosure)


async def open_loop(
    session: aiohttp.ClientSession, bodies: Sequence[bytes], per_second: float
) -> tuple[list[Submission], float]:
    """Every body, the i-th at start + i / per_second; also the largest send lag in seconds."""
    wall0, mono0, perf0 = time.time(), time.monotonic(), time.perf_counter()
    lag = 0.0
    sent: list[asyncio.Task[Submission]] = []
    for i, body in enumerate(bodies):
        offset = i / per_second
        delay = mono0 + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, -delay)
        sent.append(asyncio.create_task(_post(session, body, wall0 + offset, perf0 + offset)))
    return list(await asyncio.gather(*sent)), lag


async def closed_loop(
    session: aiohttp.ClientSession, bodies: Sequence[bytes], clients: int, time_limit_s: float
) -> tuple[list[Submission], float]:
    """``clients`` concurrent senders, each sending its next body once answered; also the
    seconds from the first send to the last answer."""
    queue: Iterator[bytes] = iter(bodies)
    stop_at = time.monotonic() + time_limit_s
    done: list[Submission] = []

    async def sender() -> None:
        for body in queue:  # shared: every body goes out once, to whichever sender is free
            if time.monotonic() >= stop_at:
                return
            done.append(await _post(session, body, time.time(), time.perf_counter()))

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(clients)))
    return done, time.perf_counter() - started
