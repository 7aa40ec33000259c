"""The dashboard's templates (jinja2, autoescaped) and the filters they use."""

from datetime import datetime
from pathlib import Path
from typing import Any, Final, get_args

import pycountry
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from laboursight_schemas.findings import AlertType

from .nav import SECTIONS

TEMPLATES: Final = Path(__file__).with_name("templates")
LEVELS: Final = ("low", "medium", "high", "critical")
# What each alert asks of the analyst, as the inbox names it: two types are reviews, which never
# move a level, and the inbox keeps them apart from the risk they do not establish.
ALERT_TYPE_LABELS: Final[dict[str, str]] = {
    "risk_level": "Risk level",
    "strong_indicator": "Strong indicator",
    "forced_labour": "Forced-labour threshold",
    "watchlist_review": "Watchlist review",
    "source_contradiction": "Sources disagree",
}
ALERT_TYPES: Final[tuple[AlertType, ...]] = get_args(AlertType)


def when(value: datetime | str | None) -> str:
    """A time as an analyst reads it: UTC, to the minute."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def country_name(code: str | None) -> str:
    if not code:
        return "—"
    country = pycountry.countries.get(alpha_2=code)
    return code if country is None else f"{country.name} ({code})"


def words(slug: str | None) -> str:
    """``debt_bondage`` as ``debt bondage``."""
    return "—" if slug is None else slug.replace("_", " ")


def disclosed(value: Any) -> str:
    """A disclosed value as an analyst reads it: ``yes``/``no`` rather than Python's True."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not given"
    if isinstance(value, list):
        return ", ".join(disclosed(v) for v in value)
    return str(value)


def alert_type(value: str) -> str:
    """An alert's type as the inbox names it (a type newer than this page by its slug)."""
    return ALERT_TYPE_LABELS.get(value, words(value))


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Any] = {
        "when": when,
        "country_name": country_name,
        "words": words,
        "percent": percent,
        "disclosed": disclosed,
        "alert_type": alert_type,
    }
    env.filters.update(filters)
    env.globals["LEVELS"] = LEVELS
    env.globals["ALERT_TYPES"] = ALERT_TYPES
    env.globals["SECTIONS"] = SECTIONS
    return env
