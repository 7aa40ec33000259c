"""The engine as a whole: judgement, context, rule sets as versioned data, and their checks.
Each rule's own cases are in test_rules*.py; properties over generated disclosures in
test_properties.py."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from laboursight_schemas.findings import Evidence, Finding, Indicator, Severity, Strength
from laboursight_screening.engine import (
    SHIPPED,
    SHIPPED_FOLDER,
    Catalogue,
    compile_rule_set,
    screen,
)
from laboursight_screening.engine.judgement import forced_labour_likely, judge
from laboursight_screening.engine.ruleset import RuleSet
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER
from tests.screening.support import REFERENCE, RULES, parse, run

CURRENT = RULES.version


def test_clean_site_is_low_risk_with_only_the_commodity_context() -> None:
    result = run(CLEAN_SUPPLIER)
    assert [f.indicator for f in result.findings] == ["high_risk_origin_good"]
    assert result.judgement.risk_level == "low"
    assert result.judgement.score == 0
    assert not result.judgement.forced_labour_likely
    assert "not a finding about this supplier" in result.judgement.explanation


def test_bonded_site_is_critical_and_names_its_rule_set_and_reference_edition() -> None:
    result = run(BONDED_SUPPLIER)
    assert {f.indicator for f in result.findings} == {
        "retention_of_identity_documents",
        "recruitment_fees_charged_to_workers",
        "debt_bondage",
        "excessive_overtime",
        "withholding_of_wages",
        "high_risk_origin_good",
    }
    assert result.judgement.forced_labour_likely
    assert result.judgement.risk_level == "critical"
    assert {(f.rule_set_version, f.reference_data_edition) for f in result.findings} == {
        (CURRENT, REFERENCE.edition)
    }


def test_a_sparse_disclosure_has_no_finding_and_no_confidence() -> None:
    sparse = {
        "kind": "supplier",
        "period": {"start": "2026-01-01", "end": "2026-03-31"},
        "supplier": {"supplier_id": "S-SPARSE"},
    }
    result = run(sparse)
    assert result.findings == ()
    assert result.judgement.confidence == 0
    assert result.judgement.not_assessed == RULES.assessable["supplier"]
    assert run(CLEAN_SUPPLIER).judgement.confidence > 0


def test_confidence_counts_only_what_a_recruiter_disclosure_can_show() -> None:
    assert "isolation" not in RULES.assessable["recruiter"]
    assert "unlicensed_or_uncertified_recruiter" in RULES.assessable["recruiter"]
    recruiter = {
        "kind": "recruiter",
        "period": {"start": "2026-01-01", "end": "2026-06-30"},
        "recruiter": {"recruiter_id": "REC-1"},
        "documents": {"holds_worker_documents": False},
    }
    judgement = run(recruiter).judgement
    assert judgement.confidence == round(1 / len(RULES.assessable["recruiter"]), 4)
    assert "retention_of_identity_documents" not in judgement.not_assessed


@pytest.mark.parametrize(
    ("strong", "medium", "weak", "likely"),
    [
        (2, 0, 0, True),
        (1, 1, 0, True),
        (1, 0, 1, True),
        (0, 3, 0, True),
        (0, 2, 1, True),
        (1, 0, 0, False),
        (0, 2, 0, False),
        (0, 1, 2, False),
        (0, 0, 5, False),
        (0, 0, 0, False),
    ],
)
def test_ilo_combination_rule(strong: int, medium: int, weak: int, likely: bool) -> None:
    assert forced_labour_likely(strong, medium, weak) is likely


def finding(indicator: Indicator, strength: Strength, severity: Severity) -> Finding:
    evidence = Evidence(field="$.x", value=True, rule_id="test.rule", explanation="test")
    return Finding(
        indicator=indicator,
        strength=strength,
        severity=severity,
        evidence=[evidence],
        rule_set_version="test",
        reference_data_edition="test",
    )


@pytest.mark.parametrize(
    ("findings", "level"),
    [
        ([], "low"),
        ([finding("isolation", "weak", "low")], "low"),
        ([finding("isolation", "weak", "low"), finding("deception", "weak", "low")], "low"),
        ([finding("isolation", "weak", "medium")], "medium"),
        ([finding("deception", "strong", "medium")], "medium"),
        ([finding("abuse_of_vulnerability", "medium", "critical")], "high"),
        ([finding("deception", "strong", "high")], "high"),
        (
            [finding("deception", "medium", "high"), finding("isolation", "medium", "high")],
            "medium",
        ),
        (
            [
                finding("deception", "medium", "high"),
                finding("isolation", "medium", "high"),
                finding("excessive_overtime", "weak", "low"),
            ],
            "high",
        ),
        ([finding("deception", "strong", "high"), finding("isolation", "weak", "low")], "high"),
        (
            [finding("physical_and_sexual_violence", "strong", "critical")],
            "high",
        ),
        (
            [
                finding("physical_and_sexual_violence", "strong", "critical"),
                finding("isolation", "weak", "low"),
            ],
            "critical",
        ),
        (
            [finding("deception", "strong", "high"), finding("debt_bondage", "strong", "high")],
            "critical",
        ),
        # Recruitment findings weigh on the level but not on the ILO combination rule.
        (
            [
                finding("deception", "strong", "high"),
                finding("recruitment_fees_charged_to_workers", "medium", "high"),
            ],
            "high",
        ),
        ([finding("high_risk_origin_good", "weak", "low")], "low"),
    ],
)
def test_risk_level(findings: list[Finding], level: str) -> None:
    judgement = judge(findings, set(), RULES.assessable["supplier"], RULES.scoring)
    assert judgement.risk_level == level


def test_context_never_changes_the_judgement() -> None:
    base = [finding("deception", "strong", "high")]
    context = finding("high_risk_origin_good", "weak", "low")
    scoring = RULES.scoring
    without = judge(base, set(), [], scoring)
    with_context = judge([*base, context], set(), [], scoring)
    assert (with_context.risk_level, with_context.score) == (without.risk_level, without.score)
    assert judge([context], set(), [], scoring).forced_labour_likely is False


# --- rule sets as versioned data --------------------------------------------------------------


def shipped_raw() -> dict[str, Any]:
    raw = yaml.safe_load((SHIPPED_FOLDER / f"{CURRENT}.yaml").read_text("utf-8"))
    assert isinstance(raw, dict)
    return raw


def with_overtime_ceiling(raw: dict[str, Any], version: str, hours: int) -> dict[str, Any]:
    for rule in raw["rules"]:
        if rule["id"] == "overtime.average_above_ceiling":
            rule["when"]["gt"] = hours
    return {**raw, "version": version}


def publish(folder: Path, raw: dict[str, Any], name: str | None = None) -> None:
    target = folder / f"{name or raw['version']}.yaml"
    target.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def test_the_content_hash_ignores_layout_and_follows_content() -> None:
    raw = shipped_raw()
    shipped = SHIPPED.load(CURRENT).content_hash()
    relaid = RuleSet.model_validate(yaml.safe_load(yaml.safe_dump(raw, sort_keys=True)))
    assert relaid.content_hash() == shipped
    changed = RuleSet.model_validate(with_overtime_ceiling(shipped_raw(), CURRENT, 48))
    assert changed.content_hash() != shipped


def test_several_versions_coexist_and_are_selected_by_name(tmp_path: Path) -> None:
    publish(tmp_path, with_overtime_ceiling(shipped_raw(), "2027.1.0", 48))
    catalogue = Catalogue(SHIPPED_FOLDER, tmp_path)
    assert catalogue.versions() == [*SHIPPED.versions(), "2027.1.0"]
    assert catalogue.current_version() == "2027.1.0"
    fifty_hours = parse(
        {**CLEAN_SUPPLIER, "working_time": {"avg_weekly_hours": 50, "max_weekly_hours": 50}}
    )

    def overtime(version: str) -> bool:
        rules = catalogue.compiled(version)
        found = screen(fifty_hours, rules, REFERENCE).findings
        return any(f.indicator == "excessive_overtime" for f in found)

    assert (overtime(CURRENT), overtime("2027.1.0")) == (False, True)
    assert catalogue.compiled("2027.1.0").content_hash != catalogue.compiled(CURRENT).content_hash


def test_a_published_version_cannot_be_shadowed_or_misnamed(tmp_path: Path) -> None:
    publish(tmp_path, shipped_raw())
    with pytest.raises(ValueError, match="published in two folders"):
        Catalogue(SHIPPED_FOLDER, tmp_path).versions()
    misnamed = tmp_path / "other"
    misnamed.mkdir()
    publish(misnamed, {**shipped_raw(), "version": "2027.2.0"}, name="2027.3.0")
    with pytest.raises(ValueError, match=re.escape("declares version 2027.2.0")):
        Catalogue(misnamed).load("2027.3.0")
    known = ", ".join(SHIPPED.versions())
    with pytest.raises(ValueError, match=re.escape(f"unknown rule set '1.0.0'; known: {known}")):
        SHIPPED.load("1.0.0")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"when": {"field": "documents.held_by_whom", "eq": "employer"}}, "held_by_whom"),
        ({"when": {"measure": "fee_weeks", "gt": 1}}, "unknown measure 'fee_weeks'"),
        ({"when": {"field": "item.amount", "gt": 1}}, "outside a for_each"),
        ({"explanation": "Held by {documents.holder}."}, "documents.holder"),
        ({"for_each": "documents.held_by"}, "not a list of records"),
    ],
)
def test_a_rule_set_with_a_mistake_fails_when_loaded(change: dict[str, Any], message: str) -> None:
    raw = shipped_raw()
    raw["rules"][0] = {**raw["rules"][0], **change}
    with pytest.raises(ValueError, match=message):
        compile_rule_set(RuleSet.model_validate(raw))


def test_rule_ids_are_unique_and_every_indicator_is_described() -> None:
    raw = shipped_raw()
    with pytest.raises(ValueError, match="duplicate rule ids"):
        RuleSet.model_validate({**raw, "rules": [raw["rules"][0], raw["rules"][0]]})
    with pytest.raises(ValueError, match="without a description"):
        RuleSet.model_validate({**raw, "indicators": {}})
