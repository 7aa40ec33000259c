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
DEAD = Counter(
    "laboursight_webhook_dead_total",
    "Deliveries that ended dead, by why: horizon (retried until the retry horizon, or past it "
    "while the endpoint's circuit was open), rejected (a final answer: a 4xx other than 408 and "
    "429, or a redirect), refused (the outbound policy refused the target), unsubscribed (the "
    "subscription was deleted or deactivated)",
    ["reason"],
)
DISPATCH_LAG = Gauge(
    "laboursight_webhook_dispatch_lag_seconds",
    "How long the pending delivery due longest ago has been due without being claimed: a few "
    "poll intervals at most while the dispatchers keep up",
)
OPEN_CIRCUITS = Gauge(
    "laboursight_webhook_open_circuits",
    "Endpoints whose circuit this process holds open (or half-open), not attempted meanwhile",
)
REQUESTS = Counter(
    "laboursight_webhook_requests_total",
    "Delivery requests from the api carried out, by kind (redelivery, test)",
    ["kind"],
)
REDELIVERED = Counter(
    "laboursight_webhook_redelivered_total",
    "Final deliveries made pending again by redelivery requests",
)
