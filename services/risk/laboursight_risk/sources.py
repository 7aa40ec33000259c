"""Contradictions between sources: a recruiter and a supplier disagreeing about the link
between them. Plain Python, no I/O.

Every link is kept at both of its ends (propagation.py), so the two accounts of a pair are in
either profile; whether each side has a disclosure of its own is in its ``own``. A pair
contradicts itself when:

- ``unlisted``: one side declares the link and the other has disclosed without listing it (a
  recruiter placing workers at a supplier that does not name it among its recruiters, or the
  reverse);
- ``workers``: both declare it and give different numbers of workers;
- ``workforce``: the recruiter places more workers there than the supplier's whole workforce;
- ``fees``: one side's latest disclosure shows workers bearing recruitment fees or costs and the
  other's, assessed for them, shows none (the recruiter's fee lines against the supplier's
  recruitment costs, either way round).

Nothing is resolved to either reading: both are kept, each with the disclosure and field that
says it, on the profiles of both ends, for the analyst. A side that has not disclosed, or a
number one side does not give, or fees one side could not be assessed for, is unknown, never
a contradiction.
"""

from collections.abc import Iterable, Mapping
from dataclasses import replace

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.entities import ContradictionKind, SourceContradiction

from .profile import Link, Profile

Key = tuple[EntityKind, str]
# A side's account: the disclosure and the field of it that says it; None when it says nothing.
Side = tuple[str, str] | None

# Where each side's disclosure states the fees its workers bore.
RECRUITER_FEES = "$.fee_lines"
SUPPLIER_FEES = "$.recruitment_costs"
# What each says, by whether its workers bore fees.
RECRUITER_SAYS = {
    True: "the workers it placed bore recruitment fees or related costs",
    False: "no worker it placed bore any recruitment fee or related cost",
}
SUPPLIER_SAYS = {
    True: "its workers bore recruitment fees or related costs",
    False: "none of its workers bore any recruitment fee or related cost",
}


def between(recruiter: Profile, supplier: Profile) -> tuple[SourceContradiction, ...]:
    """The contradictions of the pair, from the links both keep and their own disclosures."""
    rid, sid = recruiter.entity_id, supplier.entity_id
    links = {
        (k.declared_by, k.field): k
        for k in (*recruiter.links, *supplier.links)
        if (k.recruiter_id, k.supplier_id) == (rid, sid)
    }
    by_recruiter = sorted((k for k in links.values() if k.declared_by == "recruiter"), key=_f)
    by_supplier = sorted((k for k in links.values() if k.declared_by == "supplier"), key=_f)
    found: list[SourceContradiction] = []
    placed = by_recruiter[0] if by_recruiter else None
    named = by_supplier[0] if by_supplier else None
    if placed is not None and named is None and supplier.own is not None:
        found.append(
            _pair(
                "unlisted",
                placed,
                f"it places {_workers(placed)} with the supplier",
                None,
                f"nothing of this recruiter: its disclosure {supplier.own.disclosure_id} does "
                "not list it among the recruiters it uses",
            )
        )
    if named is not None and placed is None and recruiter.own is not None:
        found.append(
            _pair(
                "unlisted",
                None,
                f"nothing of this supplier: its disclosure {recruiter.own.disclosure_id} does "
                "not list it among its placements",
                named,
                f"the recruiter supplies {_workers(named)} of its workers",
            )
        )
    if (
        placed is not None
        and named is not None
        and placed.workers is not None
        and named.workers is not None
        and placed.workers != named.workers
    ):
        found.append(
            _pair(
                "workers",
                placed,
                f"it placed {placed.workers} workers",
                named,
                f"the recruiter supplies {named.workers} workers",
            )
        )
    if (
        placed is not None
        and placed.workers is not None
        and supplier.workforce is not None
        and placed.workers > supplier.workforce
    ):
        assert supplier.own is not None  # a workforce is only known from its own disclosure
        found.append(
            _pair(
                "workforce",
                placed,
                f"it placed {placed.workers} workers",
                None,
                f"its whole workforce is {supplier.workforce} workers (disclosure "
                f"{supplier.own.disclosure_id})",
            )
        )
    if (placed or named) is not None and recruiter.own is not None and supplier.own is not None:
        placed_paid, employed_paid = recruiter.own.workers_bore_fees, supplier.own.workers_bore_fees
        if placed_paid is not None and employed_paid is not None and placed_paid != employed_paid:
            found.append(
                _contradiction(
                    "fees",
                    rid,
                    sid,
                    RECRUITER_SAYS[placed_paid],
                    (recruiter.own.disclosure_id, RECRUITER_FEES),
                    SUPPLIER_SAYS[employed_paid],
                    (supplier.own.disclosure_id, SUPPLIER_FEES),
                )
            )
    return tuple(found)


