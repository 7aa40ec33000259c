"""Body limit, content type, health, metrics, OpenAPI and the problem shape of routing errors."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.problems import PROBLEM_JSON, TYPE_PREFIX, Problem
from laboursight_api.settings import ApiSettings
from tests.api.conftest import TENANT, bearer
from tests.api.fakes import FakeBus
from tests.factories import CLEAN_SUPPLIER

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


@pytest.fixture
def settings(settings: ApiSettings) -> ApiSettings:
    return settings.model_copy(update={"api_max_body_bytes": 2048})


async def test_a_declared_oversize_body_is_refused_unread(
    api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    padded = {**CLEAN_SUPPLIER, "external_ref": "x" * 3000}
    answer = await api.post("/v1/disclosures", json=padded, headers=submitter)

    assert answer.status_code == 413
    assert "2048" in answer.json()["detail"]
    assert bus.sent == []


async def test_a_streamed_oversize_body_is_stopped(
    api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield json.dumps(CLEAN_SUPPLIER).encode()[:-1]
        for _ in range(10):
            yield b" " * 512
        yield b"}"

    headers = {**submitter, "Content-Type": "application/json"}
    answer = await api.post("/v1/disclosures", content=chunks(), headers=headers)

    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413
    assert answer.json()["code"] == "request_entity_too_large"
    assert bus.sent == []


async def test_ready_while_mongodb_answers_even_without_kafka(
    api: httpx.AsyncClient, bus: FakeBus
) -> None:
    assert (await api.get("/healthz")).status_code == 200
    ready = await api.get("/readyz")
    bus.ready = False
    without_kafka = await api.get("/readyz")

    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "kafka": True, "mongodb": True},
    )
    assert (without_kafka.status_code, without_kafka.json()) == (
        200,
        {"status": "ready", "kafka": False, "mongodb": True},
    )


async def test_metrics_count_outcomes(api: httpx.AsyncClient, submitter: dict[str, str]) -> None:
    await api.post("/v1/disclosures", json=CLEAN_SUPPLIER, headers=submitter)
    await api.post("/v1/disclosures", json={"kind": "supplier"}, headers=submitter)

    text = (await api.get("/metrics")).text

    assert 'laboursight_api_disclosures_accepted_total{kind="supplier"}' in text
    assert (
        'laboursight_api_disclosures_rejected_total{kind="supplier",reason="validation_failed"}'
        in text
    )
    assert (
        'laboursight_api_request_seconds_count{method="POST",route="/v1/disclosures",status="202"}'
        in text
    )


async def test_openapi_documents_the_disclosure_body(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()

    body = document["paths"]["/v1/disclosures"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Disclosure"
    }
    schemas = document["components"]["schemas"]
    assert {"Disclosure", "SupplierDisclosure", "RecruiterDisclosure", "WorkingTime"} <= set(
        schemas
    )
    assert "/v1/subscriptions" in document["paths"]


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        ("GET", "/v1/nothing", 404, "not_found"),
        ("PUT", "/v1/disclosures", 405, "method_not_allowed"),
    ],
)
async def test_routing_errors_are_problems(
    api: httpx.AsyncClient, method: str, url: str, status: int, code: str
) -> None:
    answer = await api.request(method, url)

    assert answer.headers["Content-Type"] == PROBLEM_JSON
    problem = Problem.model_validate(answer.json())
    assert (problem.status, problem.code, problem.type) == (status, code, TYPE_PREFIX + code)
    assert answer.status_code == status


@pytest.mark.parametrize(
    ("url", "role", "entities"),
    [("/v1/disclosures", "submitter", ["SUP-001"]), ("/v1/subscriptions", "analyst", [])],
)
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_not_declared_json_is_415(
    api: httpx.AsyncClient,
    db: Db,
    url: str,
    role: str,
    entities: list[str],
    content_type: str | None,
) -> None:
    headers = await bearer(db, role, TENANT, *entities)
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = json.dumps(CLEAN_SUPPLIER).encode()

    answer = await api.post(url, content=body, headers=headers)

    assert answer.status_code == 415, answer.text
    assert answer.headers["Content-Type"] == PROBLEM_JSON
    assert answer.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/vnd.laboursight+json"]
)
async def test_json_under_another_name_is_read(
    api: httpx.AsyncClient, submitter: dict[str, str], content_type: str
) -> None:
    headers = {**submitter, "Content-Type": content_type}
    answer = await api.post(
        "/v1/disclosures", content=json.dumps(CLEAN_SUPPLIER).encode(), headers=headers
    )

    assert answer.status_code == 202, answer.text
