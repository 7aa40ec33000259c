"""The realistic cases in tests/cases, screened in memory: expected slugs, level, evidence.

``expect`` is what the default rule set gives (the running system screens with it too, see
tests/e2e); ``expect_by_rule_set`` holds what other published rule sets give, by version, with
the dimensions found positive, the contradictions and the context they report besides."""

from typing import Any

import pytest

from laboursight_schemas.findings import ALL_INDICATORS
from laboursight_screening.engine import SHIPPED, Screening, screen
from tests.cases import CASES
from tests.screening.support import REFERENCE, WATCHLISTS, parse, resolve

DEFAULT = SHIPPED.current_version()
EXPECTATIONS = sorted(
    [(name, DEFAULT) for name in CASES]
    + [
        (name, version)
        for name, case in CASES.items()
        for version in case.get("expect_by_rule_set", {})
    ]
)


def expected(name: str, version: str) -> dict[str, Any]:
    case = CASES[name]
    expect: dict[str, Any] = (
        case["expect"] if version == DEFAULT else case["expect_by_rule_set"][version]
    )
    return expect


def evidence_resolves(raw: dict[str, Any], result: Screening) -> None:
    for finding in (*result.findings, *(result.context or ())):
        for evidence in finding.evidence:
            assert resolve(raw, evidence.field) == evidence.value
    for contradiction in result.contradictions or ():
        assert len(set(contradiction.fields)) >= 2
        for field, value in zip(contradiction.fields, contradiction.values, strict=True):
            assert resolve(raw, field) == value


@pytest.mark.parametrize(("name", "version"), EXPECTATIONS)
def test_case_yields_the_expected_findings(name: str, version: str) -> None:
    raw = CASES[name]["disclosure"]
    result = screen(parse(raw), SHIPPED.compiled(version), REFERENCE, WATCHLISTS)
    expect = expected(name, version)
    assert sorted(f.indicator for f in result.findings) == sorted(expect["indicators"])
    assert result.judgement.risk_level == expect["risk_level"]
    assert result.judgement.forced_labour_likely is expect["forced_labour_likely"]
    if "dimensions_positive" in expect:
        assert result.judgement.dimensions_positive == expect["dimensions_positive"]
        assert result.judgement.contradictions == expect["contradictions"]
        assert [c.rule_id for c in result.contradictions or ()] == expect["contradictions"]
        assert [f.indicator for f in result.context or ()] == expect["context"]
        assert set(expect.get("not_assessed", [])) <= set(result.judgement.not_assessed)
    evidence_resolves(raw, result)


def test_the_cases_cover_every_indicator_both_kinds_and_a_clean_and_a_sparse_site() -> None:
    # The default rule set reports commodity-origin risk as context, beside the findings.
    expected = {
        slug
        for case in CASES.values()
        for slug in (*case["expect"]["indicators"], *case["expect"].get("context", ()))
    }
    assert expected == set(ALL_INDICATORS)
    assert {case["disclosure"]["kind"] for case in CASES.values()} == {"supplier", "recruiter"}
    levels = {case["expect"]["risk_level"] for case in CASES.values()}
    assert levels == {"low", "medium", "high", "critical"}


def test_every_case_has_what_each_published_rule_set_gives() -> None:
    for case in CASES.values():
        named = set(case.get("expect_by_rule_set", {}))
        assert named | {DEFAULT} == set(SHIPPED.versions())
