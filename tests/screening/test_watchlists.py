"""Watchlist screening: the pure matching (transliteration, aliases, word order, country, a
similar but different name), the editions an operator loads and how they are checked, and the
engine's use of them — context beside the findings with its edition, never a finding, never
moving the judgement, and only under rule sets that screen watchlists (2026.12.0)."""

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from laboursight_screening.engine import SHIPPED, screen
from laboursight_screening.handlers import findings_event
from laboursight_screening.watchlists.edition import Watchlist, build_watchlist
from laboursight_screening.watchlists.loading import load_watchlists
from laboursight_screening.watchlists.matching import (
    EntryIndex,
    ListEntry,
    Party,
    match,
    normal_form,
)
from tests.cases import CASES
from tests.factories import CLEAN_SUPPLIER, amended, supplier_event
from tests.screening.support import REFERENCE, WATCHLISTS, parse, resolve
from tests.strategies import disclosures

NEW = SHIPPED.compiled("2026.12.0")
OLD = SHIPPED.compiled("2026.11.0")
THRESHOLD = 93.0
HONGYUAN = ListEntry(
    reference="UFLPA-TEST-1",
    name="Xinjiang Hongyuan Textile Co., Ltd.",
    aliases=("Hongyuan Cotton Mill", "新疆宏源纺织有限公司"),
    address="88 Example Road, Aksu, Xinjiang",
    country="CN",
    listed_on=date(2024, 5, 1),
)
STATELESS = ListEntry("WRO-TEST-2", "Oceanic Catch Trading LLC", (), None, None, date(2023, 1, 9))
INDEX = EntryIndex((HONGYUAN, STATELESS))
FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


def party(
    name: str | None,
    *aliases: str,
    country: str | None = "CN",
    address: str | None = None,
) -> Party:
    return Party("$.supplier", name, aliases, address, country)


def found(who: Party) -> list[tuple[str, float, list[tuple[str, str]]]]:
    """(entry reference, score, [(disclosure field, entry field)]) of each match."""
    return [
        (m.entry.reference, m.score, [(f.field, f.entry_field) for f in m.matched])
        for m in match(who, INDEX, THRESHOLD, 85)
    ]


# --- matching -----------------------------------------------------------------------------------


def test_a_reordered_name_without_its_legal_form_matches_the_listed_name() -> None:
    assert found(party("HONGYUAN TEXTILE XINJIANG")) == [
        ("UFLPA-TEST-1", 100.0, [("$.supplier.name", "name")])
    ]


@pytest.mark.parametrize(
    "name",
    [
        "Xinjiang Hóngyuán Textile Company Limited",  # accents of a pinyin transliteration
        "XINJIANG HONGYUAN TEXTILE".translate(FULL_WIDTH),  # full-width letters
        "Xinjiang Hong-Yuan Textile Co.,Ltd",  # a hyphen, and the legal form run together
        "Textile (Xinjiang) Hongyuan, Ltd.",
    ],
)
def test_transliterations_of_the_listed_name_match(name: str) -> None:
    assert found(party(name)) == [("UFLPA-TEST-1", 100.0, [("$.supplier.name", "name")])]


def test_legal_forms_in_chinese_are_removed_too() -> None:
    assert normal_form("新疆宏源纺织有限公司") == normal_form("新疆宏源纺织")
    assert found(party("新疆宏源纺织")) == [
        ("UFLPA-TEST-1", 100.0, [("$.supplier.name", "aliases[1]")])
    ]


def test_an_alias_on_either_side_matches_and_says_which_fields_matched() -> None:
    assert found(party("Aksu Weaving", "Cotton Mill Hongyuan")) == [
        ("UFLPA-TEST-1", 100.0, [("$.supplier.aliases[0]", "aliases[0]")])
    ]


def test_a_similar_but_different_name_is_no_match() -> None:
    # One syllable of the distinctive word differs; the shared place and trade cannot carry it.
    assert found(party("Xinjiang Hongda Textile Co., Ltd.")) == []
    assert found(party("Hongyuan Garments Xinjiang")) == []
    assert found(party("Textile Co., Ltd.")) == []


def test_an_entry_that_lists_another_country_is_never_a_match() -> None:
    assert found(party("Xinjiang Hongyuan Textile", country="MY")) == []


def test_an_unknown_country_on_either_side_does_not_exclude_and_is_said_to_be_unknown() -> None:
    (unknown,) = match(party("Hongyuan Textile Xinjiang", country=None), INDEX, THRESHOLD, 85)
    assert (unknown.entry.reference, unknown.country_agrees) == ("UFLPA-TEST-1", None)
    (stateless,) = match(party("Oceanic Catch Trading", country="TH"), INDEX, THRESHOLD, 85)
    assert (stateless.entry.reference, stateless.country_agrees) == ("WRO-TEST-2", None)
    (agrees,) = match(party("Hongyuan Textile Xinjiang"), INDEX, THRESHOLD, 85)
    assert agrees.country_agrees is True


