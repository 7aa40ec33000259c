"""The replay report compared by hand: what counts as a difference, what does not, and the same
report in the same bytes."""

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from laboursight_replay.diff import report
from laboursight_replay.report import MARKDOWN_ROWS, markdown, write_report
from laboursight_replay.sides import EntityState, Sides
from laboursight_schemas.disclosure import Period
from laboursight_schemas.findings import (
    AlertRaised,
    AlertType,
    AlertUpdated,
    Evidence,
    Finding,
    FindingsComputed,
    Indicator,
    Judgement,
    ReasonCode,
    RiskLevel,
    Strength,
)

META: dict[str, Any] = {
    "tenant_id": "t",
    "source": "ledger",
    "since": datetime(2026, 11, 1, tzinfo=UTC),
    "until": None,
    "offsets": [],
    "start": datetime(2026, 11, 1, tzinfo=UTC),
    "rule_set_version": "2027.1.0",
    "rule_set_hash": "sha256:new",
    "reference_data_edition": "2026.11",
    "read_from": {"ledger": {"first_seq": 3, "last_seq": 9, "last_entry_hash": "ab" * 32}},
    "screened": {"read": 4, "disclosures": 2, "outside_period": 2, "duplicates": 0},
    "folded": {"before_period": 2, "case_events": 0},
    "replay_id": "never-in-the-report",
}


def finding(
    indicator: Indicator,
    strength: Strength = "medium",
    evidence: Sequence[tuple[str, str, Any]] = (("rule.a", "$.a", 1),),
    rule_set: str = "2026.11.0",
) -> Finding:
    return Finding(
        indicator=indicator,
        strength=strength,
        severity="medium",
        evidence=[
            Evidence(field=f, value=v, rule_id=r, explanation=f"{f} is {v}") for r, f, v in evidence
        ],
        rule_set_version=rule_set,
        reference_data_edition="2026.11",
    )


def computed(
    disclosure_id: str,
    findings: Sequence[Finding] = (),
    level: RiskLevel = "low",
    score: int = 10,
    rule_set: str = "2026.11.0",
    entity_id: str = "SUP-1",
) -> FindingsComputed:
    return FindingsComputed(
        disclosure_id=disclosure_id,
        disclosure_event_id=f"event-{disclosure_id}",
        entity_kind="supplier",
        entity_id=entity_id,
        period=Period.model_validate({"start": "2026-01-01", "end": "2026-06-30"}),
        rule_set_version=rule_set,
        rule_set_hash=f"sha256:{rule_set}",
        reference_data_edition="2026.11",
        findings=list(findings),
        judgement=Judgement(
            forced_labour_likely=False,
            risk_level=level,
            score=score,
            confidence=0.8,
            not_assessed=[],
            explanation="judged",
        ),
        chain=[],
    )


def raised(
    entity_id: str,
    disclosure_id: str,
    alert_type: AlertType = "risk_level",
    level: RiskLevel = "high",
    rule_id: str = "rule.a",
) -> AlertRaised:
    return AlertRaised(
        alert_id=f"alert-{entity_id}-{alert_type}",
        dedupe_key=f"t/supplier/{entity_id}/{alert_type}",
        entity_kind="supplier",
        entity_id=entity_id,
        risk_level=level,
        previous_risk_level=None,
        score=70,
        indicators=["debt_bondage"],
        disclosure_id=disclosure_id,
        period_end=date(2026, 6, 30),
        rule_set_version="2026.11.0",
        reference_data_edition="2026.11",
        summary="raised",
        alert_type=alert_type,
        reasons=[
            ReasonCode(
                indicator="debt_bondage",
                strength="strong",
                rule_id=rule_id,
                fields=["$.a"],
                disclosure_id=disclosure_id,
                clears_with="no debt",
            )
        ],
    )


def updated(alert: AlertRaised, change: str, revision: int, disclosure_id: str) -> AlertUpdated:
    return AlertUpdated.model_validate(
        {
            **alert.model_dump(),
            "disclosure_id": disclosure_id,
            "revision": revision,
            "change": change,
            "status": "triaged" if change == "triaged" else "open",
        }
    )


def state(level: RiskLevel | None, score: int | None = None) -> EntityState:
    return EntityState(level, score, "d1", ())


SAME = [computed("d1", [finding("debt_bondage")], "high", 70), computed("d2")]


def sides(**parts: Any) -> Sides:
    base: dict[str, Any] = {
        "replayed": SAME,
        "recorded": {c.disclosure_id: c for c in SAME},
    }
    return Sides(meta=META, **(base | parts))


