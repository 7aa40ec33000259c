"""The dashboard's templates (jinja2, autoescaped) and the filters they use."""

from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pycountry
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .nav import SECTIONS

TEMPLATES: Final = Path(__file__).with_name("templates")
LEVELS: Final = ("low", "medium", "high", "critical")


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
    }
    env.filters.update(filters)
    env.globals["LEVELS"] = LEVELS
    env.globals["SECTIONS"] = SECTIONS
    return env
