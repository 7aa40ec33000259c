"""The clock the purge tests run their purges on: years after the records were made."""

from datetime import datetime, timedelta

from laboursight_schemas.envelope import now


def years_from_now(years: int, *, days: int = 0) -> datetime:
    """``years`` calendar years from now, ``days`` more (or fewer); a 29 February is the 28th."""
    at = now()
    day = 28 if (at.month, at.day) == (2, 29) else at.day
    return at.replace(year=at.year + years, day=day) + timedelta(days=days)
