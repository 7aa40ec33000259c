"""``laboursight-replay`` on the running system: the period replayed under the rule set that was
live reports no differences, from the ledger and from the topics, byte for byte the same each
time; under a changed rule set it reports what the engine says changes; and neither touches a
live collection, a topic or a webhook."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from pymongo import AsyncMongoClient

from laboursight_schemas import collections, topics
from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import FindingsEvent
from laboursight_schemas.reference import load_reference
from laboursight_schemas.upcasting import read_event
from laboursight_screening.engine import SHIPPED_FOLDER, Catalogue, Screening, screen
from tests.api.evidence_chain import check_against_ledger
from tests.replay.conftest import BEFORE, FORCED_OVERTIME, LONG_HOURS, STAFFED, TENANT, Recorded
from tests.replay.system import command, entity_of, replay, report_files, snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LIVE = "2026.11.0"
EDITION = "2026.11"
# An operator's own version, beside the shipped ones: a back-test of a local change.
CHANGED = "2026.11.1"


@pytest.fixture(scope="module")
async def mongo(recorded: Recorded) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(recorded.mongodb_uri, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture(scope="module")
def changed_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rule set 2026.11.1: 2026.11.0 with the average-hours ceiling raised from 60 to 75 and
    involuntary overtime a medium indicator instead of a strong one."""
    text = (SHIPPED_FOLDER / f"{LIVE}.yaml").read_text()
    text = text.replace(f'version: "{LIVE}"', f'version: "{CHANGED}"')
    ceiling = "    when: {field: working_time.avg_weekly_hours, gt: 60}"
    assert text.count(ceiling) == 1
    text = text.replace(ceiling, ceiling.replace("60", "75"))
    at = text.index("  - id: overtime.not_voluntary")
    text = text[:at] + text[at:].replace("strength: strong", "strength: medium", 1)
    folder = tmp_path_factory.mktemp("rule-sets")
    (folder / f"{CHANGED}.yaml").write_text(text)
    return folder


def _period(recorded: Recorded) -> list[str]:
    return ["--since", recorded.since.isoformat(), "--until", recorded.until.isoformat()]


async def _run(
    recorded: Recorded, mongo: AsyncMongoClient[dict[str, Any]], out: Path, *args: str
) -> dict[str, Any]:
    """Runs a replay and returns its report, checking that nothing live changed meanwhile."""
    before = await snapshot(
        mongo, recorded.database, recorded.bootstrap, len(recorded.receiver.accepted)
    )
    done = replay(recorded.env, "run", "--tenant", TENANT, "--out", str(out), *args)
    after = await snapshot(
        mongo, recorded.database, recorded.bootstrap, len(recorded.receiver.accepted)
    )
    assert done.returncode == 0, done.stderr
    assert after == before
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


def _no_differences(report: dict[str, Any], recorded: Recorded) -> None:
    summary = report["summary"]
    assert summary["differences"] == 0, json.dumps(report, indent=1)[:4000]
    assert summary["disclosures"] == summary["recorded"] == len(recorded.period)
    assert report["disclosures"] == report["entities"] == report["alerts"] == []
    assert report["failures"] == []
    # The period raised alerts, and the recorded findings give them again.
    assert report["reproduced"]["alerts"] >= 3
    assert report["reproduced"]["alerts_differing"] == []
    # The state before the period was folded first: the recruiter, the first disclosures.
    assert report["parameters"]["folded"]["before_period"] >= 40


