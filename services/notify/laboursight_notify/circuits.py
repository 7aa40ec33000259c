"""Per-endpoint circuit breakers and in-flight limits: one failing receiver cannot hold the rest.

Plain Python, no I/O and no clock: every call is told the time. The state lives in one process's
memory; each replica judges endpoints by its own attempts.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Endpoint


@dataclass(frozen=True)
class Ticket:
    """Leave to make one attempt; ``trial`` when it is the probe of a half-open circuit."""

    endpoint: Endpoint
    trial: bool = False


@dataclass
class _Circuit:
    failures: int = 0  # consecutive failed attempts
    open_until: datetime | None = None
    in_flight: int = 0
    trial: bool = False

    @property
    def idle(self) -> bool:
        return self.failures == 0 and self.open_until is None and self.in_flight == 0


class Circuits:
    """One breaker per endpoint.

    - **Closed**: up to ``max_in_flight`` attempts at once.
    - **Open**: ``failures_to_open`` consecutive failed attempts open it for ``cooldown``; no
      attempt is admitted meanwhile.
    - **Half-open**: once the cool-down is over, one trial attempt is admitted; while it is in
      flight nothing else is. A failure (of the trial, or of any attempt ending after the
      cool-down) opens the circuit for another cool-down.
    - Any healthy attempt closes it: the receiver answered.

    A *healthy* attempt is one the receiver answered with anything but a retryable failure: a
    final 4xx is the subscriber's problem, not a sign the receiver is down.
    """

    def __init__(
        self,
        *,
        failures_to_open: int = 5,
        cooldown: timedelta = timedelta(seconds=30),
        max_in_flight: int = 16,
    ) -> None:
        self._failures_to_open = failures_to_open
        self._cooldown = cooldown
        self.max_in_flight = max_in_flight
        self._circuits: dict[Endpoint, _Circuit] = {}

    def blocked(self, now: datetime) -> list[Endpoint]:
        """The endpoints no attempt would be admitted to now, so their work is not claimed."""
        return [
            endpoint
            for endpoint, circuit in self._circuits.items()
            if not self._admits(circuit, now)
        ]

    def open_count(self) -> int:
        """Endpoints whose circuit is open or half-open."""
        return sum(circuit.open_until is not None for circuit in self._circuits.values())

    def open_until(self, endpoint: Endpoint) -> datetime | None:
        circuit = self._circuits.get(endpoint)
        return circuit.open_until if circuit is not None else None

    def admit(self, endpoint: Endpoint, now: datetime) -> Ticket | None:
        circuit = self._circuits.setdefault(endpoint, _Circuit())
        if not self._admits(circuit, now):
            return None
        circuit.in_flight += 1
        trial = circuit.open_until is not None
        circuit.trial = circuit.trial or trial
        return Ticket(endpoint, trial)

    def release(self, ticket: Ticket) -> None:
        """An admitted attempt that was never made: it tells nothing about the receiver."""
        circuit = self._circuits[ticket.endpoint]
        self._end(ticket, circuit)

    def record(self, ticket: Ticket, *, healthy: bool, now: datetime) -> datetime | None:
        """The end of an admitted attempt; the time the circuit stays open until, if it opened."""
        circuit = self._circuits[ticket.endpoint]
        if healthy:
            circuit.failures = 0
            circuit.open_until = None
            self._end(ticket, circuit)
            return None
        circuit.failures += 1
        self._end(ticket, circuit)
        if circuit.open_until is None:
            if circuit.failures < self._failures_to_open:
                return None
        elif now < circuit.open_until:
            return None
        circuit.open_until = now + self._cooldown
        return circuit.open_until

    def _admits(self, circuit: _Circuit, now: datetime) -> bool:
        if circuit.open_until is None:
            return circuit.in_flight < self.max_in_flight
        return now >= circuit.open_until and not circuit.trial

    def _end(self, ticket: Ticket, circuit: _Circuit) -> None:
        circuit.in_flight -= 1
        if ticket.trial:
            circuit.trial = False
        if circuit.idle:
            del self._circuits[ticket.endpoint]
