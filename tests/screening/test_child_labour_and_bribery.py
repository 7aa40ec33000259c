"""Rule set 2026.12.0 (issue 11, items 3 and 7): child labour and hazardous work by under-18s
apart from abuse of vulnerability (ILO C138, C182), unknown ages kept unknown, contradictions
between the young-worker fields, and bribes apart from worker-paid fees; 2026.11.0 as before."""

from typing import Any

import pytest

from laboursight_screening.engine import SHIPPED, Screening, screen
from tests.factories import CLEAN_RECRUITER, CLEAN_SUPPLIER, amended
from tests.screening.support import REFERENCE, parse, resolve

NEW, OLD = SHIPPED.compiled("2026.12.0"), SHIPPED.compiled("2026.11.0")
YOUNG = "$.workforce."


def screened(raw: dict[str, Any], rules: Any = NEW) -> Screening:
    result = screen(parse(raw), rules, REFERENCE)
    for finding in result.findings:
        for evidence in finding.evidence:
            assert resolve(raw, evidence.field) == evidence.value
    return result


def site(**workforce: Any) -> dict[str, Any]:
    return amended(CLEAN_SUPPLIER, {f"workforce.{k}": v for k, v in workforce.items()})


def found(result: Screening) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        f.indicator: (f.strength, f.severity, {e.field: e.value for e in f.evidence})
        for f in result.findings
    }


@pytest.mark.parametrize("age", [15, 16, 17])
def test_workers_of_15_to_17_in_work_neither_hazardous_nor_at_night_make_no_finding(
    age: int,
) -> None:
    result = screened(
        site(
            workers_under_18=12,
            youngest_worker_age=age,
            under_18_in_hazardous_work=0,
            under_18_in_night_work=False,
        )
    )
    assert result.findings == ()
    assert result.judgement.risk_level == "low"
    assert not {"child_labour", "hazardous_work_by_children"} & set(result.judgement.not_assessed)


def test_a_worker_of_14_is_child_labour_with_the_ages_in_evidence() -> None:
    result = screened(site(workers_under_18=3, youngest_worker_age=14))
    strength, severity, evidence = found(result)["child_labour"]
    assert (strength, severity) == ("strong", "high")
    assert evidence == {YOUNG + "youngest_worker_age": 14, YOUNG + "workers_under_18": 3}
    assert result.judgement.risk_level == "high"
    assert result.judgement.forced_labour_likely is False
    assert "abuse_of_vulnerability" not in found(result)
    assert "judged on its own" in result.judgement.explanation


def test_below_the_light_work_age_of_13_child_labour_is_critical() -> None:
    assert found(screened(site(workers_under_18=1, youngest_worker_age=12)))["child_labour"][1] == (
        "critical"
    )
    assert found(screened(site(workers_under_18=1, youngest_worker_age=13)))["child_labour"][1] == (
        "high"
    )


def test_a_16_year_old_in_hazardous_work_is_a_worst_form_with_ages_and_hazard() -> None:
    hazard = "mixing dyes and hypochlorite bleach"
    result = screened(
        site(
            workers_under_18=6,
            youngest_worker_age=16,
            under_18_in_hazardous_work=2,
            youngest_in_hazardous_work_age=16,
            hazard_description=hazard,
        )
    )
    assert set(found(result)) == {"hazardous_work_by_children"}
    strength, severity, evidence = found(result)["hazardous_work_by_children"]
    assert (strength, severity) == ("strong", "critical")
    assert evidence == {
        YOUNG + "under_18_in_hazardous_work": 2,
        YOUNG + "youngest_in_hazardous_work_age": 16,
        YOUNG + "youngest_worker_age": 16,
        YOUNG + "hazard_description": hazard,
    }
    # Alertable in its own right: high risk with no ILO/EC dimension positive.
    assert result.judgement.risk_level == "high"
    assert result.judgement.dimensions_positive == []


def test_night_work_alone_is_hazardous_work_of_high_severity() -> None:
    result = screened(site(workers_under_18=4, youngest_worker_age=17, under_18_in_night_work=4))
    assert found(result)["hazardous_work_by_children"][:2] == ("strong", "high")


def test_a_head_count_of_under_18s_without_ages_stays_unknown() -> None:
    result = screened(site(workers_under_18=5))
    assert result.findings == ()
    assert {"child_labour", "hazardous_work_by_children"} <= set(result.judgement.not_assessed)


