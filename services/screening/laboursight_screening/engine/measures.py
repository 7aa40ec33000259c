"""Measures: quantities derived from several fields, which rules compare like fields.

Each measure is unknown (``None``) unless every input it needs is known: a fee in a currency
without an exchange rate makes the months-of-wage measure unknown, never zero.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import JsonValue

from laboursight_schemas.disclosure import (
    WORKER_BORNE,
    FeeLine,
    Money,
    Payer,
    RecruiterDisclosure,
    SupplierDisclosure,
)
from laboursight_schemas.reference import ReferenceData

Disclosure = SupplierDisclosure | RecruiterDisclosure
Citation = tuple[str, JsonValue]


class Detail(NamedTuple):
    """What a measure read, and how it reads in a sentence."""

    cites: tuple[Citation, ...]
    label: str | None = None


NO_DETAIL = Detail(())


class Measured(NamedTuple):
    """A measure's value; ``detail`` is built only for the rules that fire, which are few."""

    value: float | bool | None
    detail: Callable[[], Detail] = lambda: NO_DETAIL


UNKNOWN = Measured(None)


@dataclass(frozen=True)
class Measure:
    name: str
    description: str
    compute: Callable[[Disclosure, ReferenceData], Measured]


def _fee_months(
    lines: Sequence[FeeLine],
    lines_path: str,
    wage: Money | None,
    wage_path: str,
    ref: ReferenceData,
    payers: frozenset[Payer] = frozenset({Payer.WORKER}),
) -> Measured:
    if not lines or wage is None or wage.amount == 0:
        return UNKNOWN
    total = 0.0
    paid = [index for index, line in enumerate(lines) if line.paid_by in payers]
    for index in paid:
        converted = ref.fx.convert(lines[index].amount, lines[index].currency, wage.currency)
        if converted is None:
            return UNKNOWN
        total += converted

    def detail() -> Detail:
        if not paid:
            return NO_DETAIL
        cites: list[Citation] = []
        for index in paid:
            cites.append((f"{lines_path}[{index}].amount", lines[index].amount))
            cites.append((f"{lines_path}[{index}].currency", lines[index].currency))
        cites.append((f"{wage_path}.amount", wage.amount))
        cites.append((f"{wage_path}.currency", wage.currency))
        return Detail(tuple(cites))

    return Measured(total / wage.amount, detail)


def worker_paid_fee_months(d: Disclosure, ref: ReferenceData) -> Measured:
    if isinstance(d, SupplierDisclosure):
        return _fee_months(
            d.recruitment_costs.fee_lines,
            "$.recruitment_costs.fee_lines",
            d.wages.avg_monthly_wage,
            "$.wages.avg_monthly_wage",
            ref,
        )
    return _fee_months(
        d.fee_lines, "$.fee_lines", d.typical_monthly_wage, "$.typical_monthly_wage", ref
    )


def worker_borne_fee_months(d: Disclosure, ref: ReferenceData) -> Measured:
    """As ``worker_paid_fee_months``, over every line the worker bears (paid by the worker, a
    relative or a moneylender), less the share reimbursed when a supplier gives one."""
    if isinstance(d, RecruiterDisclosure):
        return _fee_months(
            d.fee_lines,
            "$.fee_lines",
            d.typical_monthly_wage,
            "$.typical_monthly_wage",
            ref,
            WORKER_BORNE,
        )
    costs = d.recruitment_costs
    gross = _fee_months(
        costs.fee_lines,
        "$.recruitment_costs.fee_lines",
        d.wages.avg_monthly_wage,
        "$.wages.avg_monthly_wage",
        ref,
        WORKER_BORNE,
    )
    reimbursed = costs.fees_reimbursed_pct
    if gross.value is None or reimbursed is None:
        return gross

    def detail() -> Detail:
        cites = (*gross.detail().cites, ("$.recruitment_costs.fees_reimbursed_pct", reimbursed))
        return Detail(cites)

    return Measured(gross.value * (1 - reimbursed / 100), detail)


def migrant_share(d: Disclosure, _: ReferenceData) -> Measured:
    if not isinstance(d, SupplierDisclosure):
        return UNKNOWN
    total, migrants = d.workforce.total_workers, d.workforce.migrant_workers
    if not total or migrants is None:
        return UNKNOWN
    return Measured(
        migrants / total,
        lambda: Detail(
            (("$.workforce.migrant_workers", migrants), ("$.workforce.total_workers", total)),
            f"{migrants} of {total} workers",
        ),
    )


