"""Retrying in place: the same call again, with backoff, while its failure is transient."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from laboursight_runtime.failures import is_transient

T = TypeVar("T")


class Retry:
    """Calls again while the failure is transient, waiting 0.2 s, 0.4 s, … up to 5 s between
    attempts, for at most ``budget_s``; then, or at once for any other failure, raises it.

    ``on_transient`` hears of every transient failure (for metrics and readiness).
    """

    def __init__(
        self,
        budget_s: float,
        on_transient: Callable[[BaseException], None] = lambda error: None,
    ) -> None:
        self.budget_s = budget_s
        self._on_transient = on_transient

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(is_transient),
                wait=wait_exponential(multiplier=0.2, max=5.0),
                stop=stop_after_delay(self.budget_s),
                before_sleep=self._heard,
                reraise=True,
            ):
                with attempt:
                    return await call()
        except Exception as error:
            if is_transient(error):
                self._on_transient(error)
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _heard(self, state: RetryCallState) -> None:
        if state.outcome is not None and (error := state.outcome.exception()) is not None:
            self._on_transient(error)
