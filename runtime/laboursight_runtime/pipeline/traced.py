"""The trace step: a span for each event a handler is given, in the trace the event came with.

Around every call of a handler (so again for each retry, and for each half of a batch being
bisected): one ``<topic> process`` span per event, a child of the context in its envelope
(``traceparent``), linked to the batch's span (FastStream's, active while the batch is handled),
with the event id, partition, offset and consumer group. The handler's outcome is each span's:
an error marks every one of them. While the call runs, ``tracing.for_event`` gives an event
derived from one of them that event's span, so the trace goes on from there; with a single
event, its span is also the active one (for the ids in the logs). Tracing off, no span is made
and ``for_event`` passes each event's own context on.
"""

from collections.abc import Sequence

from opentelemetry import context, trace
from opentelemetry.trace import Link, Span, SpanKind, StatusCode

from laboursight_runtime import tracing

from .handler import Decoded, EventT, RecordsHandler


def traced(handle: RecordsHandler[EventT], *, topic: str, group_id: str) -> RecordsHandler[EventT]:
    """``handle``, each call of it traced as above."""

    async def run(items: Sequence[Decoded[EventT]]) -> None:
        if not tracing.enabled():
            with tracing.handling({item.event.id: tracing.of_event(item.event) for item in items}):
                await handle(items)
            return
        spans = _started(items, topic, group_id)
        token = context.attach(trace.set_span_in_context(spans[0])) if len(spans) == 1 else None
        try:
            carriers = {
                item.event.id: tracing.carrier_of(span)
                for item, span in zip(items, spans, strict=True)
            }
            with tracing.handling(carriers):
                await handle(items)
        except BaseException as error:
            for span in spans:
                span.record_exception(error)
                span.set_status(StatusCode.ERROR, repr(error))
            raise
        finally:
            if token is not None:
                context.detach(token)
            for span in spans:
                span.end()

    return run


def _started(items: Sequence[Decoded[EventT]], topic: str, group_id: str) -> list[Span]:
    batch = trace.get_current_span().get_span_context()
    links = [Link(batch)] if batch.is_valid else None
    tracer = tracing.tracer()
    return [
        tracer.start_span(
            f"{topic} process",
            context=tracing.parent(tracing.of_event(item.event)),
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": topic,
                "messaging.consumer.group.name": group_id,
                "messaging.message.id": item.event.id,
                "messaging.destination.partition.id": str(item.record.partition),
                "messaging.kafka.offset": item.record.offset,
                "cloudevents.event_type": item.event.type,
            },
        )
        for item in items
    ]
