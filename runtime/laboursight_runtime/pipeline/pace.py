"""How eagerly a subscription polls: briskly while records flow, lazily once it has been idle.

tansu answers a waiting fetch when its wait ends, not when a record arrives, so the fetch wait
is the latency a record spends on each hop (INFRA-NOTES: p50 3.6 ms at 20 ms, 213 ms at 500 ms);
and every empty poll costs the broker and the consumer CPU. A fixed short wait makes an idle
stack burn a third of a core, a fixed long one puts a quarter of a second on every hop. So a
subscription waits ``brisk_ms`` while records came within ``idle_after_s``, and ``lazy_ms``
after that: under load (even one record every few seconds) each hop costs the brisk wait; the
first record after a quiet spell costs at most about twice the lazy wait on each hop (one fetch
wait, plus FastStream's sleep of the batch timeout after an empty poll).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from laboursight_runtime.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaceLimits:
    brisk_ms: int
    lazy_ms: int
    idle_after_s: float

    @classmethod
    def of(cls, settings: Settings) -> "PaceLimits":
        return cls(
            brisk_ms=settings.kafka_fetch_max_wait_ms,
            lazy_ms=settings.kafka_idle_fetch_max_wait_ms,
            idle_after_s=settings.kafka_idle_after_s,
        )


class Pace:
    """The wait to poll with now, from when records were last seen. Pure: the clock is given."""

    def __init__(self, limits: PaceLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._last_seen = clock()

    def seen(self) -> None:
        self._last_seen = self._clock()

    def wait_ms(self) -> int:
        idle = self._clock() - self._last_seen >= self.limits.idle_after_s
        return self.limits.lazy_ms if idle else self.limits.brisk_ms


class Pacer:
    """Applies a :class:`Pace` to a FastStream batch subscriber and its aiokafka consumer.

    FastStream 0.7.8 reads the subscriber's ``batch_timeout_ms`` on every poll, and aiokafka
    0.14 its fetcher's ``_fetch_max_wait_ms`` for every fetch request it builds; neither offers
    a public setter, so these two attributes are the seam (pinned by ``uv.lock``; a test on the
    real broker fails if either stops taking effect).
    """

    def __init__(self, pace: Pace, subscriber: Any) -> None:
        self._pace = pace
        self._subscriber = subscriber
        self.broken: str | None = None

    @property
    def consumer(self) -> Any:
        """The subscriber's aiokafka consumer; ``None`` until it started."""
        return getattr(self._subscriber, "consumer", None)

    def seen(self) -> None:
        """Records arrived: poll briskly from the next fetch on."""
        self._pace.seen()
        self.apply()

    def apply(self) -> int | None:
        """Set the wait of the next polls and return it. If a seam is gone, pacing stops for
        good (the service goes on polling at the last wait) and says so once: ``broken``."""
        if self.broken is not None:
            return None
        wait = self._pace.wait_ms()
        try:
            _set(self._subscriber, "batch_timeout_ms", wait)
            consumer = self.consumer
            if consumer is not None:  # None until the subscriber started
                _set(consumer._fetcher, "_fetch_max_wait_ms", wait)
        except AttributeError as error:
            self.broken = repr(error)
            log.error("poll pacing stopped", extra={"error": self.broken})
            return None
        return wait


def _set(owner: Any, name: str, value: int) -> None:
    # Setting an attribute that was renamed would silently change nothing.
    if not hasattr(owner, name):
        raise AttributeError(f"{type(owner).__name__} has no {name} to pace")
    setattr(owner, name, value)
