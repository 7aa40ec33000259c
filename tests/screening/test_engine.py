"""The first slice of the indicator engine: each rule, the combination rule, determinism."""

from typing import Any

import pytest
from pydantic import TypeAdapter

from laboursight_schemas.disclosure import Disclosure
from laboursight_screening.engine import RULE_SET_VERSION, screen
from laboursight_screening.engine.judgement import forced_labour_likely
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier

parse = TypeAdapter(Disclosure).validate_python


def slugs(raw: dict[str, Any]) -> set[str]:
    return {f.indicator for f in screen(parse(raw)).findings}


def resolve(raw: dict[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.removeprefix("$.").replace("]", "").replace("[", ".").split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_clean_site_has_no_finding_and_low_risk() -> None:
    result = screen(parse(CLEAN_SUPPLIER))
    assert result.findings == []
    assert result.judgement.risk_level == "low"
    assert not result.judgement.forced_labour_likely


def test_bonded_site_is_critical_with_every_slice_indicator() -> None:
    result = screen(parse(BONDED_SUPPLIER))
    assert {f.indicator for f in result.findings} == {
        "retention_of_identity_documents",
        "recruitment_fees_charged_to_workers",
        "debt_bondage",
        "excessive_overtime",
        "withholding_of_wages",
    }
    assert result.judgement.forced_labour_likely
    assert result.judgement.risk_level == "critical"
    assert all(f.rule_set_version == RULE_SET_VERSION for f in result.findings)


def test_every_evidence_path_exists_in_the_disclosure() -> None:
    for finding in screen(parse(BONDED_SUPPLIER)).findings:
        for evidence in finding.evidence:
            value = resolve(BONDED_SUPPLIER, evidence.field)
            if not isinstance(value, list):
                assert value == evidence.value, evidence.field


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        ({"held_by": "employer", "workers_with_documents_held_pct": 30}, True),
        ({"held_by": "recruiter"}, True),
        ({"held_by": "employer", "workers_with_documents_held_pct": 0}, False),
        ({"held_by": "worker"}, False),
        # Voluntary safekeeping with free access and written consent is not retention.
        (
            {
                "held_by": "employer",
                "workers_with_documents_held_pct": 100,
                "free_access_on_request": True,
                "written_voluntary_consent": True,
            },
            False,
        ),
        ({"held_by": "employer", "free_access_on_request": True}, True),
        ({}, False),
    ],
)
def test_document_retention(documents: dict[str, Any], expected: bool) -> None:
    found = "retention_of_identity_documents" in slugs(supplier(documents=documents))
    assert found is expected


@pytest.mark.parametrize(
    ("working_time", "expected"),
    [
        ({"avg_weekly_hours": 60, "max_weekly_hours": 60}, False),
        ({"avg_weekly_hours": 60.5, "max_weekly_hours": 61}, True),
        ({"rest_days_per_week": 0}, True),
        ({"overtime_voluntary": False}, True),
        ({}, False),
    ],
)
def test_excessive_overtime_boundary_at_sixty_hours(
    working_time: dict[str, Any], expected: bool
) -> None:
    assert ("excessive_overtime" in slugs(supplier(working_time=working_time))) is expected


@pytest.mark.parametrize(
    ("wages", "expected"),
    [
        ({"max_payment_delay_days": 30}, False),
        ({"max_payment_delay_days": 31}, True),
        ({"deposits_or_withheld_wages": True}, True),
        ({"paid_to_third_party": True}, True),
        ({"payslips_provided": False}, True),
        ({"payslips_provided": True, "deposits_or_withheld_wages": False}, False),
    ],
)
def test_withholding_of_wages(wages: dict[str, Any], expected: bool) -> None:
    assert ("withholding_of_wages" in slugs(supplier(wages=wages))) is expected


def fees(amount: float, currency: str = "MYR", paid_by: str = "worker") -> dict[str, Any]:
    line = {
        "category": "recruitment_fee",
        "amount": amount,
        "currency": currency,
        "paid_by": paid_by,
    }
    return {"fee_lines": [line], "fees_reimbursed": False}


def test_fee_severity_grows_with_months_of_wage() -> None:
    wage = {"avg_monthly_wage": {"amount": 1000, "currency": "MYR"}}

    def severity(amount: float) -> str:
        result = screen(parse(supplier(recruitment_costs=fees(amount), wages=wage)))
        (finding,) = [
            f for f in result.findings if f.indicator == "recruitment_fees_charged_to_workers"
        ]
        return finding.severity

    assert [severity(500), severity(1000), severity(2999), severity(3000)] == [
        "medium",
        "high",
        "high",
        "critical",
    ]


def test_fees_paid_by_the_employer_are_no_finding() -> None:
    assert slugs(supplier(recruitment_costs=fees(5000, paid_by="employer"))) == set()


def test_fees_in_another_currency_are_never_counted_as_zero() -> None:
    wage = {"avg_monthly_wage": {"amount": 1000, "currency": "MYR"}}
    found = slugs(supplier(recruitment_costs=fees(900_000, currency="NPR"), wages=wage))
    assert "recruitment_fees_charged_to_workers" in found
    assert "debt_bondage" not in found  # months unknown: no debt claim without a measure


def test_debt_bondage_from_fees_of_three_months_unless_reimbursed() -> None:
    wage = {"avg_monthly_wage": {"amount": 1000, "currency": "MYR"}}
    assert "debt_bondage" in slugs(supplier(recruitment_costs=fees(3000), wages=wage))
    reimbursed = {**fees(3000), "fees_reimbursed": True}
    assert "debt_bondage" not in slugs(supplier(recruitment_costs=reimbursed, wages=wage))


def test_unknown_is_not_false_it_lowers_confidence() -> None:
    sparse = {
        "kind": "supplier",
        "period": {"start": "2026-01-01", "end": "2026-03-31"},
        "supplier": {"supplier_id": "S-SPARSE"},
    }
    result = screen(parse(sparse))
    assert result.findings == []
    assert result.judgement.confidence == 0
    assert len(result.judgement.not_assessed) == 11
    assert screen(parse(CLEAN_SUPPLIER)).judgement.confidence > 0


def test_recruiter_rules() -> None:
    recruiter = {
        "kind": "recruiter",
        "period": {"start": "2026-01-01", "end": "2026-06-30"},
        "recruiter": {"recruiter_id": "REC-9", "country": "NP"},
        "fee_lines": [
            {
                "category": "recruitment_fee",
                "amount": 150000,
                "currency": "NPR",
                "paid_by": "worker",
            }
        ],
        "typical_monthly_wage": {"amount": 45000, "currency": "NPR"},
        "loans_to_workers": {
            "offered": True,
            "interest_rate_pct": 24,
            "repaid_by_wage_deduction": True,
        },
        "documents": {"holds_worker_documents": True},
    }
    result = screen(parse(recruiter))
    assert {f.indicator for f in result.findings} == {
        "recruitment_fees_charged_to_workers",
        "debt_bondage",
        "retention_of_identity_documents",
    }
    assert result.judgement.risk_level == "critical"


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


def test_same_input_gives_byte_identical_output() -> None:
    first = screen(parse(BONDED_SUPPLIER))
    second = screen(parse(BONDED_SUPPLIER))
    assert [f.model_dump_json() for f in first.findings] == [
        f.model_dump_json() for f in second.findings
    ]
    assert first.judgement.model_dump_json() == second.judgement.model_dump_json()
