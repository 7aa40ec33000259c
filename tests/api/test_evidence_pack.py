"""The evidence pack, built from a chain written by hand (no I/O): every item is the event of
the ledger entry it cites, nothing about another entity gets in, a broken chain is said so and
its items past the break are unproven, and the same chain gives the same archive."""

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from typing import Any

from laboursight_api.evidence import pack_files
from laboursight_api.evidence_files import archive
from laboursight_api.evidence_items import Gathered, Gatherer
from laboursight_schemas.ledger import Entry
from tests.api.evidence_chain import ENTITY, TENANT, UNREADABLE, chain, data_of

SECTIONS = ("disclosures", "screenings", "alerts", "cases", "dismissals", "links")


def _gathered(entries: list[Entry]) -> Gathered:
    gatherer = Gatherer(TENANT, ENTITY)
    for entry in entries:
        gatherer.add(entry)
    return gatherer.result()


def _pack(entries: list[Entry]) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(pack_files(_gathered(entries), "supplier")["pack.json"])
    return found


def test_every_item_is_the_event_of_the_entry_it_cites_and_nothing_else_gets_in() -> None:
    recorded = chain()
    by_seq = {e.seq: e for e in recorded.entries}

    pack = _pack(recorded.entries)

    cited = {}
    for name in SECTIONS:
        for item in pack[name]:
            entry = by_seq[item["ledger"]["seq"]]
            assert item["event_id"] == entry.event_id
            assert item["ledger"]["event_sha256"] == entry.event_sha256
            assert item["ledger"]["entry_hash"] == entry.entry_hash
            assert item["ledger"]["proven"] is True
            assert item["data"] == data_of(entry)
            cited[entry.event_id] = name
    assert cited == recorded.own
    assert pack["ledger"]["intact"] is True
    assert pack["ledger"]["head_hash"] == recorded.head.entry_hash
    [unreadable] = pack["unreadable"]
    assert by_seq[unreadable["ledger"]["seq"]].event == UNREADABLE


def test_the_summary_states_what_the_items_hold() -> None:
    pack = _pack(chain().entries)

    summary = pack["summary"]
    [screening] = pack["screenings"]
    latest = summary["latest_screening"]
    assert latest["disclosure_id"] == screening["data"]["disclosure_id"]
    assert latest["risk_level"] == screening["data"]["judgement"]["risk_level"]
    assert latest["rule_set_hash"] == screening["data"]["rule_set_hash"]
    [alert] = summary["alerts"]
    assert (alert["status"], alert["revisions"]) == ("triaged", 2)
    [case] = summary["cases"]
    assert (case["status"], case["changes"]) == ("closed", 2)
    [link] = summary["links"]
    assert (link["recruiter_id"], link["supplier_id"], link["workers"]) == ("REC-9", ENTITY, 80)


def test_a_tampered_entry_breaks_the_pack_from_there_on() -> None:
    entries = chain().entries
    alert_seq = 3
    entries[alert_seq - 1] = replace(
        entries[alert_seq - 1], event=entries[alert_seq - 1].event.replace(b"high", b"low!")
    )

    files = pack_files(_gathered(entries), "supplier")

    pack = json.loads(files["pack.json"])
    assert pack["ledger"]["intact"] is False
    assert pack["ledger"]["broken_at"] == alert_seq
    proven = {i["ledger"]["seq"]: i["ledger"]["proven"] for n in SECTIONS for i in pack[n]}
    assert {seq for seq, ok in proven.items() if ok} == {1, 2}
    assert f"BROKEN at entry {alert_seq}" in files["index.md"].decode()


def test_the_archive_lets_anyone_recompute_each_cited_event_hash() -> None:
    recorded = chain()

    content = archive(pack_files(_gathered(recorded.entries), "supplier"))

    with zipfile.ZipFile(io.BytesIO(content)) as pack:
        names = pack.namelist()
        assert names[:2] == ["index.md", "pack.json"]
        rows = list(csv.DictReader(io.StringIO(pack.read("ledger.csv").decode())))
        assert len(rows) == len(recorded.own) + 1
        for row in rows:
            event = pack.read(row["event_file"])
            assert hashlib.sha256(event).hexdigest() == row["event_sha256"]
        findings = list(csv.DictReader(io.StringIO(pack.read("findings.csv").decode())))
    assert {row["field"] for row in findings} >= {"$.working_time.overtime_voluntary"}
    assert content == archive(pack_files(_gathered(recorded.entries), "supplier"))


def test_text_a_spreadsheet_would_run_is_quoted_in_the_csv_only() -> None:
    recorded = chain()
    gathered = _gathered(recorded.entries)
    [case] = [i for i in gathered.items if i.section == "cases" and i.data["revision"] == 1]
    poisoned = replace(case, data={**case.data, "actor": '=HYPERLINK("http://x")'})
    items = tuple(poisoned if i is case else i for i in gathered.items)

    files = pack_files(replace(gathered, items=items), "supplier")

    assert "'=HYPERLINK" in files["cases.csv"].decode()
    pack = json.loads(files["pack.json"])
    assert pack["cases"][0]["data"]["actor"] == '=HYPERLINK("http://x")'
