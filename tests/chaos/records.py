"""What the suite records as it runs: plain data, read by the verdict."""

from dataclasses import dataclass


@dataclass
class Submission:
    """One disclosure as its client saw it, over every attempt with its Idempotency-Key."""

    entity_id: str
    template: str
    idempotency_key: str
    sent_at: float
    attempts: int = 0
    answered_at: float | None = None
    status: int | None = None  # the final answer; None while (or if never) answered
    disclosure_id: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One webhook the receiver accepted (signature verified)."""

    webhook_id: str
    entity_id: str
    disclosure_id: str
    alert_id: str  # one per (entity, alert type): several types may alert on one disclosure
