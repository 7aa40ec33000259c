"""What risk reports to Prometheus beside every consumer's metrics."""

from prometheus_client import Counter, Gauge

OUTBOX_BACKLOG = Gauge(
    "laboursight_alert_outbox_backlog",
    "Alerts in risk's outbox with a revision not yet published, as the relay last counted them",
)
OUTBOX_RELAYED = Counter(
    "laboursight_alert_outbox_relayed_total",
    "Alert events (revisions) the outbox relay published because nothing had published them in "
    "time",
)
BATCH_CONFLICTS = Counter(
    "laboursight_risk_batch_conflicts_total",
    "Batches run again at once because their transaction met another's write (write conflict)",
)
OUTBOX_REDRIVEN = Counter(
    "laboursight_alert_outbox_redriven_total",
    "Published alerts marked unpublished again because the broker lost acknowledged records",
)
