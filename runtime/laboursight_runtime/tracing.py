"""Distributed tracing with OpenTelemetry: one trace from the HTTP request to the webhook.

Off unless an exporter is configured (``Settings.traces_endpoint``): then no span is made, the
SDK is never installed, and a trace context that arrives is passed on unchanged, so a service
left untraced does not cut the trace of the others. On, every service exports its spans over
OTLP/HTTP under its own ``service.name``.

The context travels as a W3C Trace Context *carrier* (``traceparent`` and, when there is one,
``tracestate``): in an event's envelope attributes of the same names (the CloudEvents
distributed-tracing extension), stored with every outbox entry and delivery so that a relay
publishing later continues the trace it came from, in Kafka headers (FastStream's own
``KafkaTelemetryMiddleware``, on each broker ``kafka.make_broker`` makes) and in the
``traceparent`` header of every webhook.

Consumers (``pipeline.traced``) give each event a span of its own, a child of the context in
its envelope and linked to the span of the batch it came in; an event derived from it carries
that span's context (``for_event``).
"""

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Final, TypedDict

from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from laboursight_schemas.envelope import Envelope

from .settings import Settings


class Carrier(TypedDict, total=False):
    """A span's W3C Trace Context, as envelope attributes (``Envelope(..., **carrier)``), HTTP
    headers or a stored document's field; empty: no trace."""

    traceparent: str
    tracestate: str


NAMESPACE: Final = "laboursight"
_PROPAGATOR: Final = TraceContextTextMapPropagator()
_NONE: Final = Carrier()

_provider: TracerProvider | None = None
_tracer: Tracer = trace.NoOpTracer()
# What each event handled now continues: its span's carrier (on) or its own (off).
_processing: ContextVar[Mapping[str, Carrier] | None] = ContextVar(
    "tracing_processing", default=None
)


def configure(service: str, settings: Settings) -> None:
    """Export this process's spans as ``service`` if the settings name an exporter; otherwise
    leave tracing off. Spans are sent in batches, and the last of them when the process exits."""
    endpoint = settings.traces_endpoint()
    if endpoint is None:
        return
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.namespace": NAMESPACE})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    install(provider)


def install(provider: TracerProvider) -> None:
    """Turn tracing on with ``provider`` (``configure``'s, or a test's)."""
    global _provider, _tracer
    _provider = provider
    _tracer = provider.get_tracer(NAMESPACE)


def uninstall() -> None:
    """Turn tracing off again (for tests): later spans are not made."""
    global _provider, _tracer
    _provider = None
    _tracer = trace.NoOpTracer()


def provider() -> TracerProvider | None:
    """The provider spans are made with, ``None`` while tracing is off; for the instrumentation
    of FastStream and FastAPI."""
    return _provider


def enabled() -> bool:
    return _provider is not None


def tracer() -> Tracer:
    return _tracer


def carrier(found: Mapping[str, Any] | None) -> Carrier:
    """The trace context in ``found`` (headers, a stored document's field): its
    ``traceparent`` and ``tracestate`` if they are strings, nothing else."""
    made = Carrier()
    if found is None:
        return made
    if isinstance(traceparent := found.get("traceparent"), str):
        made["traceparent"] = traceparent
        if isinstance(tracestate := found.get("tracestate"), str):
            made["tracestate"] = tracestate
    return made


def of_event(event: Envelope[Any]) -> Carrier:
    """The trace context ``event`` carries."""
    if event.traceparent is None:
        return _NONE
    if event.tracestate is None:
        return Carrier(traceparent=event.traceparent)
    return Carrier(traceparent=event.traceparent, tracestate=event.tracestate)


def current() -> Carrier:
    """The active span's context (for the envelope of an event made within it); empty when no
    span is active."""
    if not trace.get_current_span().get_span_context().is_valid:
        return _NONE
    return carrier_of(trace.get_current_span())


def headers(of: Carrier) -> dict[str, str]:
    """``of`` as HTTP or Kafka headers."""
    return {name: value for name, value in of.items() if isinstance(value, str)}


def for_event(event_id: str) -> Carrier:
    """The trace context of an event made from the event ``event_id`` being handled now: the
    span handling it, or (tracing off) the context it came with. Empty outside a handler."""
    carriers = _processing.get()
    return _NONE if carriers is None else carriers.get(event_id, _NONE)


@contextlib.contextmanager
def handling(carriers: Mapping[str, Carrier]) -> Iterator[None]:
    """Within: ``for_event`` answers from ``carriers`` (event id → carrier)."""
    token = _processing.set(carriers)
    try:
        yield
    finally:
        _processing.reset(token)


def parent(of: Carrier) -> context.Context:
    """A context whose span is the one ``of`` names (none if it names none)."""
    return _PROPAGATOR.extract(headers(of)) if of else context.Context()


def carrier_of(span: Span) -> Carrier:
    injected: dict[str, str] = {}
    _PROPAGATOR.inject(injected, trace.set_span_in_context(span))
    return carrier(injected)


@contextlib.contextmanager
def resumed(of: Carrier) -> Iterator[None]:
    """Within: the span ``of`` names is the active one, so that what is made there (a
    FastStream producer span, a Kafka header) joins its trace. Nothing while tracing is off."""
    if not of or _provider is None:
        yield
        return
    token = context.attach(parent(of))
    try:
        yield
    finally:
        context.detach(token)


@contextlib.contextmanager
def span(
    name: str, of: Carrier, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Attributes = None
) -> Iterator[Span]:
    """A span, active within, whose parent is the span ``of`` names. While tracing is off the
    span is that parent itself, not recording, so ``current()`` still passes it on."""
    with _tracer.start_as_current_span(
        name, context=parent(of), kind=kind, attributes=attributes
    ) as made:
        yield made