async def test_the_rule_set_that_was_live_reproduces_the_record_byte_for_byte(
    recorded: Recorded, mongo: AsyncMongoClient[dict[str, Any]], tmp_path: Path
) -> None:
    chosen = ["--rule-set", LIVE, "--reference-edition", EDITION, *_period(recorded)]
    first = await _run(recorded, mongo, tmp_path / "one", "--replay-id", "live-one", *chosen)
    second = await _run(recorded, mongo, tmp_path / "two", "--replay-id", "live-two", *chosen)

    _no_differences(first, recorded)
    assert second == first
    assert report_files(tmp_path / "one") == report_files(tmp_path / "two")
    assert "**No differences.**" in (tmp_path / "one" / "report.md").read_text()
    screened = first["parameters"]["screened"]
    assert screened["outside_period"] == len(BEFORE) + 1  # before the period, and after it
    # Each findings event is the one published: same id, same data.
    replayed = mongo[f"{recorded.database}_replay_live-one"]["replay_findings"]
    mine = {
        d["disclosure_id"]: read_event(bytes(d["event"]), FindingsEvent)
        async for d in replayed.find({})
    }
    published: dict[str, FindingsEvent] = {}
    async for entry in mongo[recorded.database][collections.LEDGER].find(
        {"tenant_id": TENANT, "topic": topics.FINDINGS}
    ):
        event = read_event(bytes(entry["event"]), FindingsEvent)
        published.setdefault(event.data.disclosure_id, event)
    assert mine.keys() == set(recorded.period)
    for disclosure_id, event in mine.items():
        assert event.id == published[disclosure_id].id
        assert event.data == published[disclosure_id].data


async def test_a_replay_from_the_topics_reports_what_one_from_the_ledger_does(
    recorded: Recorded, mongo: AsyncMongoClient[dict[str, Any]], tmp_path: Path
) -> None:
    chosen = ["--rule-set", LIVE, *_period(recorded)]
    topics_report = await _run(
        recorded, mongo, tmp_path / "kafka", "--replay-id", "kafka", "--source", "kafka", *chosen
    )

    _no_differences(topics_report, recorded)
    read = topics_report["parameters"]["read_from"]["kafka"]
    assert {r["topic"] for r in read} <= {topics.SUPPLIER_DISCLOSURES, topics.RECRUITER_DISCLOSURES}
    assert sum(r["last"] - r["first"] + 1 for r in read) >= len(recorded.period)


def _expected(recorded: Recorded, rules_dir: Path) -> tuple[set[tuple[str, str, str]], set[str]]:
    """What the engine alone says the changed rule set changes: (disclosure, indicator,
    added/removed/changed) and the disclosures whose judgement moves."""
    catalogue = Catalogue(SHIPPED_FOLDER, rules_dir)
    old, new = catalogue.compiled(LIVE), catalogue.compiled(CHANGED)
    reference = load_reference(EDITION)
    findings, judgements = set(), set()
    for disclosure_id, raw in recorded.period.items():
        disclosure = TypeAdapter(Disclosure).validate_python(raw)
        before, after = screen(disclosure, old, reference), screen(disclosure, new, reference)
        was, now = _by_indicator(before), _by_indicator(after)
        for indicator in was.keys() | now.keys():
            if was.get(indicator) != now.get(indicator):
                kind = (
                    "added"
                    if indicator not in was
                    else "removed"
                    if indicator not in now
                    else "changed"
                )
                findings.add((disclosure_id, indicator, kind))
        j, k = before.judgement, after.judgement
        if (j.risk_level, j.score, j.forced_labour_likely, j.confidence) != (
            k.risk_level,
            k.score,
            k.forced_labour_likely,
            k.confidence,
        ):
            judgements.add(disclosure_id)
    return findings, judgements


def _by_indicator(screening: Screening) -> dict[str, Any]:
    return {
        f.indicator: (
            f.strength,
            f.severity,
            sorted((e.rule_id, e.field, json.dumps(e.value), e.explanation) for e in f.evidence),
        )
        for f in screening.findings
    }