def rejudged(profiles: Mapping[Key, Profile]) -> dict[Key, Profile]:
    """``profiles`` with the contradictions of every pair of them linked, or contradicting
    before, judged again; a pair with one end outside ``profiles`` keeps what it had.

    Settling an event loads both ends of every link it adds, keeps or drops (propagation.py),
    so every pair whose accounts it changes is judged here."""
    pairs = {
        pair
        for p in profiles.values()
        for pair in _pairs(p)
        if ("recruiter", pair[0]) in profiles and ("supplier", pair[1]) in profiles
    }
    judged = {
        pair: between(profiles[("recruiter", pair[0])], profiles[("supplier", pair[1])])
        for pair in pairs
    }
    out: dict[Key, Profile] = {}
    for key, p in profiles.items():
        end = 0 if p.entity_kind == "recruiter" else 1
        mine = [pair for pair in judged if pair[end] == p.entity_id]
        kept = [c for c in p.source_contradictions if (c.recruiter_id, c.supplier_id) not in mine]
        new = [c for pair in mine for c in judged[pair]]
        out[key] = replace(p, source_contradictions=tuple(sorted(kept + new, key=_order)))
    return out


def _pairs(p: Profile) -> Iterable[tuple[str, str]]:
    yield from ((k.recruiter_id, k.supplier_id) for k in p.links)
    yield from ((c.recruiter_id, c.supplier_id) for c in p.source_contradictions)


def _pair(
    kind: ContradictionKind,
    placed: Link | None,
    recruiter_says: str,
    named: Link | None,
    supplier_says: str,
) -> SourceContradiction:
    link = placed or named
    assert link is not None
    return _contradiction(
        kind,
        link.recruiter_id,
        link.supplier_id,
        recruiter_says,
        _side(placed),
        supplier_says,
        _side(named),
    )


def _contradiction(
    kind: ContradictionKind,
    recruiter_id: str,
    supplier_id: str,
    recruiter_says: str,
    recruiter: Side,
    supplier_says: str,
    supplier: Side,
) -> SourceContradiction:
    return SourceContradiction(
        kind=kind,
        recruiter_id=recruiter_id,
        supplier_id=supplier_id,
        recruiter_says=recruiter_says,
        recruiter_disclosure_id=None if recruiter is None else recruiter[0],
        recruiter_field=None if recruiter is None else recruiter[1],
        supplier_says=supplier_says,
        supplier_disclosure_id=None if supplier is None else supplier[0],
        supplier_field=None if supplier is None else supplier[1],
        explanation=(
            f"Recruiter {recruiter_id} and supplier {supplier_id} disagree: the recruiter says "
            f"{recruiter_says}{_where(recruiter)}; the supplier says {supplier_says}"
            f"{_where(supplier)}. Neither account is taken over the other: ask both for their "
            "records."
        ),
    )


def _side(link: Link | None) -> Side:
    return None if link is None else (link.disclosure_id, link.field)


def _where(side: Side) -> str:
    return "" if side is None else f" (disclosure {side[0]}, {side[1]})"


def _workers(link: Link) -> str:
    return "an undisclosed number of workers" if link.workers is None else f"{link.workers} workers"


def _f(link: Link) -> str:
    return link.field


def _order(c: SourceContradiction) -> tuple[str, str, str]:
    return (c.recruiter_id, c.supplier_id, c.kind)
