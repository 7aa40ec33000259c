"""The realistic cases in tests/cases, screened in memory: expected slugs, level, evidence."""

from typing import Any

import pytest

from laboursight_schemas.findings import ALL_INDICATORS
from tests.cases import CASES
from tests.screening.support import resolve, run


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_yields_the_expected_findings(name: str) -> None:
    case: dict[str, Any] = CASES[name]
    result = run(case["disclosure"])
    expect = case["expect"]
    assert sorted(f.indicator for f in result.findings) == sorted(expect["indicators"])
    assert result.judgement.risk_level == expect["risk_level"]
    assert result.judgement.forced_labour_likely is expect["forced_labour_likely"]
    for finding in result.findings:
        for evidence in finding.evidence:
            assert resolve(case["disclosure"], evidence.field) == evidence.value


def test_the_cases_cover_every_indicator_both_kinds_and_a_clean_and_a_sparse_site() -> None:
    expected = {slug for case in CASES.values() for slug in case["expect"]["indicators"]}
    assert expected == set(ALL_INDICATORS)
    assert {case["disclosure"]["kind"] for case in CASES.values()} == {"supplier", "recruiter"}
    levels = {case["expect"]["risk_level"] for case in CASES.values()}
    assert levels == {"low", "medium", "high", "critical"}
