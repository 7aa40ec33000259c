"""Tracing's parts alone: the settings that turn it on, the trace context in the envelope, the
pipeline's span per event, what a derived event continues, the webhook's span, the log ids."""

import json
import logging
from collections.abc import Iterator, Sequence

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from laboursight_runtime import logs, tracing
from laboursight_runtime.kafka import KafkaPublisher, encode, make_broker
from laboursight_runtime.pipeline.decode import decode
from laboursight_runtime.pipeline.handler import Decoded
from laboursight_runtime.pipeline.traced import traced
from laboursight_runtime.settings import Settings
from laboursight_schemas.envelope import SupplierDisclosureEvent
from tests.runtime.fakes import TOPIC, event, record

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = f"00-{TRACE}-b7ad6b7169203331-01"
OTHER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER = f"00-{OTHER_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, its spans kept in memory; off again afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.uninstall()
    provider.shutdown()


def traced_event(event_id: str, traceparent: str, tracestate: str | None = None) -> bytes:
    update = {"traceparent": traceparent, "tracestate": tracestate}
    return encode(event(event_id).model_copy(update=update))


def items(*events: bytes) -> list[Decoded[SupplierDisclosureEvent]]:
    decoded, _ = decode([record(n, e) for n, e in enumerate(events)], SupplierDisclosureEvent)
    return decoded


def trace_id(span: ReadableSpan) -> str:
    return trace.format_trace_id(span.context.trace_id)


# --- settings ---------------------------------------------------------------------------------


def test_tracing_is_off_by_default_and_on_with_an_otlp_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().traces_endpoint() is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert Settings().traces_endpoint() == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/spans")
    assert Settings().traces_endpoint() == "http://traces:4318/spans"
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert Settings().traces_endpoint() is None


def test_the_otlp_exporter_alone_sends_to_the_standard_local_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    assert Settings().traces_endpoint() == "http://localhost:4318/v1/traces"
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert Settings().traces_endpoint() is None


def test_an_exporter_that_is_not_there_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ValueError, match="otel_traces_exporter"):
        Settings()


# --- the envelope -----------------------------------------------------------------------------


def test_the_trace_context_is_a_cloudevents_extension_and_left_out_when_unset() -> None:
    written = traced_event("e-1", PARENT, "vendor=opaque")
    parsed = ce_kafka.from_structured(
        ce_kafka.KafkaMessage(
            headers={"content-type": b"application/cloudevents+json"}, key=b"k", value=written
        ),
        JSONFormat(),
    )
    assert parsed.get_extension("traceparent") == PARENT
    assert parsed.get_extension("tracestate") == "vendor=opaque"
    assert tracing.of_event(SupplierDisclosureEvent.model_validate_json(written)) == {
        "traceparent": PARENT,
        "tracestate": "vendor=opaque",
    }
    untraced = json.loads(encode(event("e-2")))
    assert "traceparent" not in untraced
    assert "tracestate" not in untraced


def test_a_stored_carrier_is_read_back_and_anything_else_is_ignored() -> None:
    assert tracing.carrier({"traceparent": PARENT, "tracestate": "a=b", "x": "y"}) == {
        "traceparent": PARENT,
        "tracestate": "a=b",
    }
    assert tracing.carrier({"traceparent": 7}) == {}
    assert tracing.carrier(None) == {}


# --- the pipeline's step ----------------------------------------------------------------------