def _any_workers(field: str) -> Callable[[Disclosure, ReferenceData], Measured]:
    """A yes/no answer or a head count, read as: does it apply to any worker at all?"""

    def compute(d: Disclosure, _: ReferenceData) -> Measured:
        if not isinstance(d, SupplierDisclosure):
            return UNKNOWN
        answer = getattr(d.workforce, field)
        if answer is None:
            return UNKNOWN
        applies = answer is True or (not isinstance(answer, bool) and answer > 0)
        return Measured(
            applies,
            lambda: Detail(
                ((f"$.workforce.{field}", answer),),
                "yes" if isinstance(answer, bool) else f"{answer} workers",
            ),
        )

    return compute


def unnamed_subagents(d: Disclosure, _: ReferenceData) -> Measured:
    if not isinstance(d, RecruiterDisclosure):
        return UNKNOWN
    s = d.subagents
    if s.subagents_used is None or s.subagents_named is None:
        return UNKNOWN
    used, named = s.subagents_used, s.subagents_named
    return Measured(
        used - named,
        lambda: Detail(
            (("$.subagents.subagents_used", used), ("$.subagents.subagents_named", named)),
            f"{used - named} of {used}",
        ),
    )


def forced_labour_goods(d: Disclosure, ref: ReferenceData) -> Measured:
    if not isinstance(d, SupplierDisclosure):
        return UNKNOWN
    country, goods = d.supplier.country, d.supplier.goods
    if country is None or not goods:
        return UNKNOWN
    listed = ref.forced_labour_goods(country, goods)

    def detail() -> Detail:
        cites: list[Citation] = [("$.supplier.country", country)]
        cites += [(f"$.supplier.goods[{index}]", goods[index]) for index, _ in listed]
        names = ", ".join(f"{row.good} from {row.country_name}" for _, row in listed)
        return Detail(tuple(cites), names or "none")

    return Measured(len(listed), detail)


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            "worker_paid_fee_months",
            "The recruitment fees and related costs paid by workers, summed and converted into "
            "the currency of the wage with the reference data's exchange-rate table, divided by "
            "the average monthly wage (supplier: wages.avg_monthly_wage; recruiter: "
            "typical_monthly_wage). Unknown without fee lines or a wage, or when a currency has "
            "no exchange rate.",
            worker_paid_fee_months,
        ),
        Measure(
            "worker_borne_fee_months",
            "The recruitment fees and related costs workers bear — paid by the worker, by a "
            "relative (worker_family) or by a moneylender (lender): the ILO's fees charged "
            "'directly or indirectly' — summed and converted into the currency of the wage with "
            "the reference data's exchange-rate table, divided by the average monthly wage "
            "(supplier: wages.avg_monthly_wage; recruiter: typical_monthly_wage), less the share "
            "recruitment_costs.fees_reimbursed_pct when a supplier gives one. Unknown without "
            "fee lines or a wage, or when a currency has no exchange rate.",
            worker_borne_fee_months,
        ),
        Measure(
            "migrant_share",
            "workforce.migrant_workers / workforce.total_workers.",
            migrant_share,
        ),
        Measure(
            "on_employer_tied_visa",
            "Whether any worker holds a visa tied to the employer: workforce.employer_tied_visa "
            "answered yes, or a head count above 0.",
            _any_workers("employer_tied_visa"),
        ),
        Measure(
            "housed_by_employer",
            "Whether any worker lives in employer-provided housing: workforce.housed_by_employer "
            "answered yes, or a head count above 0.",
            _any_workers("housed_by_employer"),
        ),
        Measure(
            "unnamed_subagents",
            "subagents.subagents_used - subagents.subagents_named.",
            unnamed_subagents,
        ),
        Measure(
            "forced_labour_goods",
            "How many of supplier.goods the US DOL list flags as produced with forced labour "
            "(forced labour or forced child labour) in supplier.country. Goods are matched by "
            "name, ignoring case, punctuation and a trailing plural 's'.",
            forced_labour_goods,
        ),
    )
}
