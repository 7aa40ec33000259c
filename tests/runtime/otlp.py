"""An OTLP/HTTP trace receiver for tests: what a collector would get from the services, decoded
with OpenTelemetry's own protobuf messages (``opentelemetry-proto``)."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from tests.http_capture import Answer, HttpCapture


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str | None
    links: tuple[str, ...]
    attributes: dict[str, Any]


def _value(value: AnyValue) -> Any:
    return getattr(value, value.WhichOneof("value") or "string_value")


def _decoded(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource in request.resource_spans:
        service = next(
            (_value(a.value) for a in resource.resource.attributes if a.key == "service.name"), ""
        )
        for scope in resource.scope_spans:
            for span in scope.spans:
                spans.append(
                    ReceivedSpan(
                        service=service,
                        name=span.name,
                        kind=ProtoSpan.SpanKind.Name(span.kind),
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex() or None,
                        links=tuple(link.span_id.hex() for link in span.links),
                        attributes={a.key: _value(a.value) for a in span.attributes},
                    )
                )
    return spans


class OtlpReceiver(HttpCapture):
    """``url`` is the base to give as ``OTEL_EXPORTER_OTLP_ENDPOINT``; ``spans`` is every span
    received so far, in order of arrival."""

    # Persistent connections, as a collector serves the exporter's.
    protocol_version = "HTTP/1.1"

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self._arrived = threading.Condition()
        super().__init__()

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if path != "/v1/traces":
            return Answer(404)
        with self._arrived:
            self.spans.extend(_decoded(body))
            self._arrived.notify_all()
        return Answer(
            200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf"
        )

    def wait_for(
        self, predicate: Callable[[list[ReceivedSpan]], bool], timeout_s: float
    ) -> list[ReceivedSpan]:
        """Every span received, once ``predicate`` holds of them; TimeoutError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while not predicate(self.spans):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"spans never as expected; got {len(self.spans)}")
                self._arrived.wait(left)
            return list(self.spans)
