"""The overview: alerts by severity and status, overdue cases, disclosures screened per day, and
the entities whose level rose this week.

Every figure is counted in MongoDB along an index the JSON lists already use (risk's and the
cases' ``list_*`` indexes), and every list is bounded, so the page costs the same with 10,000
entities as with ten.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.case_queries import CaseQuery
from laboursight_api.case_store import STATE_ONLY, case_of
from laboursight_api.case_views import CaseSummary, summary
from laboursight_schemas import collections
from laboursight_schemas.envelope import now
from laboursight_schemas.findings import RISK_LEVELS

from .access import Ctx, PageRoute, Viewer, page, render
from .session import PATH

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Db = AsyncDatabase[dict[str, Any]]
STATUSES: Final = ("open", "triaged", "dismissed", "resolved")
DAYS: Final = 14
OVERDUE_SHOWN: Final = 10
RISEN_SHOWN: Final = 20
# The screenings of the week read to find risers: newest first, at most this many.
WEEK_SCAN: Final = 2000
NOT_SCORED: Final = "not scored"


@dataclass(frozen=True)
class Riser:
    entity_kind: str
    entity_id: str
    name: str | None
    before: str
    now: str


async def alert_counts(db: Db, tenant_id: str) -> dict[str, dict[str, int]]:
    """Level → status → alerts."""
    found = db[collections.ALERTS].aggregate(
        [
            {"$match": {"tenant_id": tenant_id}},
            {
                "$group": {
                    "_id": {
                        "level": "$alert.risk_level",
                        "status": {"$ifNull": ["$status", "open"]},
                    },
                    "n": {"$sum": 1},
                }
            },
        ]
    )
    counts: dict[str, dict[str, int]] = {
        level: dict.fromkeys(STATUSES, 0) for level in reversed(RISK_LEVELS)
    }
    async for row in await found:
        level, status = row["_id"]["level"], row["_id"]["status"]
        if level in counts and status in counts[level]:
            counts[level][status] = row["n"]
    return counts


async def overdue_cases(db: Db, tenant_id: str, at: datetime) -> tuple[int, list[CaseSummary]]:
    """How many cases are overdue, and the longest overdue of them."""
    where = CaseQuery(overdue=True).where(tenant_id, at)
    cases = db[collections.CASES]
    total = await cases.count_documents(where)
    found = cases.find(where, STATE_ONLY).sort([("due_at", 1), ("_id", 1)]).limit(OVERDUE_SHOWN)
    return total, [summary(case_of(d), at) async for d in found]


async def screened_per_day(db: Db, tenant_id: str, today: date) -> list[tuple[date, int]]:
    """Screenings recorded on each of the last ``DAYS`` days, today last."""
    first = today - timedelta(days=DAYS - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=now().tzinfo)
    found = db[collections.FINDINGS].aggregate(
        [
            {"$match": {"tenant_id": tenant_id, "computed_at": {"$gte": since}}},
            {
                "$group": {
                    "_id": {"$dateTrunc": {"date": "$computed_at", "unit": "day"}},
                    "n": {"$sum": 1},
                }
            },
        ]
    )
    counts = {row["_id"].date(): row["n"] async for row in await found}
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(DAYS)
    ]


async def risen_this_week(db: Db, tenant_id: str, at: datetime) -> list[Riser]:
    """Entities whose latest screening of the last 7 days judged them higher than their last
    one before the week; an entity first screened this week rose from ``not scored`` when it
    came in at medium or above (a new low one is no news)."""
    week_ago = at - timedelta(days=7)
    findings = db[collections.FINDINGS]
    recent = (
        await findings.find(
            {"tenant_id": tenant_id, "computed_at": {"$gte": week_ago}},
            {"entity_kind": 1, "entity_id": 1, "judgement.risk_level": 1, "_id": 0},
        )
        .sort([("computed_at", -1), ("_id", -1)])
        .limit(WEEK_SCAN)
        .to_list()
    )
    latest: dict[tuple[str, str], str] = {}
    for doc in recent:
        latest.setdefault((doc["entity_kind"], doc["entity_id"]), doc["judgement"]["risk_level"])
    if not latest:
        return []
    before = findings.aggregate(
        [
            {
                "$match": {
                    "tenant_id": tenant_id,
                    "entity_id": {"$in": sorted({e for _, e in latest})},
                    "computed_at": {"$lt": week_ago},
                }
            },
            {"$sort": {"computed_at": -1}},
            {
                "$group": {
                    "_id": {"kind": "$entity_kind", "id": "$entity_id"},
                    "level": {"$first": "$judgement.risk_level"},
                }
            },
        ]
    )
    baseline = dict.fromkeys(latest, NOT_SCORED)
    async for row in await before:
        baseline[(row["_id"]["kind"], row["_id"]["id"])] = row["level"]
    rose = sorted(
        (
            k
            for k, level in latest.items()
            if _rank(level) > _rank(baseline[k])
            and (baseline[k] != NOT_SCORED or _rank(level) >= _rank("medium"))
        ),
        key=lambda k: (-_rank(latest[k]), k),
    )[:RISEN_SHOWN]
    names = {
        (d["entity_kind"], d["entity_id"]): d.get("name")
        async for d in db[collections.ENTITIES].find(
            {"tenant_id": tenant_id, "entity_id": {"$in": [e for _, e in rose]}},
            {"entity_kind": 1, "entity_id": 1, "name": 1},
        )
    }
    return [Riser(k, e, names.get((k, e)), baseline[(k, e)], latest[(k, e)]) for k, e in rose]


def _rank(level: str) -> int:
    return RISK_LEVELS.index(level) if level in RISK_LEVELS else -1


@router.get(PATH, response_class=HTMLResponse)
async def overview(
    request: Request,
    viewer: Annotated[
        Viewer, Depends(page("read alerts", "read cases", "read findings", "read entities"))
    ],
    ctx: Ctx,
) -> HTMLResponse:
    at = now()
    tenant = viewer.tenant_id
    overdue_total, overdue = await overdue_cases(ctx.db, tenant, at)
    days = await screened_per_day(ctx.db, tenant, at.date())
    return render(
        request,
        "overview.html",
        viewer=viewer,
        alerts=await alert_counts(ctx.db, tenant),
        statuses=STATUSES,
        overdue_total=overdue_total,
        overdue=overdue,
        days=days,
        most_per_day=max([n for _, n in days] + [1]),
        risers=await risen_this_week(ctx.db, tenant, at),
    )
