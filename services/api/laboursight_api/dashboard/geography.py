"""The map's outlines (``geometry/countries.json``, shipped; see its README) and the risk of
each country, counted in MongoDB."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from pymongo.asynchronous.database import AsyncDatabase

from laboursight_schemas import collections
from laboursight_schemas.findings import RISK_LEVELS

GEOMETRY: Final = Path(__file__).with_name("geometry") / "countries.json"


@dataclass(frozen=True)
class Outlines:
    width: int
    height: int
    countries: dict[str, str]
    """Alpha-2 → SVG path."""


@cache
def outlines() -> Outlines:
    found = json.loads(GEOMETRY.read_text())
    return Outlines(found["width"], found["height"], found["countries"])


@dataclass(frozen=True)
class CountryRisk:
    country: str
    entities: int
    flagged: int
    """Entities at high or critical."""
    level: str | None
    """The highest effective level of its entities; None while none is scored."""


async def country_risks(db: AsyncDatabase[dict[str, Any]], tenant_id: str) -> list[CountryRisk]:
    """Every country the tenant's entities are in, the riskiest first."""
    rank = {"$indexOfArray": [list(RISK_LEVELS), "$risk_level"]}
    found = db[collections.ENTITIES].aggregate(
        [
            {"$match": {"tenant_id": tenant_id, "country": {"$type": "string"}}},
            {
                "$group": {
                    "_id": "$country",
                    "entities": {"$sum": 1},
                    "top": {"$max": rank},
                    "flagged": {"$sum": {"$cond": [{"$gte": [rank, 2]}, 1, 0]}},
                }
            },
            {"$sort": {"top": -1, "flagged": -1, "_id": 1}},
        ]
    )
    return [
        CountryRisk(
            row["_id"],
            row["entities"],
            row["flagged"],
            RISK_LEVELS[row["top"]] if row["top"] >= 0 else None,
        )
        async for row in await found
    ]
