"""One edition of a watchlist, built from its files and checked against its manifest. No I/O.

An edition is a folder holding ``manifest.json`` and one entries file, CSV or JSON, shaped like
the US DHS UFLPA Entity List and the CBP Withhold Release Orders (README.md in ``editions/``):

- CSV, a header row and then one entry a row: ``reference, name, aliases, address, country,
  listed_on``, aliases separated by ``|``, the country an ISO 3166-1 alpha-2 code or an English
  name, the date ISO 8601;
- JSON, a list of objects with the same keys, ``aliases`` a list.

The manifest names the list (``list_id``, ``title``), the ``edition``, its ``published`` date
and ``source``, and the entries file with its sha256: like a reference-data edition, an edition
is never edited, a correction is a new edition, so a match that names one can be shown again.
"""

import csv
import functools
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from laboursight_schemas.reference.countries import country_code

from .matching import EntryIndex, ListEntry

MANIFEST = "manifest.json"


class _EntriesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    description: str | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    list_id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str = Field(min_length=1)
    edition: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
    published: date
    source: str = Field(min_length=1)
    files: dict[str, _EntriesFile] = Field(min_length=1, max_length=1)


@dataclass(frozen=True)
class Watchlist:
    """One edition of one list: its entries, and their index for matching."""

    list_id: str
    title: str
    edition: str
    published: date
    entries: tuple[ListEntry, ...]

    @property
    def label(self) -> str:
        """``<list_id>@<edition>``, as a findings event records what it was screened against."""
        return f"{self.list_id}@{self.edition}"

    @functools.cached_property
    def index(self) -> EntryIndex:
        return EntryIndex(self.entries)


def build_watchlist(files: Mapping[str, bytes]) -> Watchlist:
    """The edition held in ``files`` (name to content, with the manifest among them); an error
    naming the file, the row and the field when anything is missing, malformed or altered."""
    if MANIFEST not in files:
        raise ValueError(f"a watchlist edition needs {MANIFEST}")
    manifest = Manifest.model_validate_json(files[MANIFEST])
    where = f"watchlist {manifest.list_id} edition {manifest.edition}"
    [(name, entry)] = manifest.files.items()
    if name not in files:
        raise ValueError(f"{where} lacks {name}, named in its manifest")
    actual = hashlib.sha256(files[name]).hexdigest()
    if actual != entry.sha256:
        raise ValueError(
            f"{where}: {name} has sha256 {actual}, but its manifest records {entry.sha256}; "
            "editions are never edited in place, publish a new one"
        )
    text = files[name].decode("utf-8-sig")
    if name.endswith(".csv"):
        rows = [dict(r) for r in csv.DictReader(io.StringIO(text))]
        for row in rows:
            row["aliases"] = [a for a in (row.get("aliases") or "").split("|") if a.strip()]
    elif name.endswith(".json"):
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise ValueError(f"{where}: {name} must hold a list of entries")
    else:
        raise ValueError(f"{where}: {name} is neither .csv nor .json")
    entries = tuple(_entry(row, f"{where}, {name} entry {n}") for n, row in enumerate(rows, 1))
    if duplicates := sorted({e.reference for e in entries if _count(entries, e.reference) > 1}):
        raise ValueError(f"{where}: duplicate references {', '.join(duplicates)}")
    return Watchlist(
        manifest.list_id, manifest.title, manifest.edition, manifest.published, entries
    )


def _entry(row: Any, where: str) -> ListEntry:
    if not isinstance(row, dict):
        raise ValueError(f"{where} is not an object")
    if unknown := sorted(set(row) - set(ListEntry.__slots__)):
        raise ValueError(f"{where}: unknown fields {', '.join(unknown)}")
    try:
        reference, name = str(row["reference"]).strip(), str(row["name"]).strip()
        listed_on = date.fromisoformat(str(row["listed_on"]).strip())
    except KeyError as missing:
        raise ValueError(f"{where}: {missing.args[0]} is required") from None
    except ValueError:
        raise ValueError(f"{where}: listed_on {row['listed_on']!r} is no ISO date") from None
    if not reference or not name:
        raise ValueError(f"{where}: reference and name must not be empty")
    aliases = row.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ValueError(f"{where}: aliases must be a list of names")
    country = (row.get("country") or "").strip()
    address = (row.get("address") or "").strip()
    return ListEntry(
        reference=reference,
        name=name,
        aliases=tuple(a.strip() for a in aliases),
        address=address or None,
        country=country_code(country) if country else None,
        listed_on=listed_on,
    )


def _count(entries: tuple[ListEntry, ...], reference: str) -> int:
    return sum(1 for e in entries if e.reference == reference)
