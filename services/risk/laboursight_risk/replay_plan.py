"""What a risk replay folds, and in which order: plain Python, no I/O.

A replay folds two histories of the same tenant, each from nothing, with risk's own handlers:

- **replay**: the findings recorded before the period, then the period's findings as the
  screening replay computed them;
- **recorded**: the same findings before the period, then the period's findings as they were
  recorded (the ledger's ``findings.computed`` events of the period's disclosures).

The two differ only in the period's findings, so comparing their entities shows what the rule
set changes; the recorded history is also what the recorded alerts must follow from.

- *Before the period*: a recorded findings event whose disclosure is not replayed and was made
  before ``start`` (its disclosure's event time, from the ledger; the findings event's own time
  when the ledger lacks the disclosure). Findings of disclosures after the period are left out.
- *Order*: the ledger's. A recorded event sits at its own entry; a replayed one takes the place
  of the first recorded findings of its disclosure (where risk met it), or of its disclosure's
  entry when none was recorded, or comes last, in the order screened. So a replay under the
  rule set that was live folds the very sequence risk folded.
- *Case events* (``cases.v1``: triage, closing, dismissal) up to the last entry either history
  places are folded at their entries in both, so that alert statuses, which decide what a later
  change publishes, are those the analysts' work set.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class Placed:
    """A disclosure event of the ledger: its entry and its event time."""

    seq: int
    time: datetime


@dataclass(frozen=True)
class Recorded:
    """A ``findings.computed`` entry of the ledger; ``time`` is the findings event's."""

    seq: int
    disclosure_event_id: str
    time: datetime
    raw: bytes


@dataclass(frozen=True)
class CaseEntry:
    seq: int
    raw: bytes


@dataclass(frozen=True)
class Replayed:
    """A findings event of the screening replay, in the order it was screened."""

    ordinal: int
    disclosure_event_id: str
    raw: bytes


@dataclass(frozen=True)
class Step:
    """One event to fold; ``seq`` is the ledger entry it comes from or stands in for (None for
    a replayed event placed last)."""

    kind: Literal["findings", "case"]
    raw: bytes
    seq: int | None


@dataclass(frozen=True)
class Plan:
    replay: tuple[Step, ...]
    recorded: tuple[Step, ...]
    before: int
    """How many recorded findings events come before the period, in both histories."""
    cases: int
    """How many case events both histories fold."""


def plan(
    placed: Mapping[str, Placed],
    recorded: Sequence[Recorded],
    cases: Sequence[CaseEntry],
    replayed: Sequence[Replayed],
    start: datetime | None,
) -> Plan:
    """``placed`` by disclosure event id; ``recorded`` and ``cases`` in ledger order."""
    chosen = {r.disclosure_event_id for r in replayed}
    before = [
        r
        for r in recorded
        if r.disclosure_event_id not in chosen and start is not None and _made(r, placed) < start
    ]
    period = [r for r in recorded if r.disclosure_event_id in chosen]
    first: dict[str, int] = {}
    for r in period:
        first.setdefault(r.disclosure_event_id, r.seq)
    places = {
        r.ordinal: first.get(r.disclosure_event_id, _seq(placed.get(r.disclosure_event_id)))
        for r in replayed
    }
    reach = max(
        (
            *(r.seq for r in before),
            *(r.seq for r in period),
            *(p for p in places.values() if p is not None),
        ),
        default=None,
    )
    folded_cases = [c for c in cases if reach is not None and c.seq <= reach]
    common = [
        *((r.seq, 0, Step("findings", r.raw, r.seq)) for r in before),
        *((c.seq, 0, Step("case", c.raw, c.seq)) for c in folded_cases),
    ]
    replay = [*common, *_placed_last(replayed, places)]
    history = [*common, *((r.seq, 0, Step("findings", r.raw, r.seq)) for r in period)]
    return Plan(
        replay=_ordered(replay),
        recorded=_ordered(history),
        before=len(before),
        cases=len(folded_cases),
    )


def _made(r: Recorded, placed: Mapping[str, Placed]) -> datetime:
    disclosure = placed.get(r.disclosure_event_id)
    return r.time if disclosure is None else disclosure.time


def _seq(disclosure: Placed | None) -> int | None:
    return None if disclosure is None else disclosure.seq


def _placed_last(
    replayed: Sequence[Replayed], places: Mapping[int, int | None]
) -> Iterable[tuple[float, int, Step]]:
    for r in replayed:
        place = places[r.ordinal]
        key = float("inf") if place is None else place
        yield key, r.ordinal, Step("findings", r.raw, place)


def _ordered(steps: Iterable[tuple[float, int, Step]]) -> tuple[Step, ...]:
    return tuple(step for *_, step in sorted(steps, key=lambda s: (s[0], s[1])))