def test_the_record_replayed_has_no_differences() -> None:
    alerts = [raised("SUP-1", "d1"), raised("SUP-0", "d0")]
    made = report(
        sides(
            recorded_alerts=alerts,
            replay_alerts=alerts,
            refolded_alerts=alerts,
            replay_entities={("supplier", "SUP-1"): state("high", 70)},
            recorded_entities={("supplier", "SUP-1"): state("high", 70)},
        )
    )

    assert made["summary"]["differences"] == 0
    assert made["summary"]["disclosures"] == made["summary"]["recorded"] == 2
    assert made["disclosures"] == made["entities"] == made["alerts"] == made["failures"] == []
    # Only the alert the period's disclosure caused is compared.
    assert made["reproduced"] == {"alerts": 1, "alerts_differing": []}
    assert "**No differences.**" in markdown(made)


def test_the_rule_set_a_finding_names_is_the_replays_choice_not_a_difference() -> None:
    replayed = [
        computed("d1", [finding("debt_bondage", rule_set="2027.1.0")], "high", 70, "2027.1.0"),
        computed("d2", rule_set="2027.1.0"),
    ]
    made = report(sides(replayed=replayed))

    assert made["summary"]["differences"] == 0
    assert made["recorded_under"] == [
        {
            "rule_set_version": "2026.11.0",
            "rule_set_hash": "sha256:2026.11.0",
            "reference_data_edition": "2026.11",
            "disclosures": 2,
        }
    ]


def test_findings_added_removed_and_changed_down_to_the_evidence() -> None:
    recorded = [
        computed(
            "d1",
            [
                finding(
                    "debt_bondage", evidence=[("debt.a", "$.debt", 3), ("debt.b", "$.loan", True)]
                ),
                finding("excessive_overtime"),
            ],
            "high",
            70,
        ),
        computed("d2", [finding("deception")]),
    ]
    replayed = [
        computed(
            "d1",
            [
                finding(
                    "debt_bondage", evidence=[("debt.a", "$.debt", 4), ("debt.c", "$.fee", 1.5)]
                ),
                finding("isolation"),
            ],
            "high",
            65,
        ),
        computed("d2", [finding("deception", strength="strong")]),
        computed("d3", [finding("isolation")]),
    ]
    made = report(sides(replayed=replayed, recorded={c.disclosure_id: c for c in recorded}))

    by_id = {d["disclosure_id"]: d for d in made["disclosures"]}
    assert {(f["indicator"], f["difference"]) for f in by_id["d1"]["findings"]} == {
        ("debt_bondage", "changed"),
        ("excessive_overtime", "removed"),
        ("isolation", "added"),
    }
    [debt] = [f for f in by_id["d1"]["findings"] if f["indicator"] == "debt_bondage"]
    assert [
        (e["rule_id"], _value(e["recorded"]), _value(e["replay"])) for e in debt["evidence"]
    ] == [("debt.a", 3, 4), ("debt.b", True, None), ("debt.c", None, 1.5)]
    assert by_id["d1"]["judgement_changed"]  # the score moved
    # A strength alone: one row with no rule.
    [deception] = by_id["d2"]["findings"]
    assert deception["evidence"] == [
        {"rule_id": None, "field": None, "recorded": None, "replay": None}
    ]
    assert not by_id["d2"]["judgement_changed"]
    # Never recorded: every finding is added, and the judgement is new.
    assert by_id["d3"]["recorded"] is None
    assert by_id["d3"]["judgement_changed"]
    summary = made["summary"]
    assert (
        summary["findings_added"],
        summary["findings_removed"],
        summary["findings_changed"],
    ) == (2, 1, 2)
    assert summary["recorded"] == 2
    assert summary["differences"] == 3


def _value(evidence: dict[str, Any] | None) -> Any:
    return None if evidence is None else evidence["value"]


def test_entities_whose_level_moves_and_not_those_whose_score_does() -> None:
    made = report(
        sides(
            recorded_entities={
                ("supplier", "SUP-1"): state("high", 70),
                ("supplier", "SUP-2"): state("medium", 40),
            },
            replay_entities={
                ("supplier", "SUP-1"): state("medium", 40),
                ("supplier", "SUP-2"): state("medium", 30),
                ("recruiter", "REC-1"): state(None),
            },
        )
    )

    assert [
        (e["entity_id"], e["recorded"]["risk_level"], e["replay"]["risk_level"])
        for e in made["entities"]
    ] == [("SUP-1", "high", "medium")]


