"""The poll pace: brisk while records flow, lazy after a quiet spell, applied to both waits."""

from dataclasses import dataclass, field

from laboursight_runtime.pipeline.pace import Pace, PaceLimits, Pacer

LIMITS = PaceLimits(brisk_ms=10, lazy_ms=250, idle_after_s=5.0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Fetcher:
    _fetch_max_wait_ms: int = 10


@dataclass
class Consumer:
    _fetcher: Fetcher = field(default_factory=Fetcher)


@dataclass
class Subscriber:
    batch_timeout_ms: int = 10
    consumer: Consumer | None = None


def test_brisk_until_idle_for_long_enough_then_lazy_until_records_come() -> None:
    clock = Clock()
    pace = Pace(LIMITS, clock)
    clock.now += 4.9
    assert pace.wait_ms() == 10
    clock.now += 0.1
    assert pace.wait_ms() == 250
    pace.seen()
    assert pace.wait_ms() == 10


def test_the_pacer_sets_the_poll_timeout_and_the_fetch_wait() -> None:
    clock = Clock()
    subscriber = Subscriber()
    pacer = Pacer(Pace(LIMITS, clock), subscriber)
    clock.now += 6
    assert pacer.apply() == 250
    assert subscriber.batch_timeout_ms == 250  # not started yet: no consumer to set
    subscriber.consumer = Consumer()
    pacer.apply()
    assert subscriber.consumer._fetcher._fetch_max_wait_ms == 250
    pacer.seen()
    assert (subscriber.batch_timeout_ms, subscriber.consumer._fetcher._fetch_max_wait_ms) == (
        10,
        10,
    )


def test_a_seam_that_is_gone_stops_the_pacing_and_says_why() -> None:
    @dataclass
    class Renamed:
        fetch_wait: int = 10

    @dataclass
    class Elsewhere:
        _fetcher: Renamed = field(default_factory=Renamed)

    subscriber = Subscriber(consumer=Elsewhere())  # type: ignore[arg-type]
    pacer = Pacer(Pace(LIMITS, Clock()), subscriber)
    assert pacer.apply() is None
    assert pacer.broken is not None
    assert "_fetch_max_wait_ms" in pacer.broken
    pacer.seen()  # records still arrive: no error reaches the pipeline
    assert pacer.apply() is None