def test_site_hazards_without_ppe_are_not_read_as_children_doing_them() -> None:
    raw = amended(site(workers_under_18=5), {"living_conditions.hazardous_work_without_ppe": True})
    assert set(found(screened(raw))) == {"abusive_working_and_living_conditions"}


@pytest.mark.parametrize(
    ("workforce", "contradiction", "indicator"),
    [
        (
            {"workers_under_18": 0, "youngest_worker_age": 16},
            "contradiction.no_under_18_but_young_ages",
            None,
        ),
        (
            {"workers_under_18": 0, "youngest_worker_age": 14},
            "contradiction.no_under_18_but_young_ages",
            "child_labour",
        ),
        (
            {"workers_under_18": 0, "under_18_in_night_work": True},
            "contradiction.no_under_18_but_under_18_at_work",
            "hazardous_work_by_children",
        ),
        (
            {"workers_under_18": 2, "under_18_in_hazardous_work": 5},
            "contradiction.more_under_18_in_hazardous_work_than_under_18",
            "hazardous_work_by_children",
        ),
        (
            {"workers_under_18": 4, "youngest_worker_age": 19},
            "contradiction.under_18_counted_but_youngest_adult",
            None,
        ),
        (
            {
                "workers_under_18": 3,
                "under_18_in_hazardous_work": 0,
                "youngest_in_hazardous_work_age": 15,
            },
            "contradiction.no_hazardous_work_but_age_given",
            "hazardous_work_by_children",
        ),
    ],
)
def test_young_worker_fields_that_disagree_are_contradictions_and_the_worse_reading_counts(
    workforce: dict[str, Any], contradiction: str, indicator: str | None
) -> None:
    raw = amended(CLEAN_SUPPLIER, {f"workforce.{k}": v for k, v in workforce.items()})
    result = screened(raw)
    contradictions = result.contradictions or ()
    assert [c.rule_id for c in contradictions] == [contradiction]
    for field, value in zip(contradictions[0].fields, contradictions[0].values, strict=True):
        assert resolve(raw, field) == value
    assert set(found(result)) == ({indicator} if indicator else set())


def test_an_adult_youngest_age_beside_under_18s_never_clears_child_labour() -> None:
    result = screened(site(workers_under_18=4, youngest_worker_age=19))
    assert "child_labour" in result.judgement.not_assessed


def fees(kind: str, *lines: tuple[str, str]) -> dict[str, Any]:
    fee_lines = [
        {"category": category, "amount": 400, "currency": "MYR", "paid_by": payer}
        for category, payer in lines
    ]
    if kind == "recruiter":
        return amended(CLEAN_RECRUITER, {"fee_lines": fee_lines})
    return amended(CLEAN_SUPPLIER, {"recruitment_costs.fee_lines": fee_lines})


@pytest.mark.parametrize("kind", ["supplier", "recruiter"])
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (("bribe", "employer"), {"bribery_in_recruitment"}),
        (("bribe", "recruiter"), {"bribery_in_recruitment"}),
        (("illegitimate", "employer"), {"bribery_in_recruitment"}),
        (("bribe", "worker"), {"bribery_in_recruitment", "recruitment_fees_charged_to_workers"}),
        (("bribe", "lender"), {"bribery_in_recruitment", "recruitment_fees_charged_to_workers"}),
        # A worker-paid illegitimate line may be a deposit or bond: no bribe is assumed.
        (("illegitimate", "worker"), {"recruitment_fees_charged_to_workers"}),
    ],
)
def test_a_bribe_is_bribery_and_a_cost_to_workers_only_when_they_bore_it(
    kind: str, line: tuple[str, str], expected: set[str]
) -> None:
    result = screened(fees(kind, line))
    assert set(found(result)) - {"debt_bondage"} == expected
    if "bribery_in_recruitment" in expected:
        assert found(result)["bribery_in_recruitment"][:2] == ("medium", "high")


def test_2026_11_0_reads_the_same_disclosures_as_it_always_did() -> None:
    assert OLD.content_hash == (
        "sha256:bc37286993eb4a268cc45de9c7686d8ea57fab48a8de817237117298af079020"
    )
    young = screened(site(workers_under_18=3, youngest_worker_age=16), OLD)
    assert [(f.indicator, f.severity) for f in young.findings] == [
        ("abuse_of_vulnerability", "medium"),
        ("high_risk_origin_good", "low"),
    ]
    bribe = screened(fees("supplier", ("illegitimate", "employer")), OLD)
    assert "recruitment_fees_charged_to_workers" in found(bribe)
    assert "bribery_in_recruitment" not in found(bribe)
