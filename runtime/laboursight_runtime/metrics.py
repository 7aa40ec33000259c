"""Prometheus metrics every consumer reports, labelled by topic and outcome."""

from prometheus_client import Counter, Histogram

MESSAGES = Counter(
    "laboursight_messages_total",
    "Messages handled by a consumer, by outcome (processed, dead_lettered, retried)",
    ["topic", "outcome"],
)
HANDLE_SECONDS = Histogram(
    "laboursight_handle_seconds", "Time from fetch to acknowledgement of one message", ["topic"]
)
