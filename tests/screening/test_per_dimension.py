"""Rule set 2026.12.0 (issue 11): per-dimension judgement, overtime within limits, wording that
flags, thresholds with sources, contradictions surfaced; and 2026.11.0 exactly as before."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given

from laboursight_schemas.envelope import FindingsEvent, SupplierDisclosureEvent
from laboursight_schemas.reference import load_reference
from laboursight_screening.engine import SHIPPED, SHIPPED_FOLDER, Catalogue, Screening, screen
from laboursight_screening.engine.ruleset import RuleSet
from laboursight_screening.engine.scope import Scope
from laboursight_screening.handlers import findings_event
from laboursight_screening.method import document
from tests.factories import CLEAN_RECRUITER, CLEAN_SUPPLIER, amended, supplier_event
from tests.screening.support import REFERENCE, parse, resolve
from tests.screening.test_properties import PROPERTY, canonical
from tests.strategies import disclosures

PUBLISHED = "2026.11.0"
CANDIDATE = "2026.12.0"
NEW = SHIPPED.compiled(CANDIDATE)
OLD = SHIPPED.compiled(PUBLISHED)
GOLDEN = Path(__file__).resolve().parents[2] / "schemas" / "golden"


def screened(raw: dict[str, Any], version: str = CANDIDATE) -> Screening:
    return screen(parse(raw), SHIPPED.compiled(version), REFERENCE)


def rules_fired(result: Screening) -> set[str]:
    return {e.rule_id for f in result.findings for e in f.evidence}


def site(changes: dict[str, Any]) -> dict[str, Any]:
    """The clean supplier with fields set by dotted path."""
    return amended(CLEAN_SUPPLIER, changes)


# --- 2026.11.0 stays published and reproducible; 2026.12.0, promoted, is the default ---------


def test_the_earlier_rule_set_keeps_its_hash_and_the_promoted_one_is_the_default() -> None:
    assert OLD.content_hash == (
        "sha256:bc37286993eb4a268cc45de9c7686d8ea57fab48a8de817237117298af079020"
    )
    assert SHIPPED.versions() == [PUBLISHED, CANDIDATE]
    assert SHIPPED.current_version() == CANDIDATE
    assert {SHIPPED.load(v).status for v in SHIPPED.versions()} == {"published"}


def test_the_golden_findings_of_2026_11_0_are_reproduced_byte_for_byte() -> None:
    recorded = FindingsEvent.model_validate_json(
        (GOLDEN / "findings-computed" / "1.2.json").read_bytes()
    )
    disclosure = SupplierDisclosureEvent.model_validate_json(
        (GOLDEN / "supplier-disclosure-submitted" / "1.1.json").read_bytes()
    )
    assert recorded.data.disclosure_event_id == disclosure.id
    reference = load_reference(recorded.data.reference_data_edition)
    replayed = findings_event(disclosure, OLD, reference)
    # The golden findings (data version 1.2) predate the workforce, and the golden disclosure
    # (1.1) names; the judgement and everything else is the same.
    added = {"entity_name", "entity_workforce"}
    assert replayed.data.model_dump_json(exclude=added) == (
        recorded.data.model_dump_json(exclude=added)
    )
    assert replayed.id == recorded.id


def test_the_method_of_2026_12_0_says_which_reading_it_flags_and_never_that_labour_is_forced() -> (
    None
):
    text = document(CANDIDATE)
    assert "Forced labour is likely" not in text
    assert "Meets the ILO/EC indicator threshold for forced labour — verification needed" in text
    for rule in SHIPPED.load(CANDIDATE).rules:
        for ref in rule.ilo_ec:
            assert f"**ILO/EC:** {ref.dimension}, “{ref.indicator}”, source grade" in text
        assert rule.ilo_ec or f"- `{rule.id}`: {rule.source_note}" in text
        for threshold in rule.thresholds:
            row = f"| `{rule.id}` | `{threshold.subject}` | {threshold.value:g} | {threshold.source} |"
            assert row in text


# --- 1. per-dimension combination -----------------------------------------------------------


COMPELLED_46H_NO_PAYSLIPS = {
    "working_time.avg_weekly_hours": 46,
    "working_time.max_weekly_hours": 48,
    "working_time.overtime_voluntary": False,
    "wages.payslips_provided": False,
}


def test_compelled_overtime_at_46_hours_and_missing_payslips_do_not_meet_the_threshold() -> None:
    raw = site(COMPELLED_46H_NO_PAYSLIPS)
    assert screened(raw, PUBLISHED).judgement.forced_labour_likely  # what issue 11 corrects
    judgement = screened(raw).judgement
    assert not judgement.forced_labour_likely
    assert judgement.dimensions_positive == []
    assert judgement.elements_present == []
    assert judgement.explanation.startswith(
        "Does not meet the ILO/EC indicator threshold for forced labour"
    )


def test_indicators_are_judged_per_dimension_never_pooled() -> None:
    # One strong indicator of coercion, one medium of exploitation: pooled, that met the rule.
    raw = site({"documents.held_by": "employer", "wages.paid_at_least_minimum_wage": False})
    raw["documents"].pop("workers_with_documents_held_pct")
    assert screened(raw, PUBLISHED).judgement.forced_labour_likely
    judgement = screened(raw).judgement
    assert judgement.dimensions_positive == []
    assert not judgement.forced_labour_likely
    assert judgement.elements_present == ["menace_of_penalty"]


def test_one_source_indicator_counts_once_however_many_rules_show_it() -> None:
    # Average and peak above 60 and no rest day: all "excessive working days or hours".
    raw = site(
        {
            "working_time.avg_weekly_hours": 66,
            "working_time.max_weekly_hours": 70,
            "working_time.rest_days_per_week": 0,
        }
    )
    result = screened(raw)
    assert rules_fired(result) == {
        "overtime.average_above_ceiling",
        "overtime.peak_above_ceiling",
        "overtime.no_weekly_rest_day",
    }
    assert result.judgement.dimensions_positive == []
    with_crowding = screened({**raw, "living_conditions": {"sq_m_per_worker": 3.5}})
    assert with_crowding.judgement.dimensions_positive == ["exploitation"]


def test_the_threshold_needs_both_involuntariness_and_menace_of_penalty() -> None:
    cannot_resign = site({"movement.free_to_resign": False})
    assert screened(cannot_resign).judgement.elements_present == ["involuntariness"]
    assert not screened(cannot_resign).judgement.forced_labour_likely
    both = amended(cannot_resign, {"documents.held_by": "employer"})
    both["documents"].pop("workers_with_documents_held_pct")
    judgement = screened(both).judgement
    assert judgement.elements_present == ["involuntariness", "menace_of_penalty"]
    assert judgement.forced_labour_likely
    assert judgement.explanation.startswith(
        "Meets the ILO/EC indicator threshold for forced labour — verification needed: "
        "involuntariness shown (movement.not_free_to_resign); menace of penalty shown "
        "(documents.held_without_safeguards)"
    )


def test_documents_kept_without_access_and_debt_make_coercion_at_destination_positive() -> None:
    raw = site(
        {
            "documents.held_by": "employer",
            "documents.workers_with_documents_held_pct": 80,
            "documents.free_access_on_request": False,
            "wages.wage_deductions_for_debt": True,
        }
    )
    judgement = screened(raw).judgement
    assert judgement.dimensions_positive == ["coercion_at_destination"]
    assert judgement.forced_labour_likely
    assert judgement.risk_level == "critical"


# --- 2. overtime ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fired"),
    [
        ({"working_time.overtime_voluntary": False}, set()),
        (
            {"working_time.overtime_voluntary": False, "working_time.max_weekly_hours": 62},
            {"overtime.compelled_beyond_limits", "overtime.peak_above_ceiling"},
        ),
        (
            {"working_time.overtime_voluntary": False, "incidents.threats_reported": True},
            {"overtime.compelled_under_threat", "threats.reported"},
        ),
    ],
)
def test_required_overtime_counts_only_beyond_the_limit_or_under_threat(
    changes: dict[str, Any], fired: set[str]
) -> None:
    raw = site(changes)  # the clean site works 48 hours on average, 58 at most
    assert rules_fired(screened(raw)) == fired
    # 2026.11.0 found any overtime that cannot be refused a strong indicator.
    assert "overtime.not_voluntary" in rules_fired(screened(raw, PUBLISHED))


def test_compelled_overtime_beyond_the_limit_under_threat_meets_the_threshold() -> None:
    raw = site(
        {
            "working_time.overtime_voluntary": False,
            "working_time.avg_weekly_hours": 66,
            "working_time.max_weekly_hours": 78,
            "incidents.threats_reported": True,
        }
    )
    judgement = screened(raw).judgement
    assert judgement.elements_present == ["involuntariness", "menace_of_penalty"]
    assert judgement.forced_labour_likely


# --- 3. wording and context -----------------------------------------------------------------


def test_context_is_reported_beside_the_findings_and_never_among_them() -> None:
    result = screened(CLEAN_SUPPLIER)
    assert result.findings == ()
    assert [f.indicator for f in result.context or ()] == ["high_risk_origin_good"]
    assert "Context, not a finding about this company" in result.judgement.explanation
    event = json.loads(
        findings_event(supplier_event(CLEAN_SUPPLIER), NEW, REFERENCE).model_dump_json()
    )
    assert event["data"]["findings"] == []
    assert [f["indicator"] for f in event["data"]["context"]] == ["high_risk_origin_good"]
    assert event["data"]["judgement"]["dimensions_positive"] == []


def test_events_of_2026_11_0_carry_none_of_the_new_fields() -> None:
    event = json.loads(
        findings_event(supplier_event(CLEAN_SUPPLIER), OLD, REFERENCE).model_dump_json()
    )
    assert "context" not in event["data"]
    assert "contradictions" not in event["data"]
    assert set(event["data"]["judgement"]) == {
        "forced_labour_likely",
        "risk_level",
        "score",
        "confidence",
        "not_assessed",
        "explanation",
    }
    assert [f["indicator"] for f in event["data"]["findings"]] == ["high_risk_origin_good"]


# --- 4. thresholds with their sources -------------------------------------------------------


def test_a_full_monthly_pay_period_of_delay_already_counts() -> None:
    raw = site({"wages.max_payment_delay_days": 30})
    assert rules_fired(screened(raw)) == {"wages.payment_delayed"}
    assert rules_fired(screened(raw, PUBLISHED)) == {"origin.dol_listed_good"}  # context only


def candidate_raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((SHIPPED_FOLDER / f"{CANDIDATE}.yaml").read_text("utf-8"))
    return {**raw, "status": "candidate"}


def rule_index(raw: dict[str, Any], rule_id: str) -> int:
    return next(i for i, rule in enumerate(raw["rules"]) if rule["id"] == rule_id)


def test_every_threshold_needs_a_source_and_every_grade_its_source() -> None:
    raw = candidate_raw()
    raw["rules"][rule_index(raw, "wages.payment_delayed")]["thresholds"] = []
    missing = "threshold wages.max_payment_delay_days 30 has no source"
    with pytest.raises(ValueError, match=re.escape(missing)):
        RuleSet.model_validate(raw)
    raw = candidate_raw()
    peak = raw["rules"][rule_index(raw, "overtime.peak_above_ceiling")]
    peak["ilo_ec"] = [{"dimension": "exploitation", "indicator": "Excessive hours"}]
    with pytest.raises(ValueError, match="'Excessive hours' is not an indicator of Exploitation"):
        RuleSet.model_validate(raw)
    raw = candidate_raw()
    raw["rules"][rule_index(raw, "wages.no_payslips")]["strength"] = "medium"
    with pytest.raises(ValueError, match="strength is not its strongest counted grade"):
        RuleSet.model_validate(raw)
    raw = candidate_raw()
    raw["rules"][rule_index(raw, "threats.reported")]["ilo_ec"][0]["counted_as"] = "strong"
    with pytest.raises(ValueError, match="counts 'Threats of denunciation to authorities' above"):
        RuleSet.model_validate(raw)


def test_pooled_rule_sets_cannot_ask_for_what_only_per_dimension_judging_does() -> None:
    raw = yaml.safe_load((SHIPPED_FOLDER / f"{PUBLISHED}.yaml").read_text("utf-8"))
    with pytest.raises(ValueError, match="need judgement: per_dimension"):
        RuleSet.model_validate({**raw, "context": "separate"})


# --- 5. contradictions ------------------------------------------------------------------------


def test_documents_held_by_the_worker_beside_a_share_held_is_a_contradiction_read_the_worse_way() -> (
    None
):
    raw = site(
        {
            "documents.held_by": "worker",
            "documents.workers_with_documents_held_pct": 40,
            "documents.free_access_on_request": False,
        }
    )
    assert "documents.held_without_safeguards" not in rules_fired(screened(raw, PUBLISHED))
    result = screened(raw)
    assert "documents.held_without_safeguards" in rules_fired(result)
    (contradiction,) = result.contradictions or ()
    assert contradiction.rule_id == "contradiction.documents_held_by_worker"
    assert contradiction.fields == (
        "$.documents.held_by",
        "$.documents.workers_with_documents_held_pct",
        "$.documents.free_access_on_request",
    )
    assert contradiction.values == ("worker", 40, False)
    assert result.judgement.contradictions == ["contradiction.documents_held_by_worker"]
    assert "contradiction.documents_held_by_worker" in result.judgement.explanation
    consistent = screened(amended(raw, {"documents.held_by": "employer"}))
    assert consistent.contradictions == ()
    assert result.judgement.confidence == pytest.approx(consistent.judgement.confidence - 0.1)


def test_a_recruiter_that_denies_sub_agents_it_counts_is_assessed_on_the_count() -> None:
    raw = {
        **CLEAN_RECRUITER,
        "subagents": {"uses_subagents": False, "subagents_used": 4, "subagents_named": 1},
    }
    assert "undisclosed_subagents" not in {f.indicator for f in screened(raw, PUBLISHED).findings}
    result = screened(raw)
    assert "subagents.not_all_named" in rules_fired(result)
    assert [c.rule_id for c in result.contradictions or ()] == [
        "contradiction.subagents_denied_but_counted"
    ]


def test_a_recruiter_with_no_licence_at_all_is_unknown_never_fine() -> None:
    raw = {**CLEAN_RECRUITER, "recruiter": {"recruiter_id": "REC-NOLIC", "country": "NP"}}
    judgement = screened(raw).judgement
    assert "unlicensed_or_uncertified_recruiter" in judgement.not_assessed
    assert judgement.confidence < screened(CLEAN_RECRUITER).judgement.confidence


# --- the candidate is published, selectable by name, and holds the engine's properties --------


def test_a_candidate_is_never_the_default_but_is_selected_by_name(tmp_path: Path) -> None:
    raw = candidate_raw()
    (tmp_path / "2027.1.0.yaml").write_text(
        yaml.safe_dump({**raw, "version": "2027.1.0"}), encoding="utf-8"
    )
    catalogue = Catalogue(SHIPPED_FOLDER, tmp_path)
    assert catalogue.current_version() == CANDIDATE
    assert catalogue.compiled("2027.1.0").content_hash != NEW.content_hash
    only_candidates = Catalogue(tmp_path)
    with pytest.raises(ValueError, match="every one is a candidate"):
        only_candidates.current_version()


def test_the_status_is_not_content() -> None:
    promoted = RuleSet.model_validate({**candidate_raw(), "status": "published"})
    assert promoted.content_hash() == NEW.content_hash


@PROPERTY
@given(disclosures())
def test_the_candidate_screens_deterministically_from_known_fields(raw: dict[str, Any]) -> None:
    disclosure = parse(raw)
    result = screen(disclosure, NEW, REFERENCE)
    assert canonical(screen(disclosure, NEW, REFERENCE)) == canonical(result)
    scope = Scope(disclosure, REFERENCE)
    generated = NEW.truths[disclosure.kind].evaluate(disclosure, scope)
    for rule, truth in zip(NEW.rules[disclosure.kind], generated, strict=True):
        assert truth == (rule.each_truth(scope) if rule.for_each else rule.truth(scope))
    for finding in (*result.findings, *(result.context or ())):
        for evidence in finding.evidence:
            assert resolve(raw, evidence.field) == evidence.value
    for contradiction in result.contradictions or ():
        for field, value in zip(contradiction.fields, contradiction.values, strict=True):
            assert resolve(raw, field) == value
