"""One trace through the running system: every service a process with tracing on, exporting to an
OTLP receiver; a disclosure's HTTP request, its screening, its risk, its alert's notify and the
webhook it becomes are spans of one trace, each the child of the one before."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from laboursight_runtime.local.receiver import WebhookReceiver
from laboursight_runtime.local.stack import Stack
from tests.factories import BONDED_SUPPLIER
from tests.runtime.otlp import OtlpReceiver, ReceivedSpan

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TENANT = "tenant-tracing"
WITHIN_S = 60.0


class Traced:
    def __init__(self, stack: Stack, webhooks: WebhookReceiver, collector: OtlpReceiver) -> None:
        self.stack = stack
        self.webhooks = webhooks
        self.collector = collector


@pytest.fixture(scope="module")
def traced(infra: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    """The five services on the session's servers, on a database of their own, exporting spans
    within a tenth of a second."""
    collector, webhooks = OtlpReceiver(), WebhookReceiver()
    collector.start()
    webhooks.start()
    environment = {
        **infra.environment(),
        "MONGODB_DATABASE": f"laboursight_tracing_{uuid.uuid4().hex[:8]}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    try:
        with Stack(environment, Path(tmp_path_factory.mktemp("traced"))) as stack:
            yield Traced(stack, webhooks, collector)
    finally:
        webhooks.stop()
        collector.stop()


def _span(spans: list[ReceivedSpan], span_id: str | None) -> ReceivedSpan:
    [found] = [s for s in spans if s.span_id == span_id]
    return found


def test_one_trace_spans_the_request_every_consumer_and_the_webhook(traced: Traced) -> None:
    stack = traced.stack
    submitter = stack.create_key(TENANT, "submitter", ["SUP-666"])
    analyst = stack.create_key(TENANT, "analyst")
    api = stack.url("api")
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {analyst}"}) as client:
        subscribed = client.post("/v1/subscriptions", json={"url": traced.webhooks.url})
    assert subscribed.status_code == 201, subscribed.text
    traced.webhooks.secret = subscribed.json()["secret"]
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {submitter}"}) as client:
        accepted = client.post("/v1/disclosures", json=BONDED_SUPPLIER)
    assert accepted.status_code == 202, accepted.text
    disclosure_id = accepted.json()["disclosure_id"]

    alert = traced.webhooks.wait_for(lambda e: e["correlationid"] == disclosure_id, WITHIN_S)
    [headers] = [h for e, h in traced.webhooks.accepted if e["id"] == alert["id"]]
    _, trace_id, webhook_parent, _ = headers["traceparent"].split("-")
    assert alert["traceparent"].split("-")[1] == trace_id

    def complete(spans: list[ReceivedSpan]) -> bool:
        # Each service exports its spans when they end, in batches: a consumer's span ends
        # after its effect, so risk's may arrive after notify's POST. Wait for the whole
        # ancestry of the webhook's span, up to the request, and for the ledger's.
        by_id = {s.span_id: s for s in spans}
        at: str | None = webhook_parent
        while at is not None and at in by_id:
            at = by_id[at].parent_id
        return at is None and any(s.trace_id == trace_id and s.service == "ledger" for s in spans)

    spans = traced.collector.wait_for(complete, WITHIN_S)

    # From the webhook back to the request, each span the parent of the next.
    webhook = _span(spans, webhook_parent)
    notified = _span(spans, webhook.parent_id)
    risked = _span(spans, notified.parent_id)
    screened = _span(spans, risked.parent_id)
    request = _span(spans, screened.parent_id)
    assert (webhook.service, webhook.name, webhook.kind) == ("notify", "POST", "SPAN_KIND_CLIENT")
    assert webhook.attributes["http.response.status_code"] == 204
    assert (notified.service, notified.name) == ("notify", "alerts.v1 process")
    assert notified.attributes["messaging.message.id"] == alert["id"]
    assert (risked.service, risked.name) == ("risk", "findings.v1 process")
    assert (screened.service, screened.name) == ("screening", "disclosures.supplier.v1 process")
    assert screened.attributes["messaging.consumer.group.name"] == "screening-supplier"
    assert (request.service, request.name, request.kind) == (
        "api",
        "POST /v1/disclosures",
        "SPAN_KIND_SERVER",
    )
    assert request.parent_id is None
    assert {s.trace_id for s in (webhook, notified, risked, screened, request)} == {trace_id}
    # FastStream's own spans: the record published for each event, in that event's trace.
    published = [
        s.name for s in spans if s.parent_id == screened.span_id and s.kind == "SPAN_KIND_PRODUCER"
    ]
    assert published == ["findings.v1 create"]
    # The ledger reads every topic: its spans are in the same trace.
    assert {s.service for s in spans if s.trace_id == trace_id} == {
        "api",
        "screening",
        "risk",
        "notify",
        "ledger",
    }
