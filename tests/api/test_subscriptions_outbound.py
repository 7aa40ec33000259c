"""Subscriptions refuse webhook targets the outbound policy refuses, with a 422 naming ``$.url``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from ipaddress import ip_address
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.app import create_app
from laboursight_api.settings import ApiSettings
from laboursight_api.subscriptions import resolver
from laboursight_runtime import outbound
from tests.api.conftest import bearer, serving
from tests.api.fakes import FakeBus

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


class Names:
    """A hand-written resolver: public-looking names and the addresses they resolve to."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.table:
            raise outbound.Unresolvable(f"has the host {host}, which does not resolve (test)")
        return self.table[host]


NAMES = Names({"hooks.example.com": ["93.184.215.14"], "rebind.example.com": ["127.0.0.1"]})


@asynccontextmanager
async def api_with(
    settings: ApiSettings, db: Db, *, allow_loopback: bool
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"outbound_allow_loopback": allow_loopback}),
        publisher=FakeBus(),
        db=db,
    )
    app.dependency_overrides[resolver] = lambda: NAMES
    async with serving(app) as client:
        yield client


@pytest.fixture
async def strict(settings: ApiSettings, db: Db) -> AsyncIterator[httpx.AsyncClient]:
    async with api_with(settings, db, allow_loopback=False) as client:
        yield client


@pytest.fixture
async def lenient(settings: ApiSettings, db: Db) -> AsyncIterator[httpx.AsyncClient]:
    async with api_with(settings, db, allow_loopback=True) as client:
        yield client


async def refusal(api: httpx.AsyncClient, db: Db, url: str) -> str:
    """The message of the 422 that refuses ``url``, once nothing was stored."""
    headers = await bearer(db, "analyst")
    answer = await api.post("/v1/subscriptions", json={"url": url}, headers=headers)

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "validation_failed"
    [error] = problem["errors"]
    assert error["field"] == "$.url"
    assert (await api.get("/v1/subscriptions", headers=headers)).json() == []
    message: str = error["message"]
    return message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://169.254.169.254/latest/meta-data",
            "the URL resolves to 169.254.169.254, a cloud metadata address",
        ),
        (
            "http://[::ffff:169.254.169.254]/latest/meta-data",
            # The address as the URL type writes it, which depends on the Python version.
            f"the URL resolves to {ip_address('::ffff:169.254.169.254')}, which carries "
            "169.254.169.254, "
            "a cloud metadata address",
        ),
        ("http://169.254.10.1/", "the URL resolves to 169.254.10.1, a link-local address"),
        ("https://10.0.0.7/hook", "the URL resolves to 10.0.0.7, a private address"),
        ("https://100.64.1.2/hook", "the URL resolves to 100.64.1.2, a carrier-grade NAT address"),
        ("http://[fd00::1]/hook", "the URL resolves to fd00::1, a private address"),
        ("http://0.0.0.0:9/hook", "the URL resolves to 0.0.0.0, the unspecified address"),
        (
            "https://nowhere.example.com/hook",
            "the URL has the host nowhere.example.com, which does not resolve (test)",
        ),
    ],
)
async def test_non_public_targets_are_refused_even_with_loopback_allowed(
    lenient: httpx.AsyncClient, db: Db, url: str, message: str
) -> None:
    assert await refusal(lenient, db, url) == message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://rebind.example.com/hook", "the URL resolves to 127.0.0.1, a loopback address"),
        ("http://127.0.0.1:9/hook", "the URL resolves to 127.0.0.1, a loopback address"),
        ("http://[::1]:9/hook", "the URL resolves to ::1, a loopback address"),
    ],
)
async def test_loopback_is_refused_unless_allowed(
    strict: httpx.AsyncClient, lenient: httpx.AsyncClient, db: Db, url: str, message: str
) -> None:
    assert await refusal(strict, db, url) == message

    allowed = await lenient.post(
        "/v1/subscriptions", json={"url": url}, headers=await bearer(db, "analyst")
    )

    assert allowed.status_code == 201, allowed.text


async def test_a_public_name_is_accepted(strict: httpx.AsyncClient, db: Db) -> None:
    answer = await strict.post(
        "/v1/subscriptions",
        json={"url": "https://hooks.example.com/alerts"},
        headers=await bearer(db, "analyst"),
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["url"] == "https://hooks.example.com/alerts"


async def test_the_real_resolver_refuses_localhost(settings: ApiSettings, db: Db) -> None:
    """Without a stand-in resolver: the name is resolved by the system, as in production."""
    app = create_app(
        settings.model_copy(update={"outbound_allow_loopback": False}), publisher=FakeBus(), db=db
    )
    async with serving(app) as api:
        message = await refusal(api, db, "http://localhost:9/hook")

    assert message.startswith("the URL resolves to ")
    assert message.endswith(", a loopback address")


async def test_a_changed_url_is_checked_as_a_new_one_is(strict: httpx.AsyncClient, db: Db) -> None:
    analyst = await bearer(db, "analyst")
    created = await strict.post(
        "/v1/subscriptions", json={"url": "https://hooks.example.com/alerts"}, headers=analyst
    )
    url = f"/v1/subscriptions/{created.json()['subscription_id']}"

    refused = await strict.patch(
        url, json={"url": "http://169.254.169.254/latest/meta-data"}, headers=analyst
    )
    rebound = await strict.patch(
        url, json={"url": "https://rebind.example.com/hook"}, headers=analyst
    )
    moved = await strict.patch(
        url, json={"url": "https://hooks.example.com/moved"}, headers=analyst
    )

    assert (refused.status_code, rebound.status_code) == (422, 422)
    assert refused.json()["errors"] == [
        {
            "field": "$.url",
            "message": "the URL resolves to 169.254.169.254, a cloud metadata address",
        }
    ]
    assert rebound.json()["errors"][0]["field"] == "$.url"
    assert moved.status_code == 200, moved.text
    assert (await strict.get(url, headers=analyst)).json()["url"] == (
        "https://hooks.example.com/moved"
    )
