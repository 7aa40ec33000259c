"""The entity page's shaping of stored findings and chain links, without a server."""

from laboursight_api.dashboard.entity_views import grounds, inherent, says


def _evidence(rule: str, field: str, value: object, why: str) -> dict[str, object]:
    return {"rule_id": rule, "field": field, "value": value, "explanation": why}


def test_a_rule_reading_several_fields_is_one_row_and_two_rules_are_two() -> None:
    finding = {
        "indicator": "debt_bondage",
        "strength": "strong",
        "rule_set_version": "2026.12.0",
        "evidence": [
            _evidence("debt.a", "$.wages.wage_deductions_for_debt", True, "deducted"),
            _evidence("debt.a", "$.recruitment_costs.fee_lines[0].amount", 5100, "deducted"),
            _evidence("debt.b", "$.recruitment_costs.fees_reimbursed", False, "3.6 months"),
        ],
    }
    rows = grounds([finding])
    assert [(r.rule_id, r.explanation, r.fields) for r in rows] == [
        (
            "debt.a",
            "deducted",
            [
                ("$.wages.wage_deductions_for_debt", True),
                ("$.recruitment_costs.fee_lines[0].amount", 5100),
            ],
        ),
        ("debt.b", "3.6 months", [("$.recruitment_costs.fees_reimbursed", False)]),
    ]


def test_context_is_told_once_per_explanation_and_without_watchlist_matches() -> None:
    dol = {
        "indicator": "high_risk_origin_good",
        "evidence": [
            _evidence("ctx", "$.supplier.goods[0]", "Shrimp", "DOL lists Shrimp from TH"),
            _evidence("ctx", "$.supplier.country", "TH", "DOL lists Shrimp from TH"),
        ],
    }
    match = {"indicator": "watchlist_match", "watchlist": {"list_id": "x"}, "evidence": []}
    assert inherent([dol, match]) == [("high_risk_origin_good", "DOL lists Shrimp from TH")]


def test_a_link_says_who_declared_it_and_what_it_gives() -> None:
    link = {"declared_by": "supplier", "workers": 220, "workforce_share": 0.52, "field": "$.x"}
    assert says(link) == "the supplier says 220 workers, 52 % of the workforce"
    bare = {"declared_by": "recruiter", "workers": None, "workforce_share": None, "field": "$.p"}
    assert says(bare) == "the recruiter says it is linked ($.p)"
