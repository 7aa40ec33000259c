"""The load loops against a fake api that answers, refuses, stalls and drops connections."""

import asyncio
import itertools
import json

import httpx
import pytest

from tests.bench.load import closed_loop, open_loop


class FakeApi:
    """202 with a new id, except: every 5th body a 503, every 7th a dropped connection."""

    def __init__(self, answer_after_s: float = 0.0) -> None:
        self.received: list[int] = []
        self._answer_after_s = answer_after_s
        self._ids = itertools.count()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        number = json.loads(request.content)["n"]
        self.received.append(number)
        await asyncio.sleep(self._answer_after_s)
        if number % 7 == 6:
            raise httpx.ConnectError("connection reset", request=request)
        if number % 5 == 4:
            return httpx.Response(503, json={"code": "unavailable"})
        return httpx.Response(202, json={"disclosure_id": f"d-{next(self._ids)}"})


def _client(api: FakeApi) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url="http://api.test", transport=httpx.MockTransport(api))


def _bodies(count: int) -> list[bytes]:
    return [json.dumps({"n": n}).encode() for n in range(count)]


async def test_closed_loop_sends_each_body_once_and_keeps_every_outcome() -> None:
    api = FakeApi()
    async with _client(api) as client:
        sent, _ = await closed_loop(client, _bodies(70), clients=8, time_limit_s=60)
    assert sorted(api.received) == list(range(70))
    statuses = [s.status for s in sent]
    assert statuses.count(0) == 10
    assert {s.error for s in sent if s.status == 0} == {"ConnectError"}
    assert statuses.count(503) == 12  # 4, 9, … 69, less 34 and 69 which also drop
    assert len({s.disclosure_id for s in sent if s.status == 202}) == statuses.count(202) == 48


async def test_closed_loop_stops_at_its_time_limit_with_bodies_left() -> None:
    api = FakeApi(answer_after_s=0.05)
    async with _client(api) as client:
        sent, _ = await closed_loop(client, _bodies(10_000), clients=4, time_limit_s=0.2)
    assert 0 < len(sent) < 10_000
    assert len(sent) == len(api.received)


async def test_open_loop_stamps_each_submission_with_its_scheduled_time() -> None:
    api = FakeApi()
    async with _client(api) as client:
        sent, lag = await open_loop(client, _bodies(20), per_second=200)
    assert sorted(api.received) == list(range(20))
    gaps = [b.submitted_at - a.submitted_at for a, b in itertools.pairwise(sent)]
    assert gaps == pytest.approx([1 / 200] * 19, abs=1e-6)
    assert lag >= 0
