"""Validated ISO codes and bounded numbers shared by the disclosure and event models."""

from typing import Annotated

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
Count = Annotated[int, Field(ge=0)]
Percentage = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
WeeklyHours = Annotated[float, Field(ge=0, le=168, allow_inf_nan=False)]
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
