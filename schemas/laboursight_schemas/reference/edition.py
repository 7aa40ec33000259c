"""One published edition of the reference data, built from its files and checked against them."""

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .dol import (
    ForcedLabourIndex,
    ListedGood,
    forced_labour_index,
    forced_labour_matches,
    parse_goods,
)
from .fx import ExchangeRates, parse_rates

MANIFEST = "manifest.json"
_ROLES = ("dol_goods", "fx_usd")


@dataclass(frozen=True)
class ReferenceData:
    edition: str
    sha256: str
    fx: ExchangeRates
    goods: Mapping[str, tuple[ListedGood, ...]]

    def forced_labour_goods(
        self, country: str, goods: Sequence[str]
    ) -> list[tuple[int, ListedGood]]:
        """(index into ``goods``, row) for each named good that the list flags with forced labour
        (forced_labor or forced_child_labor is Yes) in ``country`` (ISO alpha-2).

        Names match ignoring case, accents, surrounding whitespace, punctuation, a trailing
        plural and a parenthetical qualifier on the listed name ("Bricks (clay)" matches "brick").
        """
        return forced_labour_matches(self._forced_labour.get(country, {}), goods)

    @functools.cached_property
    def _forced_labour(self) -> ForcedLabourIndex:
        return forced_labour_index(self.goods)


def build_reference(edition: str, files: Mapping[str, bytes]) -> ReferenceData:
    """The edition held in ``files`` (name to content, with the manifest among them).

    Every file the manifest names must carry the sha256 the manifest records: an edition, once
    published, is never edited; a correction is a new edition.
    """
    manifest = json.loads(files[MANIFEST])
    if manifest["edition"] != edition:
        raise ValueError(f"edition {edition} holds the manifest of {manifest['edition']}")
    by_role: dict[str, str] = {}
    for name, entry in manifest["files"].items():
        if name not in files:
            raise ValueError(
                f"reference data edition {edition} lacks {name}, named in its manifest"
            )
        actual = hashlib.sha256(files[name]).hexdigest()
        if actual != entry["sha256"]:
            raise ValueError(
                f"reference data edition {edition}: {name} has sha256 {actual}, but its manifest "
                f"records {entry['sha256']}; editions are never edited in place, publish a new one"
            )
        by_role[entry["role"]] = name
    if missing := [role for role in _ROLES if role not in by_role]:
        raise ValueError(f"reference data edition {edition} has no file for {missing}")
    lines = sorted(f"{name}:{entry['sha256']}" for name, entry in manifest["files"].items())
    return ReferenceData(
        edition=edition,
        sha256=hashlib.sha256("\n".join(lines).encode()).hexdigest(),
        fx=parse_rates(
            files[by_role["fx_usd"]].decode("utf-8"), date.fromisoformat(manifest["fx_as_of"])
        ),
        goods=parse_goods(files[by_role["dol_goods"]].decode("utf-8")),
    )