async def test_a_changed_rule_set_reports_what_it_changes_and_nothing_else(
    recorded: Recorded, mongo: AsyncMongoClient[dict[str, Any]], changed_rules: Path, tmp_path: Path
) -> None:
    out = tmp_path / "changed"
    report = await _run(
        recorded,
        mongo,
        out,
        "--replay-id",
        "changed",
        "--rule-sets-dir",
        str(changed_rules),
        "--rule-set",
        CHANGED,
        *_period(recorded),
    )
    findings, judgements = _expected(recorded, changed_rules)

    assert findings, "the changed rule set changes nothing here"
    reported = {
        (d["disclosure_id"], f["indicator"], f["difference"])
        for d in report["disclosures"]
        for f in d["findings"]
    }
    assert reported == findings
    assert {
        d["disclosure_id"] for d in report["disclosures"] if d["judgement_changed"]
    } == judgements
    assert report["reproduced"]["alerts_differing"] == []
    # The supplier forced to work overtime is medium, not high: its two alerts would not exist.
    forced = entity_of(FORCED_OVERTIME)
    gone = {(a["alert_type"], a["verdict"]) for a in report["alerts"] if a["entity_id"] == forced}
    assert gone == {("risk_level", "disappears"), ("strong_indicator", "disappears")}
    [level] = [e for e in report["entities"] if e["entity_id"] == forced]
    assert (level["recorded"]["risk_level"], level["replay"]["risk_level"]) == ("high", "medium")
    # 70 hours a week is now a weak sign only: the finding changes, the level does not.
    [hours] = recorded.by_entity[entity_of(LONG_HOURS)]
    assert (hours, "excessive_overtime", "changed") in reported
    assert entity_of(LONG_HOURS) not in {e["entity_id"] for e in report["entities"]}
    # The supplier staffed by the high-risk recruiter keeps what it inherits (its findings
    # before the period were folded, not screened again).
    staffed = entity_of(STAFFED)
    assert staffed not in {e["entity_id"] for e in report["entities"]}
    markdown = (out / "report.md").read_text()
    assert "## Alerts that would appear, disappear or change" in markdown
    rows = (out / "alerts.csv").read_text().splitlines()
    assert sum(forced in row and ",disappears,recorded," in row for row in rows) >= 2


async def test_a_replay_id_in_use_is_refused_and_drop_removes_the_replay(
    recorded: Recorded, mongo: AsyncMongoClient[dict[str, Any]], tmp_path: Path
) -> None:
    await _run(recorded, mongo, tmp_path / "first", "--replay-id", "taken", *_period(recorded))
    again = replay(
        recorded.env,
        "run",
        "--tenant",
        TENANT,
        "--replay-id",
        "taken",
        "--out",
        str(tmp_path / "x"),
    )
    listed = replay(recorded.env, "list")
    dropped = replay(recorded.env, "drop", "--replay-id", "taken")
    names = set(await mongo.list_database_names())

    assert again.returncode == 1
    assert "already holds replay 'taken'" in again.stderr
    assert "taken\tfolded\ttenant tenant-replay" in listed.stdout
    assert dropped.returncode == 0, dropped.stderr
    assert f"{recorded.database}_replay_taken" not in names
    assert f"{recorded.database}_replay_taken_recorded" not in names


async def test_an_alerted_supplier_s_evidence_pack_traces_every_item_to_the_ledger(
    recorded: Recorded, mongo: AsyncMongoClient[dict[str, Any]], tmp_path: Path
) -> None:
    supplier_id = entity_of(STAFFED)
    out = tmp_path / "pack.json"

    done = command(
        "laboursight-api",
        recorded.env,
        *("evidence", "--tenant", TENANT, "--entity", supplier_id, "-o", str(out), "--json"),
    )

    assert done.returncode == 0, done.stderr
    pack = json.loads(out.read_bytes())
    assert pack["ledger"]["intact"] is True
    assert await check_against_ledger(mongo[recorded.database], pack) > 0
    assert [d["data"]["disclosure"] for d in pack["disclosures"]] == [
        TypeAdapter(Disclosure).validate_python(STAFFED).model_dump(mode="json")
    ]
    assert pack["alerts"], "the staffed supplier was alerted"
    stated = {(k["recruiter_id"], k["stated_by"]) for k in pack["summary"]["links"]}
    [own] = pack["screenings"]
    [recruiter] = [s for s in pack["links"] if s["data"]["entity_id"] == "REC-BD-RISK-07"]
    assert stated == {
        ("REC-BD-RISK-07", own["data"]["disclosure_id"]),
        ("REC-BD-RISK-07", recruiter["data"]["disclosure_id"]),
    }