def test_an_address_supports_a_name_match_and_never_makes_one() -> None:
    address = "88 Example Rd., Aksu, Xinjiang"
    assert found(party("Hongyuan Textile Xinjiang", address=address)) == [
        (
            "UFLPA-TEST-1",
            100.0,
            [("$.supplier.name", "name"), ("$.supplier.address", "address")],
        )
    ]
    assert found(party("Aksu Weaving Mill", address=address)) == []


# --- editions ----------------------------------------------------------------------------------


ENTRIES_CSV = (
    "reference,name,aliases,address,country,listed_on\n"
    'T-1,"Xinjiang Hongyuan Textile Co., Ltd.",Hongyuan Cotton Mill|新疆宏源纺织有限公司,'
    '"88 Example Road, Aksu",China,2024-05-01\n'
    "T-2,Oceanic Catch Trading LLC,,,,2023-01-09\n"
)
ENTRIES_JSON = [
    {
        "reference": "T-1",
        "name": "Xinjiang Hongyuan Textile Co., Ltd.",
        "aliases": ["Hongyuan Cotton Mill", "新疆宏源纺织有限公司"],
        "address": "88 Example Road, Aksu",
        "country": "CN",
        "listed_on": "2024-05-01",
    },
    {"reference": "T-2", "name": "Oceanic Catch Trading LLC", "listed_on": "2023-01-09"},
]


def edition_files(
    name: str, content: bytes, edition: str = "2026-12-01", published: str = "2026-12-01"
) -> dict[str, bytes]:
    manifest = {
        "list_id": "test-entity-list",
        "title": "Test Entity List",
        "edition": edition,
        "published": published,
        "source": "written for this test",
        "files": {name: {"sha256": hashlib.sha256(content).hexdigest()}},
    }
    return {"manifest.json": json.dumps(manifest).encode(), name: content}


def write_edition(root: Path, files: dict[str, bytes], edition: str) -> None:
    folder = root / "test-entity-list" / edition
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def test_an_edition_reads_the_same_from_csv_and_from_json() -> None:
    from_csv = build_watchlist(edition_files("entries.csv", ENTRIES_CSV.encode()))
    from_json = build_watchlist(
        edition_files("entries.json", json.dumps(ENTRIES_JSON, ensure_ascii=False).encode())
    )
    assert from_csv == from_json
    assert from_csv.label == "test-entity-list@2026-12-01"
    assert from_csv.entries[0].country == "CN"  # an English name, resolved to its code
    assert from_csv.entries[1] == ListEntry(
        "T-2", "Oceanic Catch Trading LLC", (), None, None, date(2023, 1, 9)
    )


