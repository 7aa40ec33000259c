"""Prometheus metrics of the HTTP edge."""

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCEPTED = Counter(
    "laboursight_api_disclosures_accepted_total", "Disclosures acknowledged by Kafka", ["kind"]
)
REJECTED = Counter(
    "laboursight_api_disclosures_rejected_total",
    "Disclosures refused, by kind (unknown when unreadable) and reason",
    ["kind", "reason"],
)
REQUEST_SECONDS = Histogram(
    "laboursight_api_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
)


class RequestTimer:
    """Times every request, labelled by route template so ids do not explode the label set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_SECONDS.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )
