"""The first slice of rules: document retention, worker-paid fees, debt bondage, excessive
overtime and withholding of wages (DOMAIN.md). Each rule reads known signals only: a null signal
never fires, it only leaves its indicator unassessed.
"""

from collections.abc import Sequence

from laboursight_schemas.disclosure import (
    FeeLine,
    Money,
    Payer,
    RecruiterDisclosure,
    SupplierDisclosure,
)
from laboursight_schemas.findings import Severity, Strength

from .signals import Hit, IndicatorResult

OVERTIME_CEILING_HOURS = 60.0
SEVERE_AVG_HOURS = 72.0
SEVERE_MAX_HOURS = 84.0
LATE_PAYMENT_DAYS = 30
VERY_LATE_PAYMENT_DAYS = 60


def _fee_months(lines: Sequence[FeeLine], wage: Money | None) -> float | None:
    """Worker-paid fees in months of wage; None when no wage or another currency prevents it."""
    paid = [line for line in lines if line.paid_by is Payer.WORKER]
    if wage is None or wage.amount == 0 or any(line.currency != wage.currency for line in paid):
        return None
    return sum(line.amount for line in paid) / wage.amount


def _fee_severity(months: float | None) -> Severity:
    if months is None or months < 1:
        return "medium"
    return "high" if months < 3 else "critical"


def worker_paid_fees(
    lines: Sequence[FeeLine], lines_path: str, wage: Money | None, wage_path: str
) -> IndicatorResult:
    result = IndicatorResult("recruitment_fees_charged_to_workers", assessed=bool(lines))
    months = _fee_months(lines, wage)
    for index, line in enumerate(lines):
        if line.paid_by is Payer.WORKER and line.amount > 0:
            cost = f"{line.amount:g} {line.currency}"
            measure = f" ({months:.1f} months of the wage at {wage_path})" if months else ""
            result.hits.append(
                Hit(
                    "fees.worker_paid_line",
                    f"{lines_path}[{index}].paid_by",
                    line.paid_by.value,
                    "medium",
                    _fee_severity(months),
                    f"Workers paid a {line.category.value} cost of {cost}{measure}; "
                    "the Employer Pays Principle puts every recruitment cost on the employer.",
                )
            )
    return result


def _supplier_documents(d: SupplierDisclosure) -> IndicatorResult:
    docs = d.documents
    result = IndicatorResult(
        "retention_of_identity_documents",
        assessed=docs.held_by is not None or docs.workers_with_documents_held_pct is not None,
    )
    held_by_other = docs.held_by is not None and docs.held_by.value != "worker"
    if not held_by_other or docs.workers_with_documents_held_pct == 0:
        return result
    # Voluntary safekeeping with free access and written consent is not retention (DOMAIN.md).
    if docs.free_access_on_request is True and docs.written_voluntary_consent is True:
        return result
    pct = docs.workers_with_documents_held_pct
    severity: Severity = "high" if pct is None or pct < 50 else "critical"
    share = f"{pct:g}% of workers'" if pct is not None else "Workers'"
    result.hits.append(
        Hit(
            "documents.held_by_employer_or_agent",
            "$.documents.held_by",
            docs.held_by.value if docs.held_by else None,
            "strong",
            severity,
            f"{share} identity documents are held by the {docs.held_by.value if docs.held_by else ''}"
            " without both free access on request and written voluntary consent.",
        )
    )
    return result


def _supplier_debt(d: SupplierDisclosure) -> IndicatorResult:
    deductions = d.wages.wage_deductions_for_debt
    result = IndicatorResult("debt_bondage", assessed=deductions is not None)
    if deductions:
        result.hits.append(
            Hit(
                "debt.wage_deductions",
                "$.wages.wage_deductions_for_debt",
                True,
                "strong",
                "high",
                "Debts are repaid by deductions from wages, which ties workers to the job.",
            )
        )
    months = _fee_months(d.recruitment_costs.fee_lines, d.wages.avg_monthly_wage)
    if months is not None and months >= 3 and d.recruitment_costs.fees_reimbursed is not True:
        result.assessed = True
        result.hits.append(
            Hit(
                "debt.fees_over_three_months",
                "$.recruitment_costs.fee_lines",
                round(months, 2),
                "medium",
                "high",
                f"Unreimbursed worker-paid fees equal {months:.1f} months of wages, "
                "a debt that workers must work off.",
            )
        )
    return result


def _overtime(d: SupplierDisclosure) -> IndicatorResult:
    wt = d.working_time
    result = IndicatorResult(
        "excessive_overtime",
        assessed=any(
            v is not None
            for v in (
                wt.avg_weekly_hours,
                wt.max_weekly_hours,
                wt.rest_days_per_week,
                wt.overtime_voluntary,
            )
        ),
    )
    if wt.avg_weekly_hours is not None and wt.avg_weekly_hours > OVERTIME_CEILING_HOURS:
        severe = wt.avg_weekly_hours > SEVERE_AVG_HOURS
        result.hits.append(
            Hit(
                "overtime.average_above_ceiling",
                "$.working_time.avg_weekly_hours",
                wt.avg_weekly_hours,
                "medium",
                "high" if severe else "medium",
                f"Workers average {wt.avg_weekly_hours:g} hours a week, above the "
                f"{OVERTIME_CEILING_HOURS:g}-hour ceiling including overtime.",
            )
        )
    if wt.max_weekly_hours is not None and wt.max_weekly_hours > OVERTIME_CEILING_HOURS:
        severe = wt.max_weekly_hours > SEVERE_MAX_HOURS
        result.hits.append(
            Hit(
                "overtime.maximum_above_ceiling",
                "$.working_time.max_weekly_hours",
                wt.max_weekly_hours,
                "medium",
                "high" if severe else "medium",
                f"Some weeks reach {wt.max_weekly_hours:g} hours, above the "
                f"{OVERTIME_CEILING_HOURS:g}-hour ceiling.",
            )
        )
    if wt.rest_days_per_week == 0:
        result.hits.append(
            Hit(
                "overtime.no_rest_day",
                "$.working_time.rest_days_per_week",
                0,
                "medium",
                "medium",
                "Workers have no rest day in seven.",
            )
        )
    if wt.overtime_voluntary is False:
        result.hits.append(
            Hit(
                "overtime.compelled",
                "$.working_time.overtime_voluntary",
                False,
                "strong",
                "high",
                "Overtime is not voluntary.",
            )
        )
    return result


def _withheld_wages(d: SupplierDisclosure) -> IndicatorResult:
    w = d.wages
    signals = (
        w.max_payment_delay_days,
        w.deposits_or_withheld_wages,
        w.paid_to_third_party,
        w.payslips_provided,
        w.paid_at_least_minimum_wage,
    )
    result = IndicatorResult("withholding_of_wages", assessed=any(v is not None for v in signals))
    delay = w.max_payment_delay_days
    if delay is not None and delay > LATE_PAYMENT_DAYS:
        result.hits.append(
            Hit(
                "wages.payment_delayed",
                "$.wages.max_payment_delay_days",
                delay,
                "strong",
                "high" if delay > VERY_LATE_PAYMENT_DAYS else "medium",
                f"Wages are paid up to {delay} days late, beyond the {LATE_PAYMENT_DAYS}-day limit.",
            )
        )
    flags: list[tuple[str, str, bool | None, bool, Strength, str]] = [
        (
            "wages.deposits_or_withheld",
            "$.wages.deposits_or_withheld_wages",
            w.deposits_or_withheld_wages,
            True,
            "strong",
            "Wages are withheld or deposits kept until the end of the contract.",
        ),
        (
            "wages.paid_to_third_party",
            "$.wages.paid_to_third_party",
            w.paid_to_third_party,
            True,
            "medium",
            "Wages are paid to a third party rather than to the workers.",
        ),
        (
            "wages.below_minimum",
            "$.wages.paid_at_least_minimum_wage",
            w.paid_at_least_minimum_wage,
            False,
            "medium",
            "Workers are not paid at least the minimum wage.",
        ),
        (
            "wages.no_payslips",
            "$.wages.payslips_provided",
            w.payslips_provided,
            False,
            "weak",
            "Workers receive no payslips, so deductions and withholding cannot be checked.",
        ),
    ]
    for rule_id, path, value, fires_on, strength, explanation in flags:
        if value is fires_on:
            severity: Severity = "high" if strength == "strong" else "medium"
            result.hits.append(Hit(rule_id, path, value, strength, severity, explanation))
    return result


def supplier_rules(d: SupplierDisclosure) -> list[IndicatorResult]:
    return [
        _supplier_documents(d),
        worker_paid_fees(
            d.recruitment_costs.fee_lines,
            "$.recruitment_costs.fee_lines",
            d.wages.avg_monthly_wage,
            "$.wages.avg_monthly_wage",
        ),
        _supplier_debt(d),
        _overtime(d),
        _withheld_wages(d),
    ]


def _recruiter_documents(d: RecruiterDisclosure) -> IndicatorResult:
    holds = d.documents.holds_worker_documents
    result = IndicatorResult("retention_of_identity_documents", assessed=holds is not None)
    if holds:
        result.hits.append(
            Hit(
                "documents.recruiter_holds",
                "$.documents.holds_worker_documents",
                True,
                "strong",
                "high",
                "The recruiter holds workers' identity documents.",
            )
        )
    return result


def _recruiter_debt(d: RecruiterDisclosure) -> IndicatorResult:
    loans = d.loans_to_workers
    result = IndicatorResult(
        "debt_bondage",
        assessed=loans.offered is not None or loans.repaid_by_wage_deduction is not None,
    )
    if loans.offered and loans.repaid_by_wage_deduction:
        interest = loans.interest_rate_pct
        result.hits.append(
            Hit(
                "debt.recruiter_loans_repaid_from_wages",
                "$.loans_to_workers.repaid_by_wage_deduction",
                True,
                "strong",
                "critical" if interest is not None and interest > 0 else "high",
                "The recruiter lends to workers and recovers the loans from their wages"
                + (f" at {interest:g}% interest." if interest else "."),
            )
        )
    return result


def recruiter_rules(d: RecruiterDisclosure) -> list[IndicatorResult]:
    return [
        _recruiter_documents(d),
        worker_paid_fees(
            d.fee_lines, "$.fee_lines", d.typical_monthly_wage, "$.typical_monthly_wage"
        ),
        _recruiter_debt(d),
    ]
