"""The risk map, the ranked list of suppliers and recruiters, and an entity's page.

The list is ``GET /v1/entities``'s (its scan, index and cursors), a page at a time; the trend
of the page's entities is one aggregation over their screenings. The entity page reads what
``GET /v1/entities/{id}/risk`` reads (``entities``), its alerts as the inbox explains them, and
its cases.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api import entity_queries, keyset
from laboursight_api.alert_queries import Explained
from laboursight_api.case_store import STATE_ONLY, case_of
from laboursight_api.case_views import summary
from laboursight_api.cursors import Position
from laboursight_api.entities import KINDS, latest_screening, screenings_of
from laboursight_api.entity_queries import EntityQuery
from laboursight_api.evidence_routes import pack_response
from laboursight_schemas import collections
from laboursight_schemas.collections import entity_key
from laboursight_schemas.envelope import now
from laboursight_schemas.findings import RISK_LEVELS

from . import charts, entity_views
from .access import Ctx, PageRoute, Refusal, Viewer, not_found, page, render
from .geography import country_risks, outlines
from .paging import PAGE_SIZE, next_link, start
from .session import PATH

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Db = AsyncDatabase[dict[str, Any]]
Reader = Annotated[Viewer, Depends(page("read entities"))]
# The entity page shows findings and alerts beside the profile.
EntityReader = Annotated[Viewer, Depends(page("read entities", "read findings", "read alerts"))]
Exporter = Annotated[Viewer, Depends(page("export evidence"))]
ALERTS_SHOWN: Final = 20
CASES_SHOWN: Final = 10


@dataclass(frozen=True)
class Row:
    entity_kind: str
    entity_id: str
    name: str | None
    country: str | None
    risk_level: str | None
    score: int | None
    confidence: float | None
    trend: str
    """``rising``, ``falling``, ``steady`` or ``new`` (one screening or none)."""
    inherited_from: list[str]


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in allowed:
        raise Refusal(422, "Unknown filter", f"{name} must be one of {', '.join(allowed)}.")
    return value


async def trends(db: Db, tenant_id: str, documents: list[dict[str, Any]]) -> dict[str, str]:
    """Entity key → how its own score moved between its last two screenings."""
    if not documents:
        return {}
    found = db[collections.FINDINGS].aggregate(
        [
            {
                "$match": {
                    "tenant_id": tenant_id,
                    "entity_id": {"$in": sorted({d["entity_id"] for d in documents})},
                }
            },
            {"$sort": {"period.end": -1, "computed_at": -1}},
            {
                "$group": {
                    "_id": {"kind": "$entity_kind", "id": "$entity_id"},
                    "scores": {"$firstN": {"input": "$judgement.score", "n": 2}},
                }
            },
        ]
    )
    moved = {}
    async for row in await found:
        scores = row["scores"]
        key = entity_key(tenant_id, row["_id"]["kind"], row["_id"]["id"])
        if len(scores) < 2:
            moved[key] = "new"
        else:
            moved[key] = (
                "rising"
                if scores[0] > scores[1]
                else "falling"
                if scores[0] < scores[1]
                else "steady"
            )
    return moved


async def ranked(
    request: Request, db: Db, tenant_id: str
) -> tuple[list[Row], str | None, dict[str, str | None]]:
    """A page of the ranked list, the link to the next, and the filters it was asked with."""
    kind = _choice(request, "kind", KINDS)
    level = _choice(request, "risk_level", RISK_LEVELS)
    country = request.query_params.get("country") or None
    if country is not None and not (len(country) == 2 and country.isalpha() and country.isupper()):
        raise Refusal(422, "Unknown filter", "country must be an ISO 3166-1 alpha-2 code.")
    name = (request.query_params.get("q") or "").strip()[:200] or None
    asked = EntityQuery(None, name, kind, level, country)  # type: ignore[arg-type]
    query = vars(asked)
    scan = entity_queries.scan_of(
        db[collections.ENTITIES], asked.where(tenant_id), level is not None
    )

    async def rows(
        documents: list[dict[str, Any]], _: Position | None
    ) -> list[tuple[Position, dict[str, Any]]]:
        return [(entity_queries.position_of(d), d) for d in documents]

    found = await keyset.collect(
        scan,
        rows,
        entity_queries.position_of,
        start=start(request.query_params.get("cursor"), query, "score"),
        limit=PAGE_SIZE,
    )
    moved = await trends(db, tenant_id, found.items)
    items = [
        Row(
            entity_kind=d["entity_kind"],
            entity_id=d["entity_id"],
            name=d.get("name"),
            country=d.get("country"),
            risk_level=d.get("risk_level"),
            score=d.get("score"),
            confidence=None if d.get("own") is None else d["own"].get("confidence"),
            trend=moved.get(d["_id"], "new"),
            inherited_from=[p["recruiter_id"] for p in d.get("inherited", [])],
        )
        for d in found.items
    ]
    filters = {"kind": kind, "risk_level": level, "country": country, "q": name}
    return items, next_link(request.url.path, found.next, query, filters), filters


@router.get(f"{PATH}/map", response_class=HTMLResponse)
async def risk_map(request: Request, viewer: Reader, ctx: Ctx) -> HTMLResponse:
    risks = await country_risks(ctx.db, viewer.tenant_id)
    rows, more, filters = await ranked(request, ctx.db, viewer.tenant_id)
    return render(
        request,
        "map.html",
        viewer=viewer,
        outlines=outlines(),
        risks={r.country: r for r in risks},
        countries=risks,
        rows=rows,
        more=more,
        filters=filters,
    )


@router.get(f"{PATH}/entities", response_class=HTMLResponse)
async def entity_list(request: Request, viewer: Reader, ctx: Ctx) -> HTMLResponse:
    rows, more, filters = await ranked(request, ctx.db, viewer.tenant_id)
    return render(request, "entities.html", viewer=viewer, rows=rows, more=more, filters=filters)


async def _neighbours(
    db: Db, tenant_id: str, profile: dict[str, Any]
) -> tuple[list[charts.Neighbour], list[charts.Neighbour]]:
    """The recruiters that staff the entity and the suppliers it staffs, with their levels:
    one per counterpart, however many disclosures name the link (both sides may)."""
    own_id, kind = profile["entity_id"], profile["entity_kind"]
    end_kind = "recruiter" if kind == "supplier" else "supplier"
    said: dict[str, list[str]] = {}
    for link in profile.get("links", []):
        end_id = link["recruiter_id"] if kind == "supplier" else link["supplier_id"]
        if end_id != own_id:
            said.setdefault(end_id, []).append(entity_views.says(link))
    levels = {
        d["entity_id"]: d.get("risk_level")
        async for d in db[collections.ENTITIES].find(
            {
                "tenant_id": tenant_id,
                "_id": {"$in": [entity_key(tenant_id, end_kind, e) for e in said]},
            },
            {"entity_id": 1, "risk_level": 1},
        )
    }
    found = [
        charts.Neighbour(end_kind, end_id, levels.get(end_id), "; ".join(parts))
        for end_id, parts in said.items()
    ]
    return (found, []) if kind == "supplier" else ([], found)


async def _profile(db: Db, tenant_id: str, kind: str, entity_id: str) -> dict[str, Any]:
    """The entity's risk profile in the viewer's tenant; a not-found page when it has none."""
    if kind not in KINDS:
        raise not_found("such kind of entity")
    profile = await db[collections.ENTITIES].find_one(
        {"_id": entity_key(tenant_id, kind, entity_id), "tenant_id": tenant_id}
    )
    if profile is None:
        raise not_found(f"{kind} {entity_id!r}")
    return profile


@router.get(f"{PATH}/entities/{{kind}}/{{entity_id}}", response_class=HTMLResponse)
async def entity_page(
    request: Request, kind: str, entity_id: str, viewer: EntityReader, ctx: Ctx
) -> HTMLResponse:
    tenant = viewer.tenant_id
    profile = await _profile(ctx.db, tenant, kind, entity_id)
    latest = await latest_screening(ctx, tenant, profile)
    context = [] if latest is None else latest.get("context") or []
    screenings = await screenings_of(ctx, tenant, profile)
    left, right = await _neighbours(ctx.db, tenant, profile)
    alerts = (
        await ctx.db[collections.ALERTS]
        .find({"tenant_id": tenant, "alert.entity_id": entity_id, "alert.entity_kind": kind})
        .sort([("raised_at", -1), ("_id", -1)])
        .limit(ALERTS_SHOWN)
        .to_list()
    )
    at = now()
    cases = (
        ctx.db[collections.CASES]
        .find(
            {"tenant_id": tenant, "type": "case", "entity_id": entity_id, "entity_kind": kind},
            STATE_ONLY,
        )
        .sort([("opened_at", -1), ("_id", -1)])
        .limit(CASES_SHOWN)
    )
    return render(
        request,
        "entity.html",
        viewer=viewer,
        profile=profile,
        latest=latest,
        screenings=screenings,
        history=charts.history(
            [(s.period_end, s.risk_level, s.score) for s in reversed(screenings)]
        ),
        graph=charts.chain(kind, entity_id, profile.get("risk_level"), left, right),
        links=left + right,
        alerts=await Explained(ctx, tenant).items(alerts),
        cases=[summary(case_of(d), at) async for d in cases],
        grounds=entity_views.grounds([] if latest is None else latest.get("findings") or []),
        matches=[c["watchlist"] for c in context if c.get("watchlist")],
        inherent=entity_views.inherent(context),
        evidence_url=f"{PATH}/entities/{kind}/{entity_id}/evidence",
    )


@router.get(f"{PATH}/entities/{{kind}}/{{entity_id}}/evidence")
async def evidence_pack(kind: str, entity_id: str, viewer: Exporter, ctx: Ctx) -> Response:
    """The evidence pack that ``GET /v1/entities/{id}/evidence`` gives, on the session's key:
    a browser cannot send the api's bearer key with a link."""
    profile = await _profile(ctx.db, viewer.tenant_id, kind, entity_id)
    return await pack_response(ctx.db, viewer.tenant_id, entity_id, profile["entity_kind"], "zip")