def test_alerts_that_appear_disappear_or_change_and_what_is_not_compared() -> None:
    gone = raised("SUP-1", "d1")
    kept = raised("SUP-2", "d1", "strong_indicator")
    recorded = [
        gone,
        kept,
        updated(kept, "triaged", 1, "d1"),  # a status change: not compared
        updated(kept, "evidence_added", 2, "d2"),
        raised("SUP-9", "d0"),  # caused before the period
    ]
    replay = [
        kept,
        raised("SUP-3", "d2", "forced_labour"),
        raised("SUP-9", "d0", level="critical"),
    ]
    made = report(sides(recorded_alerts=recorded, replay_alerts=replay, refolded_alerts=recorded))

    verdicts = {
        a["entity_id"]: (a["verdict"], len(a["recorded"]), len(a["replay"])) for a in made["alerts"]
    }
    assert verdicts == {
        "SUP-1": ("disappears", 1, 0),
        "SUP-2": ("changes", 2, 1),
        "SUP-3": ("appears", 0, 1),
    }
    [appears] = [a for a in made["alerts"] if a["verdict"] == "appears"]
    assert appears["replay"][0]["reasons"][0]["rule_id"] == "rule.a"
    assert appears["replay"][0]["disclosure_id"] == "d2"
    assert made["summary"]["differences"] == 3


def test_a_record_its_own_findings_do_not_give_again_is_said() -> None:
    alert = raised("SUP-1", "d1")
    made = report(sides(recorded_alerts=[alert], replay_alerts=[alert], refolded_alerts=[]))

    assert made["summary"]["differences"] == 0
    assert made["reproduced"]["alerts_differing"] == [
        {"alert_id": alert.alert_id, "dedupe_key": alert.dedupe_key, "verdict": "disappears"}
    ]
    assert "The record is not reproduced for 1 alerts" in markdown(made)


def test_failures_are_differences_and_say_where() -> None:
    failures = [
        {
            "_id": 0,
            "verdict": "unreadable",
            "reason": "not JSON",
            "place": {"seq": 7, "topic": "x", "partition": 0, "offset": 1},
        },
        {"stage": "ledger", "seq": 5, "reason": "ValidationError: bad"},
        {
            "_id": 1,
            "verdict": "failed",
            "reason": "boom",
            "event_id": "e",
            "disclosure_id": "d9",
            "place": {
                "seq": None,
                "topic": "disclosures.supplier.v1",
                "partition": 2,
                "offset": 40,
            },
        },
    ]
    made = report(sides(failures=failures))

    assert made["summary"]["failures"] == made["summary"]["differences"] == 3
    assert [(f["stage"], f["where"]) for f in made["failures"]] == [
        ("failed", "disclosures.supplier.v1:2:40"),
        ("ledger", "ledger entry 5"),
        ("unreadable", "ledger entry 7"),
    ]


def test_the_same_report_is_the_same_bytes_and_says_nothing_of_when_or_which_replay(
    tmp_path: Path,
) -> None:
    recorded = [computed("d1", [finding("debt_bondage")], "high", 70)]
    replayed = [
        computed("d1", [finding("debt_bondage", evidence=[("rule.a", "$.a", "x|y")])], "high", 70)
    ]
    parts = {
        "replayed": replayed,
        "recorded": {"d1": recorded[0]},
        "recorded_alerts": [raised("SUP-1", "d1")],
    }
    write_report(report(sides(**parts)), tmp_path / "one")
    write_report(report(sides(**parts)), tmp_path / "two")

    one = {p.name: p.read_bytes() for p in sorted((tmp_path / "one").iterdir())}
    two = {p.name: p.read_bytes() for p in sorted((tmp_path / "two").iterdir())}
    assert one == two
    text = b"".join(one.values()).decode()
    assert "never-in-the-report" not in text
    assert "\r" not in text
    rows = list(csv.DictReader(io.StringIO(one["findings.csv"].decode())))
    assert [
        (r["rule_id"], json.loads(r["recorded_value"]), json.loads(r["replay_value"])) for r in rows
    ] == [("rule.a", 1, "x|y")]
    assert "x\\|y" in one["report.md"].decode()  # a pipe would split a Markdown cell


def test_a_long_table_is_cut_in_markdown_and_whole_in_csv(tmp_path: Path) -> None:
    many = [computed(f"d{i:04d}") for i in range(MARKDOWN_ROWS + 5)]
    made = report(sides(replayed=many, recorded={}))
    write_report(made, tmp_path)

    assert "… and 5 more rows in `disclosures.csv`." in (tmp_path / "report.md").read_text()
    assert len((tmp_path / "disclosures.csv").read_text().splitlines()) == MARKDOWN_ROWS + 6