class Seen:
    """A handler that notes what an event derived from each one it handles would carry."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.carried: dict[str, tracing.Carrier] = {}
        self.active: list[str] = []

    async def __call__(self, batch: Sequence[Decoded[SupplierDisclosureEvent]]) -> None:
        for item in batch:
            self.carried[item.event.id] = tracing.for_event(item.event.id)
        self.active.append(
            trace.format_trace_id(trace.get_current_span().get_span_context().trace_id)
        )
        if self.fail:
            raise ValueError("poison")


async def test_each_event_gets_a_span_in_its_own_trace_linked_to_the_batch(
    spans: InMemorySpanExporter,
) -> None:
    seen = Seen()
    handle = traced(seen, topic=TOPIC, group_id="screening-supplier")
    with tracing.tracer().start_as_current_span("batch") as batch:
        await handle(items(traced_event("e-1", PARENT, "v=1"), traced_event("e-2", OTHER)))
    finished = {
        s.attributes["messaging.message.id"]: s
        for s in spans.get_finished_spans()
        if s.attributes and "messaging.message.id" in s.attributes
    }
    first, second = finished["e-1"], finished["e-2"]
    assert (trace_id(first), trace_id(second)) == (TRACE, OTHER_TRACE)
    assert first.parent is not None
    assert first.parent.span_id == int("b7ad6b7169203331", 16)
    assert first.kind is SpanKind.CONSUMER
    assert first.name == f"{TOPIC} process"
    assert [link.context.span_id for link in first.links] == [batch.get_span_context().span_id]
    assert first.attributes is not None
    assert first.attributes["messaging.kafka.offset"] == 0
    # What is derived from each event continues that event's span, tracestate and all.
    assert seen.carried["e-1"]["traceparent"] == (
        f"00-{TRACE}-{trace.format_span_id(first.context.span_id)}-01"
    )
    assert seen.carried["e-1"]["tracestate"] == "v=1"
    assert OTHER_TRACE in seen.carried["e-2"]["traceparent"]
    # Many events: none of their spans is the active one, the batch's stays.
    assert seen.active == [trace.format_trace_id(batch.get_span_context().trace_id)]


async def test_a_single_event_s_span_is_the_active_one(spans: InMemorySpanExporter) -> None:
    seen = Seen()
    await traced(seen, topic=TOPIC, group_id="g")(items(traced_event("e-1", PARENT)))
    assert seen.active == [TRACE]


async def test_a_failed_handling_marks_every_span_of_the_call(spans: InMemorySpanExporter) -> None:
    handle = traced(Seen(fail=True), topic=TOPIC, group_id="g")
    with pytest.raises(ValueError, match="poison"):
        await handle(items(traced_event("e-1", PARENT), traced_event("e-2", OTHER)))
    finished = spans.get_finished_spans()
    assert len(finished) == 2
    assert all(s.status.status_code is StatusCode.ERROR for s in finished)
    assert all(e.name == "exception" for s in finished for e in s.events)


async def test_with_tracing_off_no_span_is_made_and_each_context_passes_on() -> None:
    seen = Seen()
    await traced(seen, topic=TOPIC, group_id="g")(
        items(traced_event("e-1", PARENT, "v=1"), encode(event("e-2")))
    )
    assert seen.carried == {"e-1": {"traceparent": PARENT, "tracestate": "v=1"}, "e-2": {}}
    assert tracing.for_event("e-1") == {}


# --- a span of one's own (the webhook's) ------------------------------------------------------


def test_a_span_is_a_child_of_its_carrier_and_what_it_sends_names_it(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.span("POST", {"traceparent": PARENT}, kind=SpanKind.CLIENT) as made:
        sent = tracing.headers(tracing.current())
    [finished] = spans.get_finished_spans()
    assert trace_id(finished) == TRACE
    assert finished.kind is SpanKind.CLIENT
    span_id = trace.format_span_id(made.get_span_context().span_id)
    assert sent == {"traceparent": f"00-{TRACE}-{span_id}-01"}


def test_with_tracing_off_a_span_passes_its_parent_on() -> None:
    with tracing.span("POST", {"traceparent": PARENT, "tracestate": "v=1"}):
        assert tracing.headers(tracing.current()) == {"traceparent": PARENT, "tracestate": "v=1"}
    assert tracing.current() == {}


# --- Kafka headers ----------------------------------------------------------------------------


async def test_a_published_record_s_headers_carry_its_event_s_trace(
    spans: InMemorySpanExporter,
) -> None:
    broker = make_broker(Settings(), client_id="test")
    received: list[dict[str, str]] = []

    @broker.subscriber("findings.v1")
    async def on_record(message: KafkaMessage) -> None:
        received.append({k: v for k, v in message.headers.items() if isinstance(v, str)})

    async with TestKafkaBroker(broker) as test_broker:
        await KafkaPublisher(test_broker).publish(
            "findings.v1", "SUP-1", event("e-1").model_copy(update={"traceparent": PARENT})
        )
    [headers] = received
    assert headers["traceparent"].startswith(f"00-{TRACE}-")
    assert headers["content-type"] == "application/cloudevents+json"
    assert {trace_id(s) for s in spans.get_finished_spans()} == {TRACE}


def test_make_broker_adds_no_middleware_with_tracing_off() -> None:
    broker: KafkaBroker = make_broker(Settings(), client_id="test")
    assert not broker.middlewares


# --- logs -------------------------------------------------------------------------------------


def test_a_line_logged_within_a_span_names_its_trace_and_span(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logs.configure("test")
    try:
        with tracing.span("work", {"traceparent": PARENT}) as made:
            logging.getLogger("laboursight.test").info("inside")
        logging.getLogger("laboursight.test").info("outside")
    finally:
        root.handlers[:], root.level = saved
    inside, outside = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert inside["trace_id"] == TRACE
    assert inside["span_id"] == trace.format_span_id(made.get_span_context().span_id)
    assert "correlation_id" in inside
    assert "trace_id" not in outside
    assert "span_id" not in outside
