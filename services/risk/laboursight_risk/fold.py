"""A batch of findings events folded over the domain, in offset order: plain Python, no I/O.

Each event is settled (propagation.py) on the profiles as the events before it in the batch left
them (an overlay over what ``load`` returns), so an entity touched twice in a batch sees the
first event's result, exactly as if the events had been handled one at a time. The outcome is
the final state of every profile the batch changed, to be written once each, and the alert
revisions those changes publish: the alert policy (alert_policy.py) goes over every change in
the same order, each alert as the changes before it left it, on the alerts of every entity
changed, loaded in one query once the profiles are settled.

A screening is recorded once: an event whose screening (disclosure, rule set, reference
edition) is already recorded, or came earlier in the batch, is skipped and changes nothing.

``load`` is asked in three rounds before the first event is settled, for everything settling
the batch reads (the entities, the ends their disclosures declare, the ends of their links and,
for a recruiter, the recruiters staffing the suppliers it reaches), so a batch costs three
queries rather than several per event. Anything a round missed is loaded when it is needed.
"""

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence, Set
from dataclasses import dataclass
from functools import partial

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import FindingsComputed

from .alert_policy import evaluate
from .alerts import ALERT_TYPES, Alert, alert_id
from .chain import end_id, far_end
from .profile import Profile
from .propagation import Change, settle

EntityRef = tuple[str, EntityKind, str]
"""tenant id, entity kind, entity id."""

ScreeningKey = tuple[str, str]
"""tenant id, screening id."""

AlertKey = tuple[str, str]
"""tenant id, alert id."""

LoadMany = Callable[[Collection[EntityRef]], Awaitable[dict[EntityRef, Profile]]]
LoadAlerts = Callable[[Collection[AlertKey]], Awaitable[dict[AlertKey, Alert]]]


def screening_id(computed: FindingsComputed) -> str:
    """One findings document per screening: a disclosure screened again under another rule set
    or reference edition (a replay) keeps both results side by side."""
    return ":".join(
        (computed.disclosure_id, computed.rule_set_version, computed.reference_data_edition)
    )


@dataclass(frozen=True)
class Screening:
    """One findings event of the batch."""

    tenant_id: str
    event_id: str
    correlation_id: str
    computed: FindingsComputed

    @property
    def key(self) -> ScreeningKey:
        return (self.tenant_id, screening_id(self.computed))

    @property
    def entity(self) -> EntityRef:
        return (self.tenant_id, self.computed.entity_kind, self.computed.entity_id)

    @property
    def declared_ends(self) -> set[EntityRef]:
        kind = far_end(self.computed.entity_kind)
        return {
            (self.tenant_id, kind, c.recruiter_id if kind == "recruiter" else c.supplier_id)
            for c in self.computed.chain
        }


@dataclass(frozen=True)
class Revised:
    """An alert with the revision a screening's change published."""

    alert: Alert
    cause: Screening


@dataclass(frozen=True)
class Folded:
    """What the batch writes: the screenings to record, in order; the final state of every
    profile it changed; every alert revision it publishes, in order (one alert may have more
    than one)."""

    recorded: tuple[Screening, ...]
    profiles: tuple[Profile, ...]
    alerts: tuple[Revised, ...]

    @property
    def alert_states(self) -> tuple[Alert, ...]:
        """The final state of every alert the batch revised."""
        final = {(r.alert.tenant_id, r.alert.alert_id): r.alert for r in self.alerts}
        return tuple(final.values())


async def fold(
    batch: Sequence[Screening],
    recorded: Set[ScreeningKey],
    load: LoadMany,
    load_alerts: LoadAlerts,
) -> Folded:
    fresh = _fresh(batch, recorded)
    known = _Known(load)
    await _prefetch(fresh, known)
    overlay: dict[EntityRef, Profile] = {}
    changes: list[tuple[Screening, Change]] = []
    for screening in fresh:
        outcome = await settle(
            partial(_load_overlaid, overlay, known, screening.tenant_id),
            tenant_id=screening.tenant_id,
            computed=screening.computed,
        )
        overlay.update({_ref(p): p for p in outcome.profiles})
        changes += [(screening, change) for change in outcome.changes]
    revised = await _alerted(changes, load_alerts)
    return Folded(tuple(fresh), tuple(overlay.values()), revised)


async def _alerted(
    changes: Sequence[tuple[Screening, Change]], load_alerts: LoadAlerts
) -> tuple[Revised, ...]:
    keyed = [(s, c, _alert_keys(c.after)) for s, c in changes]
    wanted = {key for _, _, keys in keyed for key in keys}
    alerts = dict(await load_alerts(wanted)) if wanted else {}
    revised = []
    for screening, change, keys in keyed:
        for alert_type, key in zip(ALERT_TYPES, keys, strict=True):
            new = evaluate(
                alerts.get(key), alert_type, change.before, change.after, screening.computed
            )
            if new is not None:
                alerts[key] = new
                revised.append(Revised(new, screening))
    return tuple(revised)


def _alert_keys(profile: Profile) -> list[AlertKey]:
    """The key of each of ``ALERT_TYPES``' alerts of ``profile``'s entity, in that order."""
    tenant, kind, entity = profile.tenant_id, profile.entity_kind, profile.entity_id
    return [(tenant, alert_id(tenant, kind, entity, t)) for t in ALERT_TYPES]


def _fresh(batch: Sequence[Screening], recorded: Set[ScreeningKey]) -> list[Screening]:
    seen = set(recorded)
    fresh = []
    for screening in batch:
        if screening.key not in seen:
            seen.add(screening.key)
            fresh.append(screening)
    return fresh


class _Known:
    """What ``load`` returned so far, and what it was asked for and did not have."""

    def __init__(self, load: LoadMany) -> None:
        self._load = load
        self._asked: set[EntityRef] = set()
        self.profiles: dict[EntityRef, Profile] = {}

    async def fetch(self, refs: Iterable[EntityRef]) -> None:
        wanted = set(refs) - self._asked
        if wanted:
            self._asked |= wanted
            self.profiles.update(await self._load(wanted))

    def ends(self, refs: Iterable[EntityRef]) -> set[EntityRef]:
        """The far ends of the links of the known profiles among ``refs``."""
        return {end for ref in refs if ref in self.profiles for end in _ends(self.profiles[ref])}


async def _prefetch(fresh: Sequence[Screening], known: _Known) -> None:
    await known.fetch({s.entity for s in fresh} | {e for s in fresh for e in s.declared_ends})
    recruiters = [s for s in fresh if s.computed.entity_kind == "recruiter"]
    await known.fetch(
        known.ends(s.entity for s in fresh)
        | known.ends(e for s in recruiters for e in s.declared_ends)
    )
    await known.fetch(known.ends(known.ends(s.entity for s in recruiters)))


async def _load_overlaid(
    overlay: dict[EntityRef, Profile],
    known: _Known,
    tenant_id: str,
    kind: EntityKind,
    ids: Collection[str],
) -> dict[str, Profile]:
    refs = [(tenant_id, kind, i) for i in ids]
    await known.fetch(r for r in refs if r not in overlay)
    found = {r: overlay.get(r) or known.profiles.get(r) for r in refs}
    return {ref[2]: p for ref, p in found.items() if p is not None}


def _ref(profile: Profile) -> EntityRef:
    return (profile.tenant_id, profile.entity_kind, profile.entity_id)


def _ends(profile: Profile) -> set[EntityRef]:
    kind = far_end(profile.entity_kind)
    return {(profile.tenant_id, kind, end_id(link, kind)) for link in profile.links}
