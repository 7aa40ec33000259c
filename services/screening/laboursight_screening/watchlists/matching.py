"""Fuzzy matching of an entity against watchlist entries: pure, no I/O.

Names are compared after ``normal_form`` (compatibility decomposition, accents dropped,
case folded, punctuation out, legal-form words such as Co., Ltd, Sdn Bhd, GmbH or 有限公司
removed) with rapidfuzz's ``token_sort_ratio``: a transliteration that differs in case,
accents, full-width letters, hyphens or the order of words scores as the listed name does.
Every name and alias of the entity is compared with every name and alias of the entries; an
address only supports a name that already matched, since many firms share one.

Fast on a long list: the names are indexed once per edition, by country and by the first
four letters of each of their words. An entity is compared only with the entries of its own
country and those that list none (an entry that lists another country cannot be it); among
those, only with names that share the beginning of at least one word with its own (a name
altered within the first four letters of every word is not looked at: at the threshold, a
name that close shares far more) and whose length lets them reach the threshold at all (two
strings of lengths a and b score at most 200·min(a, b)/(a + b)). ``rapidfuzz.process.extract``
scores what is left in one call, cutting off below the threshold.
"""

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz, process

# Legal forms, as the words normal_form leaves of them; removed wherever they stand.
LEGAL_FORMS: frozenset[str] = frozenset(
    {
        "co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited",
        "llc", "llp", "lp", "plc", "pte", "pvt", "private", "sdn", "bhd", "berhad", "gmbh",
        "ag", "kg", "sa", "sarl", "sas", "srl", "spa", "bv", "nv", "oy", "ab", "as", "kk",
        "jsc", "ojsc", "pjsc", "ooo", "tbk", "pt", "cv", "tnhh", "mtv",
    }
)  # fmt: skip
# Legal forms written without spaces (Chinese, Japanese, Korean), longest first.
LEGAL_FORM_SUFFIXES: tuple[str, ...] = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "株式会社",
    "주식회사",
    "公司",
)
# Dropped, not spaced: "Hong-Yuan" and "S.A." are one word each.
_JOINERS = re.compile("[-'\u2019.]")
_WORDS = re.compile(r"[^\W_]+")


@functools.lru_cache(maxsize=65_536)
def normal_form(text: str) -> str:
    """``text`` as names are compared: its words without accents, case, punctuation or legal
    forms, sorted (so word order does not count); empty when nothing distinctive is left."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    plain = unicodedata.normalize("NFKC", plain).casefold()
    for suffix in LEGAL_FORM_SUFFIXES:
        plain = plain.replace(suffix, " ")
    words = [w for w in _WORDS.findall(_JOINERS.sub("", plain)) if w not in LEGAL_FORMS]
    return " ".join(sorted(words))


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One entry of a watchlist, as the UFLPA Entity List and the CBP Withhold Release Orders
    give one: a name, its aliases, an address, a country (ISO alpha-2), a reference and the
    date it was listed on."""

    reference: str
    name: str
    aliases: tuple[str, ...]
    address: str | None
    country: str | None
    listed_on: date


@dataclass(frozen=True, slots=True)
class Party:
    """The entity a disclosure is about, with the JSON path of each field it gives."""

    path: str
    name: str | None
    aliases: tuple[str, ...]
    address: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class FieldMatch:
    field: str
    value: str
    entry_field: str
    entry_value: str
    score: float


@dataclass(frozen=True, slots=True)
class EntryMatch:
    entry: ListEntry
    score: float
    country_agrees: bool | None
    matched: tuple[FieldMatch, ...]


@dataclass(frozen=True, slots=True)
class _Bucket:
    """Normalised names, shortest first, with their lengths."""

    keys: list[str]
    # For each key: the entry it belongs to, and which of its fields it is.
    owners: list[tuple[int, str]]
    # By a word's beginning and the key's length: the positions of the keys with both.
    by_prefix: dict[tuple[str, int], list[int]]

    @classmethod
    def of(cls, named: list[tuple[str, tuple[int, str]]]) -> "_Bucket":
        by_prefix: dict[tuple[str, int], list[int]] = {}
        for at, (key, _) in enumerate(named):
            for prefix in _prefixes(key):
                by_prefix.setdefault((prefix, len(key)), []).append(at)
        return cls([k for k, _ in named], [o for _, o in named], by_prefix)

    def within_reach(self, key: str, threshold: float) -> list[int]:
        """In file order, the positions of the keys that share a word's beginning with
        ``key`` and are neither too short nor too long to score ``threshold`` against it."""
        length = len(key)
        # One character of slack either way: the scorer itself decides at the boundary.
        shortest = math.floor(length * threshold / (200 - threshold)) - 1
        longest = math.ceil(length * (200 - threshold) / threshold) + 1
        found = self.by_prefix.get
        near = set[int]().union(
            *(
                found((prefix, n), ())
                for prefix in _prefixes(key)
                for n in range(shortest, longest + 1)
            )
        )
        return sorted(near)


