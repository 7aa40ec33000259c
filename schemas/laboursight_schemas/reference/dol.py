"""The US DOL list of goods produced with child or forced labour, and matching goods against it.

The list describes commodities in countries, never companies: a match is inherent risk of the
commodity, not evidence against a supplier.
"""

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .countries import country_code

_PARENTHETICAL = re.compile(r"\s*\([^)]*\)\s*$")


@dataclass(frozen=True)
class ListedGood:
    """One row of the list: a good in a country (ISO alpha-2) and what the list flags it with."""

    good: str
    sector: str
    country: str
    country_name: str
    forced_labour: bool
    forced_child_labour: bool
    child_labour: bool
    # Set on "derived" rows: goods made from an input that the list flags in this country.
    derived_input_country: str | None = None

    @property
    def flags_forced_labour(self) -> bool:
        return self.forced_labour or self.forced_child_labour


def parse_goods(text: str) -> Mapping[str, tuple[ListedGood, ...]]:
    """The rows of the DOL CSV grouped by ISO alpha-2 country, in file order."""
    by_country: dict[str, list[ListedGood]] = {}
    for raw in csv.DictReader(io.StringIO(text)):
        # The published file mixes forms ("Açaí Berries" is decomposed); keep every name in NFC.
        row = {k: unicodedata.normalize("NFC", (v or "").strip()) for k, v in raw.items()}
        derived = row["derived_labor_exploitation"] == "Yes"
        good = ListedGood(
            good=row["good"],
            sector=row["sector"],
            country=country_code(row["country"]),
            country_name=row["country"],
            forced_labour=_flag(row["forced_labor"]),
            forced_child_labour=_flag(row["forced_child_labor"]),
            child_labour=_flag(row["child_labor"]),
            derived_input_country=country_code(row["derived_input_country"]) if derived else None,
        )
        by_country.setdefault(good.country, []).append(good)
    return MappingProxyType({code: tuple(rows) for code, rows in by_country.items()})


ForcedLabourIndex = Mapping[str, Mapping[str, tuple[ListedGood, ...]]]


def forced_labour_index(listed: Mapping[str, Iterable[ListedGood]]) -> ForcedLabourIndex:
    """By country, then by every name key a row answers to: the forced-labour rows, in order."""
    index: dict[str, dict[str, tuple[ListedGood, ...]]] = {}
    for country, rows in listed.items():
        by_key: dict[str, tuple[ListedGood, ...]] = {}
        for row in rows:
            if row.flags_forced_labour:
                for key in sorted(_names(row.good)):
                    by_key[key] = (*by_key.get(key, ()), row)
        index[country] = by_key
    return index


def forced_labour_matches(
    by_key: Mapping[str, tuple[ListedGood, ...]], goods: Sequence[str]
) -> list[tuple[int, ListedGood]]:
    """(index into ``goods``, row) for each named good that a forced-labour row matches."""
    matches: list[tuple[int, ListedGood]] = []
    for index, name in enumerate(goods):
        key = good_key(name)
        if key:
            matches += ((index, row) for row in by_key.get(key, ()))
    return matches


# Submitted names repeat (a supplier discloses every period): normalising each once is enough.
@functools.lru_cache(maxsize=4096)
def good_key(name: str) -> str:
    """``name`` without case, accents, punctuation, spacing or a plural ending on its last word."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    words = re.findall(r"[^\W_]+", plain.casefold())
    if not words:
        return ""
    return "".join([*words[:-1], _singular(words[-1])])


def _names(good: str) -> frozenset[str]:
    # "Cobalt ore (heterogenite)" is also listed for a supplier who writes "Cobalt ore".
    return frozenset({good_key(good), good_key(_PARENTHETICAL.sub("", good))})


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _flag(value: str) -> bool:
    if value not in ("Yes", "No"):
        raise ValueError(f"DOL flag {value!r} is neither Yes nor No")
    return value == "Yes"
