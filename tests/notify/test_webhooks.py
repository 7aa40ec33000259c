"""The signing sender over httpx's in-memory transport: what goes on the wire, what comes back."""

import httpx
import pytest
from standardwebhooks import Webhook

from laboursight_notify.model import Attempt
from laboursight_notify.webhooks import SignedWebhookSender

from .fakes import SECRET, subscription


def sender(answer: httpx.Response | Exception, seen: list[httpx.Request]) -> SignedWebhookSender:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return SignedWebhookSender(httpx.AsyncClient(transport=httpx.MockTransport(handle)))


async def test_a_post_carries_a_standard_webhooks_signature() -> None:
    seen: list[httpx.Request] = []
    body = '{"id": "evt-1"}'

    attempt = await sender(httpx.Response(204), seen).send(subscription(), "evt-1:sub-1", body)

    assert attempt == Attempt(status_code=204)
    [request] = seen
    assert (request.method, str(request.url)) == ("POST", "https://hooks.example/sub-1")
    assert request.headers["webhook-id"] == "evt-1:sub-1"
    assert request.headers["content-type"] == "application/cloudevents+json"
    headers = dict(request.headers.items())
    assert Webhook(SECRET).verify(request.content, headers) == {"id": "evt-1"}


async def test_an_error_answer_is_an_attempt_with_its_status() -> None:
    attempt = await sender(httpx.Response(503), []).send(subscription(), "evt-1:sub-1", "{}")

    assert attempt == Attempt(status_code=503, error="HTTP 503 Service Unavailable")


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
)
async def test_no_answer_is_an_attempt_without_status(failure: Exception) -> None:
    attempt = await sender(failure, []).send(subscription(), "evt-1:sub-1", "{}")

    assert attempt.status_code is None
    assert attempt.error == f"{type(failure).__name__}: {failure}"
    assert attempt.retryable
