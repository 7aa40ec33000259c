"""Body limit, health, metrics, OpenAPI and the error shape of unknown routes."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from laboursight_api.settings import ApiSettings
from tests.api.fakes import FakeBus
from tests.factories import CLEAN_SUPPLIER

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: ApiSettings) -> ApiSettings:
    return settings.model_copy(update={"api_max_body_bytes": 2048})


async def test_a_declared_oversize_body_is_refused_unread(
    api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    padded = {**CLEAN_SUPPLIER, "external_ref": "x" * 3000}
    answer = await api.post("/v1/disclosures", json=padded, headers=submitter)

    assert answer.status_code == 413
    assert "2048" in answer.json()["message"]
    assert bus.sent == []


async def test_a_streamed_oversize_body_is_stopped(
    api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield json.dumps(CLEAN_SUPPLIER).encode()[:-1]
        for _ in range(10):
            yield b" " * 512
        yield b"}"

    answer = await api.post("/v1/disclosures", content=chunks(), headers=submitter)

    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413
    assert answer.json()["error"] == "request_entity_too_large"
    assert bus.sent == []


async def test_health_and_readiness(api: httpx.AsyncClient, bus: FakeBus) -> None:
    assert (await api.get("/healthz")).status_code == 200
    ready = await api.get("/readyz")
    bus.ready = False
    not_ready = await api.get("/readyz")

    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "kafka": True, "mongodb": True},
    )
    assert not_ready.status_code == 503
    assert not_ready.json()["kafka"] is False


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


async def test_an_unknown_route_has_the_error_shape(api: httpx.AsyncClient) -> None:
    answer = await api.get("/v1/nothing")

    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
