"""An exchange-rate table in units of each currency per US dollar, and conversion through it."""

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

_HEADER = ["currency", "units_per_usd", "source"]
_SOURCE = re.compile(r"base|peg|indicative|ecb:\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ExchangeRates:
    as_of: date
    units_per_usd: Mapping[str, float]

    def convert(self, amount: float, source: str, target: str) -> float | None:
        """``amount`` of ``source`` in ``target``; None when either has no rate, never a zero."""
        source_rate = self.units_per_usd.get(source)
        target_rate = self.units_per_usd.get(target)
        if source_rate is None or target_rate is None:
            return None
        if source == target:
            return amount
        return amount / source_rate * target_rate


def parse_rates(text: str, as_of: date) -> ExchangeRates:
    """The table of a ``currency,units_per_usd,source`` CSV; any malformed row is an error."""
    reader = csv.reader(io.StringIO(text))
    if next(reader, None) != _HEADER:
        raise ValueError(f"fx table: the header must be {','.join(_HEADER)}")
    rates: dict[str, float] = {}
    for line, fields in enumerate(reader, start=2):
        if len(fields) != len(_HEADER):
            raise ValueError(f"fx line {line}: expected {len(_HEADER)} fields, got {fields}")
        currency, rate_text, source = fields
        rate = float(rate_text)
        if not re.fullmatch(r"[A-Z]{3}", currency) or currency in rates:
            raise ValueError(f"fx line {line}: {currency!r} is malformed or repeated")
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"fx line {line}: {currency} rate {rate_text} is not positive")
        if not _SOURCE.fullmatch(source):
            raise ValueError(f"fx line {line}: {currency} has no known provenance ({source!r})")
        rates[currency] = rate
    if rates.get("USD") != 1:
        raise ValueError("fx table: USD must be present at exactly 1")
    return ExchangeRates(as_of, MappingProxyType(rates))
