"""Retention: how long a tenant's records are kept, and the legal holds that keep them longer.

The api alone writes both collections; every service that purges (api, risk, notify) reads them.

- ``retention_policies``: ``_id`` = tenant id, ``tenant_id``, ``years``, ``updated_at``,
  ``updated_by`` (an API key id). A tenant without one keeps ``DEFAULT_RETENTION_YEARS``.
- ``legal_holds``: ``_id`` = hold id, ``tenant_id``, ``entity_kind`` and ``entity_id`` (both
  null: the hold covers the whole tenant), ``reason``, ``placed_at``, ``placed_by``, and
  ``released_at``, ``released_by`` (null while the hold is in force). A released hold stays, with
  its history; it holds nothing any more.

Plain data and decisions, no I/O: the cutoff a purge uses, and whether a hold keeps a record.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

DEFAULT_RETENTION_YEARS: Final = 7
"""What a tenant that set nothing keeps: the legal minimum."""

MIN_RETENTION_YEARS: Final = 7
"""The floor: a tenant may keep its records longer, never shorter.

Germany's Supply Chain Due Diligence Act (LkSG) §10(1): the fulfilment of the due diligence
obligations is to be documented on an ongoing basis within the enterprise, and the documentation
kept for at least seven years from its creation. What this system holds (disclosures, findings,
cases, deliveries) is that documentation for its tenants.
"""

MAX_RETENTION_YEARS: Final = 100
"""Far beyond any legal need; it keeps the cutoff a date the calendar has."""


@dataclass(frozen=True)
class LegalHold:
    """A hold in force: on one entity (``entity_kind``, ``entity_id``), or with both None on the
    whole tenant."""

    hold_id: str
    entity_kind: str | None
    entity_id: str | None

    @property
    def tenant_wide(self) -> bool:
        return self.entity_kind is None and self.entity_id is None


def is_held(holds: Iterable[LegalHold], entity_kind: str | None, entity_id: str | None) -> bool:
    """Whether ``holds`` keep a record of that entity: a tenant-wide hold keeps every record, a
    hold on an entity keeps that entity's. A record of no entity (None, None) is kept by a
    tenant-wide hold only."""
    return any(
        hold.tenant_wide or (hold.entity_kind == entity_kind and hold.entity_id == entity_id)
        for hold in holds
    )


def purgeable_before(now: datetime, years: int) -> datetime:
    """The cutoff: a record whose time is before it is ``years`` calendar years old at ``now``.

    In UTC; the same day and time ``years`` years earlier, and from a 29 February the 28th (the
    earlier day, so that nothing is purged before it is ``years`` years old). ``now`` must be
    timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not MIN_RETENTION_YEARS <= years <= MAX_RETENTION_YEARS:
        raise ValueError(
            f"retention must be {MIN_RETENTION_YEARS} to {MAX_RETENTION_YEARS} years, not {years}"
        )
    utc = now.astimezone(UTC)
    day = 28 if (utc.month, utc.day) == (2, 29) else utc.day
    return utc.replace(year=utc.year - years, day=day)


def years_of(policy: Mapping[str, Any] | None) -> int:
    """The years a tenant's ``retention_policies`` document keeps; the default without one."""
    if policy is None:
        return DEFAULT_RETENTION_YEARS
    years: int = policy["years"]
    return years


def hold_of(document: Mapping[str, Any]) -> LegalHold:
    """The hold a ``legal_holds`` document in force stands for."""
    return LegalHold(
        hold_id=document["_id"],
        entity_kind=document.get("entity_kind"),
        entity_id=document.get("entity_id"),
    )
