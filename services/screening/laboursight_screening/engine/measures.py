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


def youngest_age(d: Disclosure, _: ReferenceData) -> Measured:
    """The youngest age a supplier gives (of any worker, or of those in hazardous work): when
    the two disagree, the younger is the worse reading, and an adult youngest age beside a head
    count of under-18s is set aside. With no age given, a workforce of no worker under 18 has
    its youngest at 18 or older, read as 18; otherwise unknown."""
    if not isinstance(d, SupplierDisclosure):
        return UNKNOWN
    w = d.workforce
    youngest_worker = w.youngest_worker_age
    if youngest_worker is not None and youngest_worker >= 18 and w.workers_under_18:
        # Contradicted by a head count of under-18s: never the reassuring reading.
        youngest_worker = None
    ages = {
        path: age
        for path, age in (
            ("$.workforce.youngest_worker_age", youngest_worker),
            ("$.workforce.youngest_in_hazardous_work_age", w.youngest_in_hazardous_work_age),
        )
        if age is not None
    }
    if not ages:
        if w.workers_under_18 != 0:
            return UNKNOWN
        return Measured(
            18,
            lambda: Detail((("$.workforce.workers_under_18", 0),), "18 or older"),
        )
    youngest = min(ages.values())

    def detail() -> Detail:
        cites: list[Citation] = list(ages.items())
        if w.workers_under_18 is not None:
            cites.append(("$.workforce.workers_under_18", w.workers_under_18))
        return Detail(tuple(cites), f"{youngest} years")

    return Measured(youngest, detail)


# What a finding of hazardous work by under-18s carries besides the answer: both ages, the hazard.
HAZARD_CITES = ("youngest_worker_age", "hazard_description")


def _young_workers(
    field: str, age_field: str | None = None
) -> Callable[[Disclosure, ReferenceData], Measured]:
    """Whether any worker under 18 does the work ``field`` counts: yes, a head count above 0,
    or an age given in ``age_field`` (which says someone under 18 does it). No when the answer
    is no or 0, or when none is given and no worker is under 18. Cites the ages given (and, for
    hazardous work, the hazard), so that a finding carries them."""

    def compute(d: Disclosure, _: ReferenceData) -> Measured:
        if not isinstance(d, SupplierDisclosure):
            return UNKNOWN
        w = d.workforce
        answer = getattr(w, field)
        age = None if age_field is None else getattr(w, age_field)
        if answer is None and age is None:
            if w.workers_under_18 != 0:
                return UNKNOWN
            return Measured(
                False, lambda: Detail((("$.workforce.workers_under_18", 0),), "none under 18")
            )
        applies = age is not None or answer is True or (not isinstance(answer, bool) and answer > 0)

        def detail() -> Detail:
            cites: list[Citation] = []
            if answer is not None:
                cites.append((f"$.workforce.{field}", answer))
            named = ("youngest_worker_age",) if age_field is None else (age_field, *HAZARD_CITES)
            for name in named:
                value = getattr(w, name)
                if value is not None:
                    cites.append((f"$.workforce.{name}", value))
            if isinstance(answer, bool) or answer is None:
                label = "yes" if applies else "no"
            else:
                label = f"{answer} workers"
            return Detail(tuple(cites), label)

        return Measured(applies, detail)

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
            "youngest_age",
            "The lower of workforce.youngest_worker_age and "
            "workforce.youngest_in_hazardous_work_age, whichever are given (the younger is the "
            "worse reading when they disagree; an age of 18 or more beside workers_under_18 above 0 "
            "is set aside); with neither given, 18 when "
            "workforce.workers_under_18 is 0 (no worker is younger), otherwise unknown.",
            youngest_age,
        ),
        Measure(
            "under_18_in_hazardous_work",
            "Whether any worker under 18 does hazardous work: "
            "workforce.under_18_in_hazardous_work answered yes or a head count above 0, or an "
            "age given in workforce.youngest_in_hazardous_work_age; no when answered no or 0, "
            "or when neither is given and workforce.workers_under_18 is 0. Cites the ages and "
            "the hazard (workforce.hazard_description) given.",
            _young_workers("under_18_in_hazardous_work", "youngest_in_hazardous_work_age"),
        ),
        Measure(
            "under_18_in_night_work",
            "Whether any worker under 18 works at night: workforce.under_18_in_night_work "
            "answered yes or a head count above 0; no when answered no or 0, or when not given "
            "and workforce.workers_under_18 is 0. Cites the ages given.",
            _young_workers("under_18_in_night_work"),
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