def test_an_edited_edition_is_refused() -> None:
    files = edition_files("entries.csv", ENTRIES_CSV.encode())
    files["entries.csv"] = ENTRIES_CSV.replace("T-2", "T-3").encode()
    with pytest.raises(ValueError, match="never edited in place"):
        build_watchlist(files)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("T-9,Somewhere Ltd,,,,12/05/2024\n", "listed_on '12/05/2024' is no ISO date"),
        ("T-9,,,,,2024-05-12\n", "reference and name must not be empty"),
        ("T-1,Again Ltd,,,,2024-05-12\n", "duplicate references T-1"),
        ("T-9,Somewhere Ltd,,,Atlantis,2024-05-12\n", "'Atlantis' has no ISO 3166-1 code"),
    ],
)
def test_a_malformed_entry_is_refused_naming_it(row: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_watchlist(edition_files("entries.csv", (ENTRIES_CSV + row).encode()))


def test_the_operator_folder_replaces_the_shipped_list_with_each_lists_newest_edition(
    tmp_path: Path,
) -> None:
    write_edition(tmp_path, edition_files("entries.csv", ENTRIES_CSV.encode()), "2026-12-01")
    newer = ENTRIES_CSV + "T-3,Later Listed Ltd,,,,2026-12-20\n"
    write_edition(
        tmp_path,
        edition_files("entries.csv", newer.encode(), "2026-12-20", "2026-12-20"),
        "2026-12-20",
    )
    (loaded,) = load_watchlists(tmp_path)
    assert (loaded.label, len(loaded.entries)) == ("test-entity-list@2026-12-20", 3)
    assert [w.label for w in load_watchlists()] == ["fictional-entity-list@2026.12"]


def test_a_broken_edition_in_the_operator_folder_stops_the_load_naming_its_folder(
    tmp_path: Path,
) -> None:
    files = edition_files("entries.csv", ENTRIES_CSV.encode())
    files["entries.csv"] += b"T-4,Appended Ltd,,,,2026-12-02\n"
    write_edition(tmp_path, files, "2026-12-01")
    with pytest.raises(ValueError, match="2026-12-01: watchlist test-entity-list"):
        load_watchlists(tmp_path)


# --- the engine ----------------------------------------------------------------------------------

LISTED_SITE = amended(
    CLEAN_SUPPLIER,
    {
        "supplier.name": "HONGYUAN DEMO TEXTILE (XANADU)",
        "supplier.country": "CN",
        "supplier.aliases": ["Xanadú Hóngyuán Demo Textiles"],
    },
)


def test_a_possible_match_is_context_naming_the_list_edition_entry_and_fields() -> None:
    result = screen(parse(LISTED_SITE), NEW, REFERENCE, WATCHLISTS)
    assert "watchlist_match" not in {f.indicator for f in result.findings}
    (context,) = [c for c in result.context or () if c.indicator == "watchlist_match"]
    hit = context.watchlist
    assert hit is not None
    assert (hit.list_id, hit.edition, hit.reference, hit.listed_on, hit.score) == (
        "fictional-entity-list",
        "2026.12",
        "FICT-0001",
        date(2026, 1, 15),
        100.0,
    )
    assert [(m.field, m.entry_field) for m in hit.matched] == [
        ("$.supplier.name", "name"),
        ("$.supplier.aliases[0]", "name"),
    ]
    assert result.watchlists == ("fictional-entity-list@2026.12",)
    for evidence in context.evidence:
        assert resolve(LISTED_SITE, evidence.field) == evidence.value
        assert "Possible match on Fictional Entity List" in evidence.explanation
        assert "— review" in evidence.explanation


def test_the_event_carries_the_match_in_context_and_the_editions_screened() -> None:
    event = supplier_event(LISTED_SITE)
    data = json.loads(findings_event(event, NEW, REFERENCE, WATCHLISTS).model_dump_json())["data"]
    assert data["watchlists"] == ["fictional-entity-list@2026.12"]
    assert all(
        f["indicator"] != "watchlist_match" and "watchlist" not in f for f in data["findings"]
    )
    (matched,) = [c for c in data["context"] if c["indicator"] == "watchlist_match"]
    assert matched["watchlist"]["edition"] == "2026.12"
    assert matched["rule_set_version"] == "2026.12.0"
    clean = findings_event(supplier_event(CLEAN_SUPPLIER), NEW, REFERENCE, WATCHLISTS)
    assert clean.data.watchlists == ["fictional-entity-list@2026.12"]  # screened, no match
    assert all(c.indicator != "watchlist_match" for c in clean.data.context or ())


def test_rule_set_2026_11_0_screens_no_watchlist_and_its_events_are_unchanged() -> None:
    event = supplier_event(LISTED_SITE)
    with_lists = findings_event(event, OLD, REFERENCE, WATCHLISTS)
    without = findings_event(event, OLD, REFERENCE)
    assert with_lists.data.model_dump_json() == without.data.model_dump_json()
    assert '"watchlist' not in with_lists.model_dump_json()


@settings(max_examples=150, deadline=None)
@given(raw=disclosures())
def test_a_watchlist_never_moves_the_findings_or_the_judgement(raw: dict[str, Any]) -> None:
    disclosure = parse(raw)
    listed = screen(disclosure, NEW, REFERENCE, WATCHLISTS)
    unlisted = screen(disclosure, NEW, REFERENCE, ())
    assert (listed.findings, listed.judgement) == (unlisted.findings, unlisted.judgement)
    matches = [c for c in listed.context or () if c.indicator == "watchlist_match"]
    assert [c for c in listed.context or () if c not in matches] == list(unlisted.context or ())
    for context in matches:
        assert (context.strength, context.severity) == ("weak", "low")
        for evidence in context.evidence:
            assert resolve(raw, evidence.field) == evidence.value


def test_the_realistic_case_of_a_listed_name_expects_its_match() -> None:
    (name,) = [n for n, case in CASES.items() if "watchlist" in case["expect"]]
    case = CASES[name]
    expect = case["expect"]["watchlist"]
    result = screen(parse(case["disclosure"]), NEW, REFERENCE, WATCHLISTS)
    (hit,) = [c.watchlist for c in result.context or () if c.watchlist is not None]
    assert (hit.list_id, hit.reference) == (expect["list_id"], expect["reference"])
    assert [m.field for m in hit.matched] == expect["fields"]


def test_the_shipped_list_is_fictional_and_the_demo_has_an_entity_it_matches() -> None:
    (shipped,) = WATCHLISTS
    assert isinstance(shipped, Watchlist)
    assert "fictional" in shipped.title.casefold()
    samples = Path(__file__).resolve().parents[2] / "deploy" / "local" / "samples"
    matched = [
        path.name
        for path in sorted(samples.glob("*.json"))
        if any(
            c.indicator == "watchlist_match"
            for c in screen(parse(json.loads(path.read_text())), NEW, REFERENCE, WATCHLISTS).context
            or ()
        )
    ]
    assert matched == ["04-watchlisted-name-supplier.json"]
