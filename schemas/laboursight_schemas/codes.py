"""Validated ISO codes and bounded numbers shared by the disclosure and event models."""

from typing import Annotated, Final

import pycountry
from pydantic import AfterValidator, Field, StringConstraints

from .reference import CURRENT_EDITION, known_currencies


def _known_country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"'{code}' is not an ISO 3166-1 alpha-2 country code")
    return code


def _known_currency(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"'{code}' is not an ISO 4217 currency code")
    # A currency without a rate could never be compared with a wage: refuse it at the door.
    if code not in known_currencies():
        raise ValueError(
            f"'{code}' has no exchange rate in reference data edition {CURRENT_EDITION}"
        )
    return code


CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    AfterValidator(_known_country),
    Field(description="ISO 3166-1 alpha-2 country code, upper case", examples=["MY"]),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_known_currency),
    Field(description="ISO 4217 currency code, upper case", examples=["USD"]),
]
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")
]
Text = Annotated[str, StringConstraints(max_length=500)]
Percentage = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
WeeklyHours = Annotated[float, Field(ge=0, le=168, allow_inf_nan=False)]

# Every number has a realistic upper bound, far inside what each stage can store (MongoDB's
# signed 64-bit integers and doubles): what the api accepts, screening and risk can keep.
MAX_WORKERS: Final = 999_999_999
MAX_DAYS: Final = 3_660
MAX_WORKERS_PER_ROOM: Final = 10_000
MAX_SUBAGENTS: Final = 100_000
MAX_AMOUNT: Final = 1e12
MAX_SQ_M: Final = 10_000.0

WorkerCount = Annotated[
    int, Field(ge=0, le=MAX_WORKERS, description="A number of workers (below 10⁹)")
]
Days = Annotated[int, Field(ge=0, le=MAX_DAYS, description="A number of days (ten years at most)")]
RoomOccupancy = Annotated[int, Field(ge=0, le=MAX_WORKERS_PER_ROOM)]
SubagentCount = Annotated[int, Field(ge=0, le=MAX_SUBAGENTS)]
Amount = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_AMOUNT,
        allow_inf_nan=False,
        description="An amount of money in its currency's units (10¹² at most, in any currency)",
    ),
]
SquareMetres = Annotated[float, Field(ge=0, le=MAX_SQ_M, allow_inf_nan=False)]
