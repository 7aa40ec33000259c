"""The load loops against a real local server that answers, refuses, stalls and drops
connections."""

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.bench.load import DISCLOSURES, closed_loop, load_session, open_loop


class FakeApi:
    """202 with a new id, except: every 5th body a 503, every 7th a dropped connection."""

    def __init__(self, answer_after_s: float = 0.0) -> None:
        self.received: list[int] = []
        self.content_types: set[str] = set()
        self._answer_after_s = answer_after_s
        self._ids = itertools.count()

    async def post(self, request: web.Request) -> web.StreamResponse:
        number = json.loads(await request.read())["n"]
        self.received.append(number)
        self.content_types.add(request.content_type)
        await asyncio.sleep(self._answer_after_s)
        if number % 7 == 6:
            assert request.transport is not None
            request.transport.close()
            return web.Response()  # never written: the connection is already gone
        if number % 5 == 4:
            return web.json_response({"code": "unavailable"}, status=503)
        return web.json_response({"disclosure_id": f"d-{next(self._ids)}"}, status=202)


@asynccontextmanager
async def _session(api: FakeApi, connections: int) -> AsyncIterator[aiohttp.ClientSession]:
    app = web.Application()
    app.router.add_post(DISCLOSURES, api.post)
    async with (
        TestServer(app, host="127.0.0.1") as server,
        load_session(f"http://127.0.0.1:{server.port}", "key", connections) as session,
    ):
        yield session


def _bodies(count: int) -> list[bytes]:
    return [json.dumps({"n": n}).encode() for n in range(count)]


async def test_closed_loop_sends_each_body_once_and_keeps_every_outcome() -> None:
    api = FakeApi()
    async with _session(api, 8) as session:
        sent, _ = await closed_loop(session, _bodies(70), clients=8, time_limit_s=60)
    assert sorted(api.received) == list(range(70))
    assert api.content_types == {"application/json"}
    statuses = [s.status for s in sent]
    assert statuses.count(0) == 10
    assert {s.error for s in sent if s.status == 0} == {"ServerDisconnectedError"}
    assert statuses.count(503) == 12  # 4, 9, … 69, less 34 and 69 which also drop
    assert len({s.disclosure_id for s in sent if s.status == 202}) == statuses.count(202) == 48


async def test_closed_loop_stops_at_its_time_limit_with_bodies_left() -> None:
    api = FakeApi(answer_after_s=0.05)
    async with _session(api, 4) as session:
        sent, _ = await closed_loop(session, _bodies(10_000), clients=4, time_limit_s=0.2)
    assert 0 < len(sent) < 10_000
    assert len(sent) == len(api.received)


async def test_open_loop_stamps_each_submission_with_its_scheduled_time() -> None:
    api = FakeApi()
    async with _session(api, 8) as session:
        sent, lag = await open_loop(session, _bodies(20), per_second=200)
    assert sorted(api.received) == list(range(20))
    gaps = [b.submitted_at - a.submitted_at for a, b in itertools.pairwise(sent)]
    assert gaps == pytest.approx([1 / 200] * 19, abs=1e-6)
    assert lag >= 0
