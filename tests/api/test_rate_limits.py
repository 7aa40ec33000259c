"""Rate limits per key and per tenant: the limiter on a clock the test moves, and the api's
429 on real MongoDB."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.keys import Principal
from laboursight_api.rate_limits import PRUNE_AT, Limit, RateLimits
from laboursight_api.settings import ApiSettings
from tests.api.conftest import TENANT, bearer, serving
from tests.api.fakes import FakeBus


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _caller(key_id: str, tenant_id: str = "t") -> Principal:
    return Principal(key_id, tenant_id, "analyst", frozenset())


def test_a_burst_goes_through_then_the_rate_holds() -> None:
    clock = Clock()
    limit = Limit(rate=10, burst=3, clock=clock)

    assert [limit.wait("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.wait("k") == pytest.approx(0.1)
    clock.now += 0.1
    assert limit.wait("k") == 0.0
    assert limit.wait("k") == pytest.approx(0.1)
    assert limit.wait("other") == 0.0


def test_a_refused_request_uses_up_nothing() -> None:
    clock = Clock()
    limit = Limit(rate=1, burst=1, clock=clock)
    limit.wait("k")

    refused = [limit.wait("k") for _ in range(50)]

    assert refused == [pytest.approx(1.0)] * 50
    clock.now += 1.0
    assert limit.wait("k") == 0.0


def test_a_rate_of_zero_is_no_limit() -> None:
    limit = Limit(rate=0, burst=1, clock=Clock())

    assert {limit.wait("k") for _ in range(10_000)} == {0.0}


def test_the_tenant_s_keys_share_the_tenant_s_limit() -> None:
    clock = Clock()
    limits = RateLimits(Limit(100, 100, clock), Limit(1, 2, clock))

    assert limits.retry_after(_caller("a")) is None
    assert limits.retry_after(_caller("b")) is None
    assert limits.retry_after(_caller("c")) == 1
    assert limits.retry_after(_caller("d", tenant_id="other")) is None


def test_callers_whose_bucket_is_full_again_are_forgotten() -> None:
    clock = Clock()
    limit = Limit(rate=1000, burst=1, clock=clock)
    for n in range(PRUNE_AT):
        limit.wait(f"k{n}")
    clock.now += 1.0

    limit.wait("latest")

    assert len(limit._due) == 1


@pytest.fixture
async def limited(
    settings: ApiSettings, db: AsyncDatabase[dict[str, Any]]
) -> AsyncIterator[httpx.AsyncClient]:
    tight = settings.model_copy(
        update={"api_rate_per_key": 0.01, "api_burst_per_key": 2, "api_rate_per_tenant": 0}
    )
    async with serving(create_app(tight, publisher=FakeBus(), db=db)) as client:
        yield client


@pytest.mark.integration
async def test_past_its_limit_a_key_gets_a_429_with_retry_after(
    limited: httpx.AsyncClient, db: AsyncDatabase[dict[str, Any]]
) -> None:
    analyst = await bearer(db, "analyst")
    answers = [(await limited.get("/v1/disclosures", headers=analyst)) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused.headers["Retry-After"] == "100"
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "too_many_requests"
    other = await bearer(db, "analyst", TENANT)
    assert (await limited.get("/v1/disclosures", headers=other)).status_code == 200
