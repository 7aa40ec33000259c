"""Recruitment-chain propagation: what a supplier inherits from the recruiters that staff it.

Only a recruiter's own risk propagates, and a recruiter inherits nothing, so the chain is one
step deep and no cycle can feed on itself. A recruiter passes on its own level when it supplies
at least half of the supplier's workforce (as the supplier declares it, or the recruiter's
placements over the workforce the supplier discloses), one level less otherwise or when the
share is unknown; below ``medium`` it passes on nothing. The inherited score is the recruiter's own
score held inside the inherited level's band, so the score still reads as its level.
"""

from collections.abc import Iterable, Mapping
from dataclasses import replace
from math import floor

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import RISK_LEVELS, SCORE_BANDS, FindingsComputed, RiskLevel

from .profile import Inheritance, Link, Own, Profile, rank
from .reasons import carried

MAJORITY_SHARE = 0.5
LOWEST_PASSED_ON: RiskLevel = "medium"


def far_end(kind: EntityKind) -> EntityKind:
    return "recruiter" if kind == "supplier" else "supplier"


def end_id(link: Link, kind: EntityKind) -> str:
    """The id of the link's end of this kind."""
    return link.supplier_id if kind == "supplier" else link.recruiter_id


def declared_links(computed: FindingsComputed) -> tuple[Link, ...]:
    """The links a disclosure declares; each must name the declaring entity."""
    links = tuple(
        Link(
            recruiter_id=c.recruiter_id,
            supplier_id=c.supplier_id,
            declared_by=computed.entity_kind,
            field=c.field,
            disclosure_id=computed.disclosure_id,
            workers=c.workers,
            workforce_share=c.workforce_share,
        )
        for c in computed.chain
    )
    for link in links:
        if link.declarer_id != computed.entity_id:
            raise ValueError(
                f"chain link at {link.field} does not name {computed.entity_kind} "
                f"{computed.entity_id}"
            )
    return links


def replace_declared(
    profile: Profile, declared_by: EntityKind, declarer_id: str, new: Iterable[Link]
) -> Profile:
    """``profile`` with the declarer's links replaced by those of ``new`` that name it."""
    kept = [
        k
        for k in profile.links
        if not (k.declared_by == declared_by and k.declarer_id == declarer_id)
    ]
    named = [k for k in new if end_id(k, profile.entity_kind) == profile.entity_id]
    return replace(profile, links=tuple(sorted(kept + named, key=_link_order)))


def inheritance(supplier: Profile, recruiters: Mapping[str, Profile]) -> tuple[Inheritance, ...]:
    """What ``supplier`` inherits through its links: one part per recruiter, from its
    strongest link. A recruiter missing from ``recruiters`` or without its own disclosure
    passes on nothing."""
    best: dict[str, Inheritance] = {}
    for declared in supplier.links:
        link = replace(declared, workforce_share=workforce_share(declared, supplier))
        recruiter = recruiters.get(link.recruiter_id)
        part = None if recruiter is None or recruiter.own is None else inherit(link, recruiter.own)
        if part is not None and (
            part.recruiter_id not in best or _strength(part) > _strength(best[part.recruiter_id])
        ):
            best[part.recruiter_id] = part
    return tuple(sorted(best.values(), key=lambda p: (-rank(p.risk_level), p.recruiter_id)))


def workforce_share(link: Link, supplier: Profile) -> float | None:
    """The share of the supplier's workforce the link staffs: as declared, or the recruiter's
    placements over the workforce the supplier discloses when both are known."""
    if link.workforce_share is not None:
        return link.workforce_share
    if link.workers is None or not supplier.workforce:
        return None
    return min(1.0, link.workers / supplier.workforce)


def inherit(link: Link, recruiter: Own) -> Inheritance | None:
    """The part of ``recruiter``'s own risk that the supplier at the other end of ``link``
    carries, or None when the recruiter's risk is too low to pass on."""
    if rank(recruiter.risk_level) < rank(LOWEST_PASSED_ON):
        return None
    majority = link.workforce_share is not None and link.workforce_share >= MAJORITY_SHARE
    level = recruiter.risk_level if majority else RISK_LEVELS[rank(recruiter.risk_level) - 1]
    low, high = SCORE_BANDS[level]
    score = min(max(recruiter.score, low), high)
    indicators = recruiter.counted_indicators
    return Inheritance(
        recruiter_id=link.recruiter_id,
        risk_level=level,
        score=score,
        indicators=indicators,
        disclosure_id=recruiter.disclosure_id,
        link=link,
        reasons=carried(recruiter.reasons, link.recruiter_id),
        explanation=(
            f"Inherits {level} risk (score {score}) from recruiter {link.recruiter_id}, "
            f"{_staffing(link)}{'' if majority else _lowered(link, recruiter)}, because of "
            f"{link.recruiter_id}'s findings: {', '.join(indicators) or 'none recorded'} "
            f"(disclosure {recruiter.disclosure_id})."
        ),
    )


def _staffing(link: Link) -> str:
    share = (
        "share of the workforce unknown"
        if link.workforce_share is None
        # Rounded down, so a share just under the majority never reads as half.
        else f"{floor(link.workforce_share * 100)}% of the workforce"
    )
    if link.declared_by == "supplier":
        workers = "an undisclosed number" if link.workers is None else str(link.workers)
        return f"which supplies {workers} of its workers ({share}; {link.field})"
    workers = "an undisclosed number of" if link.workers is None else str(link.workers)
    return f"which by its own account places {workers} workers with it ({share}; {link.field})"


def _lowered(link: Link, recruiter: Own) -> str:
    reason = (
        "its share of the workforce is unknown"
        if link.workforce_share is None
        else "it supplies less than half of the workforce"
    )
    return f", one level below {link.recruiter_id}'s own {recruiter.risk_level} risk as {reason}"


def _strength(part: Inheritance) -> tuple[int, int, bool, bool]:
    # Between two links to one recruiter, the one passing on more wins; then the one that
    # states a share, then the supplier's own account of its workforce.
    return (
        rank(part.risk_level),
        part.score,
        part.link.workforce_share is not None,
        part.link.declared_by == "supplier",
    )


def _link_order(link: Link) -> tuple[str, str, str, str]:
    return (link.recruiter_id, link.supplier_id, link.declared_by, link.field)
