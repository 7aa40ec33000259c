"""Whether a consumer can write right now, from the outcomes of the writes it really made.

A metadata ping answers while every produce fails (a broker whose storage is down) and a
database ping while every write times out, so readiness also asks: did the last attempt of each
kind of write (the handler's effects, dead letters, offset commits) fail, and recently?
"""

import time
from collections.abc import Callable


class WriteHealth:
    """The last failure of each kind of write, forgotten at the next success of that kind or
    ``stale_after_s`` later (a consumer with nothing to do makes no attempt that could clear it;
    a failing one keeps retrying, which keeps the failure fresh)."""

    def __init__(
        self, *, stale_after_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stale_after_s = stale_after_s
        self._clock = clock
        self._failures: dict[str, tuple[float, str]] = {}

    def succeeded(self, kind: str) -> None:
        self._failures.pop(kind, None)

    def failed(self, kind: str, error: BaseException) -> None:
        self._failures[kind] = (self._clock(), repr(error))

    def problems(self) -> dict[str, str]:
        """Each kind of write whose last attempt failed recently, with the error."""
        now = self._clock()
        return {
            kind: error
            for kind, (at, error) in self._failures.items()
            if now - at < self._stale_after_s
        }
