"""Notify's Prometheus metrics: how fast alerts reach receivers, what became of them, what waits."""

from prometheus_client import Counter, Gauge, Histogram

# From the fast path (tens of ms) to a receiver that came back after a day.
LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400)

DELIVERY_SECONDS = Histogram(
    "laboursight_webhook_delivery_seconds",
    "Time from an alert event's time to its webhook's successful delivery, by endpoint host",
    ["host"],
    buckets=LATENCY_BUCKETS_S,
)
OUTCOMES = Counter(
    "laboursight_webhook_outcomes_total",
    "Webhook delivery outcomes by endpoint host: delivered, retry (an attempt failed, due again "
    "later), dead (final answer or horizon passed), deferred (circuit open, not attempted)",
    ["host", "outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "laboursight_webhook_attempt_seconds",
    "Duration of one webhook POST, by endpoint host",
    ["host"],
)
BACKLOG = Gauge(
    "laboursight_webhook_backlog",
    "Deliveries pending (not yet delivered, still retried) and dead, over every tenant",
    ["status"],
)