# Compared by identity (eq=False): an index is hashed for every memoised look-up, and hashing
# ten thousand entries each time would cost more than the look-up saves.
@dataclass(frozen=True, eq=False)
class EntryIndex:
    """The entries of one watchlist edition, normalised and bucketed by country once."""

    entries: tuple[ListEntry, ...]
    _buckets: dict[str | None, _Bucket] = field(init=False, repr=False)
    _everything: _Bucket = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_country: dict[str | None, list[tuple[str, tuple[int, str]]]] = {}
        everything: list[tuple[str, tuple[int, str]]] = []
        for index, entry in enumerate(self.entries):
            bucket = by_country.setdefault(entry.country, [])
            named = [("name", entry.name)] + [
                (f"aliases[{i}]", alias) for i, alias in enumerate(entry.aliases)
            ]
            for entry_field, text in named:
                key = normal_form(text)
                if key:
                    bucket.append((key, (index, entry_field)))
                    everything.append((key, (index, entry_field)))
        buckets = {country: _Bucket.of(named) for country, named in by_country.items()}
        object.__setattr__(self, "_buckets", buckets)
        object.__setattr__(self, "_everything", _Bucket.of(everything))

    def candidates(self, country: str | None) -> list[_Bucket]:
        if country is None:
            return [self._everything]
        return [b for b in (self._buckets.get(country), self._buckets.get(None)) if b]


def match(
    party: Party, index: EntryIndex, threshold: float, address_threshold: float
) -> list[EntryMatch]:
    """The entries ``party`` possibly is: a name or alias of each scores at least
    ``threshold`` (0-100) against a name or alias of the entry, and the entry lists no other
    country than the party's. Best score first, then by reference; scores to one decimal."""
    names = ([("name", party.name)] if party.name else []) + [
        (f"aliases[{i}]", alias) for i, alias in enumerate(party.aliases)
    ]
    found: dict[int, list[FieldMatch]] = {}
    for own_field, text in names:
        key = normal_form(text)
        if not key:
            continue
        for entry_at, entry_field, score in _scored(index, key, party.country, threshold):
            entry = index.entries[entry_at]
            found.setdefault(entry_at, []).append(
                FieldMatch(
                    f"{party.path}.{own_field}",
                    text,
                    entry_field,
                    _field_value(entry, entry_field),
                    score,
                )
            )
    matches = [
        _entry_match(party, index.entries[at], fields, address_threshold)
        for at, fields in found.items()
    ]
    return sorted(matches, key=lambda m: (-m.score, m.entry.reference))


# An entity discloses every period under the same names: each is scored once per edition.
@functools.lru_cache(maxsize=65_536)
def _scored(
    index: EntryIndex, key: str, country: str | None, threshold: float
) -> tuple[tuple[int, str, float], ...]:
    """(entry, entry field, score to one decimal) of every name of the entries that ``key``
    reaches ``threshold`` against."""
    scored: list[tuple[int, str, float]] = []
    for bucket in index.candidates(country):
        near = bucket.within_reach(key, threshold)
        for _, score, at in process.extract(
            key,
            [bucket.keys[i] for i in near],
            scorer=fuzz.ratio,  # the keys are sorted words: this is token_sort_ratio
            score_cutoff=threshold,
            limit=None,
        ):
            scored.append((*bucket.owners[near[at]], round(score, 1)))
    return tuple(scored)


def _entry_match(
    party: Party, entry: ListEntry, fields: list[FieldMatch], address_threshold: float
) -> EntryMatch:
    best = max(f.score for f in fields)
    matched = sorted(fields, key=lambda f: (-f.score, f.field, f.entry_field))
    if party.address and entry.address:
        score = round(fuzz.token_sort_ratio(party.address, entry.address, processor=normal_form), 1)
        if score >= address_threshold:
            matched.append(
                FieldMatch(f"{party.path}.address", party.address, "address", entry.address, score)
            )
    agrees = None if party.country is None or entry.country is None else True
    return EntryMatch(entry, best, agrees, tuple(matched))


def _prefixes(key: str) -> set[str]:
    return {word[:4] for word in key.split()}


def _field_value(entry: ListEntry, entry_field: str) -> str:
    if entry_field == "name":
        return entry.name
    return entry.aliases[int(entry_field.removeprefix("aliases[").removesuffix("]"))]
