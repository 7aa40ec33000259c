"""Rate limits per API key and per tenant: so that one key, or one tenant's keys together,
cannot take the api from everyone else.

Each limit is a generic cell rate algorithm (GCRA, the token bucket kept as one time per
caller): ``rate`` requests a second on average, up to ``burst`` at once after a quiet spell.
A refused request is a 429 naming when to come back (``Retry-After``) and uses up nothing.
The limits are kept in each api process's memory (no write per request), so N processes or
replicas admit up to N times the rate; size them per process. Pure: no I/O, the clock is given.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .keys import Principal

Clock = Callable[[], float]
# Callers tracked before the ones whose bucket is full again are forgotten.
PRUNE_AT = 10_000
# Sums of float intervals drift by far less; what is within it is on time.
EPSILON_S = 1e-9


@dataclass
class Limit:
    """``rate`` 0 turns the limit off."""

    rate: float
    burst: int
    clock: Clock = time.monotonic
    _due: dict[str, float] = field(default_factory=dict)

    def wait(self, caller: str) -> float:
        """0 when ``caller`` may go now (and the request is counted), else the seconds until it
        may."""
        if self.rate <= 0:
            return 0.0
        now, interval = self.clock(), 1.0 / self.rate
        # ``due``: when the caller's bucket is full again; it may run up to burst - 1 intervals
        # ahead of the clock.
        due = max(self._due.get(caller, now), now)
        ahead = due - now - (self.burst - 1) * interval
        if ahead > EPSILON_S:
            return ahead
        if len(self._due) >= PRUNE_AT:
            self._due = {c: d for c, d in self._due.items() if d > now}
        self._due[caller] = due + interval
        return 0.0


@dataclass
class RateLimits:
    per_key: Limit
    per_tenant: Limit

    def retry_after(self, caller: Principal) -> int | None:
        """None when ``caller`` may go on; otherwise the whole seconds to wait. The tenant's
        limit is asked only once the key's admits the request."""
        wait = self.per_key.wait(caller.key_id) or self.per_tenant.wait(caller.tenant_id)
        return math.ceil(wait) if wait > 0 else None
