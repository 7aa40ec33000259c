"""What becomes of a delivery after an attempt: delivered, due again later, or dead. No I/O."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tenacity import RetryCallState, Retrying, wait_random_exponential
from tenacity.wait import wait_base

from .model import Attempt, Delivery, DeliveryStatus


@dataclass(frozen=True)
class Settlement:
    """``pending`` with the time it is due again, or a final ``delivered`` or ``dead``."""

    status: DeliveryStatus
    due_at: datetime | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Retry until the delivery's horizon (``expires_at``), waiting longer after each failure.

    - A 2xx is ``delivered``; a final answer (a 4xx other than 408 and 429) is ``dead`` at once.
    - Any other failure is due again after ``wait`` (tenacity's strategy, given the number of
      attempts so far, counted from the latest redelivery), but never later than ``expires_at``:
      the last retry falls on the horizon, and a failure at or after it is ``dead``.
    - A refusal by the outbound policy is ``dead`` at once: the same policy would refuse again.
    """

    # Full jitter, so the backlog of a receiver that comes back is spread out, not a stampede.
    wait: wait_base = field(default_factory=lambda: wait_random_exponential(multiplier=1, max=600))

    def after(self, delivery: Delivery, attempt: Attempt, at: datetime) -> Settlement:
        if attempt.succeeded:
            return Settlement("delivered")
        if not attempt.retryable or at >= delivery.expires_at:
            return Settlement("dead")
        wait_s = self.wait(_after_attempt(delivery.attempts - delivery.retry_base + 1))
        return Settlement("pending", min(at + timedelta(seconds=wait_s), delivery.expires_at))


def _after_attempt(number: int) -> RetryCallState:
    """The state tenacity's wait strategies read: they depend only on the attempt number."""
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = number
    return state
