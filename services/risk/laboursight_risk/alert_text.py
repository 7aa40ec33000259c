"""What an alert says in words (its ``summary``): a headline for the revision, then the body
describing what the alert stands on. Worded to flag what the evidence raises for verification,
never as a verdict on the entity. No I/O."""

from collections.abc import Sequence

from laboursight_schemas.findings import AlertType, RiskLevel

from .alerts import Standing
from .profile import Profile
from .reasons import Reason


def entity(profile: Profile) -> str:
    known = ", ".join(p for p in (profile.name, profile.country) if p)
    return f"{profile.entity_kind.capitalize()} {profile.entity_id}" + (
        f" ({known})" if known else ""
    )


def body(alert_type: AlertType, now: Standing, disclosure_id: str) -> str:
    if alert_type == "risk_level":
        chain = (
            f" Its reasons are the findings of recruiter {', '.join(now.inherited_from)}, which "
            "staffs it (recruitment chain)."
            if now.inherited_from
            else ""
        )
        return f"{', '.join(now.indicators) or 'No indicator recorded'}. {now.explanation}{chain}"
    if alert_type == "strong_indicator":
        listed = "; ".join(
            f"{r.indicator} (rule {r.rule_id}: {', '.join(r.fields)})" for r in now.reasons
        )
        return f"Strong indicators in disclosure {disclosure_id}: {listed}."
    return now.explanation  # a watchlist review's describes each match, a contradiction's each side


def raised(alert_type: AlertType, who: str, now: Standing, before: RiskLevel | None) -> str:
    if alert_type == "risk_level":
        return (
            f"{who} is now at {now.risk_level} risk (score {now.score}, was "
            f"{before or 'unscored'})."
        )
    if alert_type == "strong_indicator":
        return f"{who} shows strong indicators of forced labour that call for verification."
    if alert_type == "watchlist_review":
        return f"{who}: possible match on {_lists(now)} — review."
    if alert_type == "source_contradiction":
        return f"{who}: {_disagree(now.reasons)}: review both disclosures."
    return (
        f"{who}'s latest disclosure meets the ILO/EC indicator threshold for forced labour — "
        "verification needed."
    )


def escalated(who: str, was: RiskLevel, now: Standing) -> str:
    return f"Escalated: {who} rose from {was} to {now.risk_level} risk (score {now.score})."


def evidence_added(alert_type: AlertType, who: str, fresh: Sequence[Reason]) -> str:
    if alert_type == "source_contradiction":
        return f"New evidence for {who}: {_disagree(fresh)}: review both disclosures."
    return f"New evidence for {who}: {', '.join(f'{r.indicator} ({r.rule_id})' for r in fresh)}."


def reopened(alert_type: AlertType, who: str, now: Standing, disclosure_id: str) -> str:
    if alert_type == "risk_level":
        again = f"{who} is again at {now.risk_level} risk (score {now.score})"
    elif alert_type == "strong_indicator":
        again = f"{who} again shows strong indicators of forced labour"
    elif alert_type == "watchlist_review":
        return (
            f"Reopened: {who} is again a possible match on {_lists(now)}, after disclosure "
            f"{disclosure_id} — review."
        )
    elif alert_type == "source_contradiction":
        return (
            f"Reopened: {who}: {_disagree(now.reasons)} again, after disclosure "
            f"{disclosure_id}: review both disclosures."
        )
    else:
        again = f"{who}'s disclosure again meets the ILO/EC indicator threshold for forced labour"
    return f"Reopened: {again}, after disclosure {disclosure_id} — verification needed."


def resolved(alert_type: AlertType, who: str, after: Profile, disclosure_id: str) -> str:
    if alert_type == "risk_level":
        level = (
            "now unscored"
            if after.risk_level is None
            else f"now {after.risk_level}, score {after.score}"
        )
        return (
            f"Resolved: {who} is no longer at high risk or above ({level}) after disclosure "
            f"{disclosure_id}."
        )
    if alert_type == "strong_indicator":
        return f"Resolved: disclosure {disclosure_id} of {who} shows no strong indicator."
    if alert_type == "watchlist_review":
        return f"Resolved: disclosure {disclosure_id} of {who} possibly matches no watchlist entry."
    if alert_type == "source_contradiction":
        return (
            f"Resolved: after disclosure {disclosure_id}, {who} and the far ends of its "
            "recruitment links no longer disagree about the workers placed or the fees they bore."
        )
    return (
        f"Resolved: disclosure {disclosure_id} of {who} no longer meets the ILO/EC indicator "
        "threshold for forced labour."
    )


def _lists(now: Standing) -> str:
    return ", ".join(now.lists) or "a watchlist"


# What the two sides disagree about, by the rule a contradiction's reasons carry.
_ABOUT = {
    "source.unlisted": "whether the recruiter staffs the supplier",
    "source.workers": "the number of workers placed",
    "source.workforce": "the workers placed against the supplier's workforce",
    "source.fees": "recruitment fees borne by workers",
}


def _disagree(reasons: Sequence[Reason]) -> str:
    """``recruiter X and supplier Y disagree about …`` for each pair, in order."""
    pairs: dict[tuple[str | None, str | None], list[str]] = {}
    for r in reasons:
        about = pairs.setdefault((r.recruiter_id, r.supplier_id), [])
        if _ABOUT[r.rule_id] not in about:
            about.append(_ABOUT[r.rule_id])
    return "; ".join(
        f"recruiter {recruiter} and supplier {supplier} disagree about {', '.join(about)}"
        for (recruiter, supplier), about in pairs.items()
    )


def case_closed(case_id: str, actor: str) -> str:
    return f"Resolved: case {case_id} was closed by {actor}."


def triaged(case_id: str, actor: str) -> str:
    return f"Triaged into case {case_id} by {actor}."


def dismissed(actor: str, reason: str) -> str:
    return f"Dismissed by {actor}: {reason}."


def summary(headline: str, body: str, *, resolved: bool = False) -> str:
    """A resolved alert's body says what it stood on, no longer what it stands on."""
    return f"{headline} It stood on: {body}" if resolved else f"{headline} {body}"
