"""Valid raw disclosures (JSON-like dicts, as a submitter would POST them), built from choices.

One builder serves two drivers: hypothesis makes the choices in property tests
(tests/strategies.py) and a seeded ``random.Random`` makes them for the benchmark corpus
(tests/bench/corpus.py). Every signal is independently absent, null or a value. Numbers reach
the thresholds the current rule set compares them with, read from the rule set itself, so a
threshold added to a new rule set is exercised without editing this file.
"""

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, Literal, Protocol, TypeVar

from laboursight_schemas.disclosure import DocumentHolder, FeeCategory, Payer
from laboursight_schemas.reference import known_currencies, load_reference
from laboursight_screening.engine import SHIPPED
from laboursight_screening.engine.ruleset import All, Any_, Compare, Condition, Not, Unless

T = TypeVar("T")
Raw = dict[str, Any]
Presence = Literal["absent", "null", "value"]
PRESENCES: tuple[Presence, ...] = ("absent", "null", "value")
IntSpan = tuple[int, int]
RealSpan = tuple[float, float]


class Chooser(Protocol):
    """Where every choice of the builder comes from.

    ``adverse`` names the answers or the range that signal risk: hypothesis ignores it and
    explores everything, the benchmark leans on it to make clean, sparse and high-risk corpora.
    ``marks`` are values at and around rule thresholds, which deserve to be chosen often.
    """

    def presence(self) -> Presence: ...

    def flag(self, adverse: bool) -> bool: ...

    def pick(self, options: Sequence[T], adverse: Sequence[T] = ()) -> T: ...

    def integer(self, benign: IntSpan, adverse: IntSpan, marks: Sequence[int] = ()) -> int: ...

    def real(self, benign: RealSpan, adverse: RealSpan, marks: Sequence[float] = ()) -> float: ...

    def text(self, examples: Sequence[str]) -> str: ...


# --- thresholds, read from the rule set ------------------------------------------------------


def _compared_numbers(condition: Condition) -> Iterable[tuple[str, float]]:
    if isinstance(condition, Compare):
        subject = condition.field if condition.field is not None else f"measure:{condition.measure}"
        _, operand = condition.test
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            yield subject, float(operand)
    elif isinstance(condition, All):
        for part in condition.all:
            yield from _compared_numbers(part)
    elif isinstance(condition, Any_):
        for part in condition.any:
            yield from _compared_numbers(part)
    elif isinstance(condition, Not):
        yield from _compared_numbers(condition.not_)
    elif isinstance(condition, Unless):
        yield from _compared_numbers(condition.unless)


def _thresholds() -> dict[str, frozenset[float]]:
    """Every number a rule or a severity grade compares a field (or ``measure:name``) with."""
    found: dict[str, set[float]] = {}
    for rule in SHIPPED.load(SHIPPED.current_version()).rules:
        for condition in (rule.when, *(grade.when for grade in rule.severity.grades)):
            for subject, number in _compared_numbers(condition):
                found.setdefault(subject, set()).add(number)
    return {subject: frozenset(numbers) for subject, numbers in found.items()}


THRESHOLDS = _thresholds()


def int_marks(subject: str, low: int, high: int) -> tuple[int, ...]:
    """Each threshold of ``subject`` and its neighbours, within ``[low, high]``."""
    marks = {
        int(t) + step for t in THRESHOLDS.get(subject, ()) for step in (-1, 0, 1) if t.is_integer()
    }
    return tuple(sorted(m for m in marks if low <= m <= high))


def real_marks(subject: str, low: float, high: float) -> tuple[float, ...]:
    """Each threshold of ``subject``, the floats either side of it, and half a unit off."""
    marks = {
        m
        for t in THRESHOLDS.get(subject, ())
        for m in (t - 0.5, math.nextafter(t, -math.inf), t, math.nextafter(t, math.inf), t + 0.5)
    }
    return tuple(sorted(m for m in marks if low <= m <= high))


# --- reference values --------------------------------------------------------------------------

REFERENCE = load_reference()
CURRENCIES: tuple[str, ...] = tuple(sorted(known_currencies()))
# Wages are mostly paid, and fees mostly quoted, in a handful of currencies; any known one is valid.
COMMON_CURRENCIES = ("USD", "MYR", "THB", "SAR", "AED", "QAR", "NPR", "BDT", "EUR")
ORIGINS = ("NP", "BD", "IN", "PK", "ID", "PH", "MM", "VN", "KH", "LK", "UZ", "ET", "KE", "UG")
DESTINATIONS = ("MY", "TH", "SA", "AE", "QA", "KW", "SG", "TW", "KR", "JP", "GB", "DE", "US")
DOL_COUNTRIES = tuple(sorted(REFERENCE.goods))
FORCED_LABOUR_COUNTRIES = tuple(
    code for code in DOL_COUNTRIES if any(row.flags_forced_labour for row in REFERENCE.goods[code])
)
SUPPLIER_COUNTRIES = (*DOL_COUNTRIES, "DE", "GB", "JP", "SG", "AE", "QA", "US", "PL")
GENERIC_GOODS = (
    "Widgets",
    "Cotton",
    "Garments",
    "Electronics",
    "Seafood",
    "Coffee",
    "Bricks",
    "Rubber gloves",
    "Palm oil",
    "Furniture",
    "Solar panels",
    "Cocoa",
)
COMPANY_NAMES = (
    "Harbour Garments Sdn Bhd",
    "Delta Seafoods",
    "Everbright Electronics",
    "Nusa Palm",
)
AGENCY_NAMES = ("Himalaya Manpower", "Dhaka Overseas Agency", "Cebu Placement Corp", "Oasis HR")
# Other names an entity goes by, some of which resemble entries of the shipped fictional
# watchlist (reordered, transliterated), so that screening meets matches too.
ALIASES = (
    "HONGYUAN DEMO TEXTILE XANADU",
    "Imaginary Bluefin Seafood Sdn Bhd",
    "Sample Manpower Zzyzx",
    "Straits Apparel",
)
ADDRESSES = ("1 Imaginary Road, Fictional Industrial Park, Xanadu County", "Lot 12, Jalan Contoh")
SECTORS = ("apparel", "electronics", "agriculture", "fishing", "construction", "mining")
HAZARDS = ("mixing dyes and bleach", "spraying pesticides", "night shifts on the press line")
PERIOD_ORIGIN = date(2022, 1, 1)


# --- building blocks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal(Generic[T]):
    presence: Presence
    value: T | None


def decide(c: Chooser, make: Callable[[], T]) -> Signal[T]:
    """Absent, null or ``make()``, as the chooser says."""
    presence = c.presence()
    return Signal(presence, make() if presence == "value" else None)


class Record:
    """One JSON object of a disclosure, filled signal by signal."""

    def __init__(self, chooser: Chooser, raw: Raw | None = None) -> None:
        self.raw: Raw = {} if raw is None else raw
        self._chooser = chooser

    def place(self, name: str, signal: Signal[T]) -> T | None:
        if signal.presence != "absent":
            self.raw[name] = signal.value
        return signal.value

    def signal(self, name: str, make: Callable[[], T]) -> T | None:
        return self.place(name, decide(self._chooser, make))

    def section(self, name: str, build: Callable[[Chooser], Raw]) -> None:
        # A section of signals is never null in the contract: it is absent or an object.
        if self._chooser.presence() != "absent":
            self.raw[name] = build(self._chooser)

    def items(self, name: str, build: Callable[[Chooser], Raw], most: int) -> None:
        if self._chooser.presence() != "absent":
            count = self._chooser.integer((0, most), (0, most))
            self.raw[name] = [build(self._chooser) for _ in range(count)]


def identifier(c: Chooser, prefix: str) -> str:
    return f"{prefix}-{c.integer((0, 99_999), (0, 99_999)):05d}"


def rate(currency: str) -> float:
    return REFERENCE.fx.units_per_usd[currency]


def _day(c: Chooser) -> date:
    return PERIOD_ORIGIN + timedelta(days=c.integer((0, 1_500), (0, 1_500)))


def period(c: Chooser) -> Raw:
    start = _day(c)
    end = start + timedelta(days=c.integer((0, 366), (0, 366), marks=(0,)))
    return {"start": start.isoformat(), "end": end.isoformat()}


def monthly_wage(c: Chooser, currencies: Sequence[str]) -> Raw:
    currency = c.pick(currencies)
    units = rate(currency)
    # A zero wage leaves the months-of-wage measure unknown rather than infinite.
    amount = c.real((300 * units, 3_000 * units), (50 * units, 300 * units), marks=(0.0,))
    return {"amount": amount, "currency": currency}


def fee_line(c: Chooser, wage_currency: str) -> Raw:
    currency = c.pick((wage_currency, *COMMON_CURRENCIES, *CURRENCIES))
    units = rate(currency)
    return {
        "category": c.pick(tuple(FeeCategory), adverse=("recruitment_fee", "illegitimate")),
        "amount": c.real(
            (0, 300 * units), (300 * units, 4_000 * units), real_marks("item.amount", 0, 1)
        ),
        "currency": currency,
        "paid_by": c.pick(tuple(Payer), adverse=("worker",)),
    }


def fee_lines(c: Chooser, wage: Raw | None) -> list[Raw]:
    """Fee lines in several currencies; sometimes one sized in months of the wage, so the
    months-of-wage measure lands at and around its thresholds."""
    wage_currency = wage["currency"] if wage is not None else "USD"
    lines = [fee_line(c, wage_currency) for _ in range(c.integer((0, 2), (1, 4)))]
    if wage is not None and c.flag(adverse=True):
        months = c.real((0, 1), (1, 8), real_marks("measure:worker_paid_fee_months", 0, 8))
        sized = {
            "category": c.pick(tuple(FeeCategory), adverse=("recruitment_fee",)),
            "amount": wage["amount"] * months,
            "currency": wage["currency"],
            "paid_by": "worker",
        }
        lines.insert(c.integer((0, len(lines)), (0, len(lines))), sized)
    return lines


def contracts(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("written_contract", lambda: c.flag(adverse=False))
    r.signal("in_language_understood", lambda: c.flag(adverse=False))
    r.signal("signed_before_departure", lambda: c.flag(adverse=False))
    r.signal("terms_changed_on_arrival", lambda: c.flag(adverse=True))
    r.signal("wage_below_offer", lambda: c.flag(adverse=True))
    return r.raw


def grievance(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("mechanism_available", lambda: c.flag(adverse=False))
    r.signal("anonymous", lambda: c.flag(adverse=False))
    r.signal("retaliation_reported", lambda: c.flag(adverse=True))
    return r.raw


# --- supplier ---------------------------------------------------------------------------------------


def good_name(c: Chooser, country: str | None) -> str:
    listed = REFERENCE.goods.get(country, ()) if country is not None else ()
    flagged = tuple(row.good for row in listed if row.flags_forced_labour)
    name = c.pick((*GENERIC_GOODS, *(row.good for row in listed)), adverse=flagged)
    # Submitters do not copy the list's capitalisation; the match must not depend on it.
    style = c.pick(("as listed", "lower", "upper"))
    return name.lower() if style == "lower" else name.upper() if style == "upper" else name


def supplier_identity(c: Chooser) -> tuple[Raw, str | None]:
    r = Record(c, {"supplier_id": identifier(c, "SUP")})
    r.signal("name", lambda: c.text(COMPANY_NAMES))
    country = r.signal(
        "country", lambda: c.pick(SUPPLIER_COUNTRIES, adverse=FORCED_LABOUR_COUNTRIES)
    )
    r.signal("site_id", lambda: identifier(c, "SITE"))
    r.signal("sector", lambda: c.text(SECTORS))
    if c.presence() != "absent":
        r.raw["goods"] = [good_name(c, country) for _ in range(c.integer((0, 3), (1, 4)))]
    aliases(r, c)
    return r.raw, country


def aliases(r: Record, c: Chooser) -> None:
    """The names and address a watchlist screening matches besides the name (v1.3)."""
    r.signal("aliases", lambda: [c.text(ALIASES) for _ in range(c.integer((0, 2), (1, 3)))])
    r.signal("address", lambda: c.text(ADDRESSES))


def workforce(c: Chooser, total: Signal[int]) -> Raw:
    r = Record(c)
    r.place("total_workers", total)
    cap = 3_000 if total.value is None else total.value
    half = cap // 2
    share_marks = sorted(
        {
            round(cap * share) + step
            for share in THRESHOLDS.get("measure:migrant_share", ())
            for step in (-1, 0, 1)
        }
        & set(range(cap + 1))
    )
    r.signal("migrant_workers", lambda: c.integer((0, half), (half, cap), share_marks))
    young = int_marks("workforce.workers_under_18", 0, cap)
    r.signal("workers_under_18", lambda: c.integer((0, 0), (min(1, cap), min(40, cap)), young))

    def flag_or_count() -> bool | int:
        if c.pick(("flag", "count")) == "flag":
            return c.flag(adverse=True)
        return c.integer((0, 0), (min(1, cap), cap), marks=(0, min(1, cap)))

    r.signal("housed_by_employer", flag_or_count)
    r.signal("employer_tied_visa", flag_or_count)
    # v1.3: what ILO C138 and C182 judge by, around the minimum ages (13, 15) and 18.
    ages = (12, 13, 14, 15, 16, 17, 18)
    r.signal("youngest_worker_age", lambda: c.integer((18, 60), (12, 17), ages))
    r.signal("under_18_in_hazardous_work", flag_or_count)
    r.signal("under_18_in_night_work", flag_or_count)
    r.signal("youngest_in_hazardous_work_age", lambda: c.integer((17, 17), (12, 17), ages[:-1]))
    r.signal("hazard_description", lambda: c.text(HAZARDS))
    return r.raw


def recruiter_used(c: Chooser, total: int | None) -> Raw:
    r = Record(c, {"recruiter_id": identifier(c, "REC")})
    r.signal("country", lambda: c.pick(ORIGINS))
    cap = 3_000 if total is None else total
    r.signal("workers_supplied", lambda: c.integer((0, cap), (0, cap)))
    return r.raw


def wages(c: Chooser, wage: Signal[Raw]) -> Raw:
    r = Record(c)
    r.place("avg_monthly_wage", wage)
    r.signal("paid_at_least_minimum_wage", lambda: c.flag(adverse=False))
    delay = int_marks("wages.max_payment_delay_days", 0, 180)
    r.signal("max_payment_delay_days", lambda: c.integer((0, 30), (31, 120), delay))
    r.signal("payslips_provided", lambda: c.flag(adverse=False))
    r.signal("deposits_or_withheld_wages", lambda: c.flag(adverse=True))
    r.signal("paid_to_third_party", lambda: c.flag(adverse=True))
    r.signal("wage_deductions_for_debt", lambda: c.flag(adverse=True))
    return r.raw


def working_time(c: Chooser) -> Raw:
    r = Record(c)
    average = real_marks("working_time.avg_weekly_hours", 0, 168)
    avg = r.signal("avg_weekly_hours", lambda: c.real((35, 60), (60, 84), average))
    peak_marks = real_marks("working_time.max_weekly_hours", 0, 168)
    peak = r.signal("max_weekly_hours", lambda: c.real((40, 60), (60, 100), peak_marks))
    if avg is not None and peak is not None and avg > peak:
        # The contract refuses an average above the peak: the larger of the two is the peak.
        r.raw["avg_weekly_hours"], r.raw["max_weekly_hours"] = peak, avg
    rest = int_marks("working_time.rest_days_per_week", 0, 7)
    r.signal("rest_days_per_week", lambda: c.integer((1, 2), (0, 0), rest))
    r.signal("overtime_voluntary", lambda: c.flag(adverse=False))
    return r.raw


def supplier_documents(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("held_by", lambda: c.pick(tuple(DocumentHolder), adverse=("employer", "recruiter")))
    share = real_marks("documents.workers_with_documents_held_pct", 0, 100)
    r.signal("workers_with_documents_held_pct", lambda: c.real((0, 5), (5, 100), share))
    r.signal("free_access_on_request", lambda: c.flag(adverse=False))
    r.signal("written_voluntary_consent", lambda: c.flag(adverse=False))
    return r.raw


def movement(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("free_to_leave_premises", lambda: c.flag(adverse=False))
    r.signal("free_to_resign", lambda: c.flag(adverse=False))
    r.signal("resignation_penalty", lambda: c.flag(adverse=True))
    notice = int_marks("movement.notice_period_days", 0, 365)
    r.signal("notice_period_days", lambda: c.integer((0, 30), (31, 180), notice))
    r.signal("phones_confiscated", lambda: c.flag(adverse=True))
    return r.raw


def living_conditions(c: Chooser) -> Raw:
    r = Record(c)
    space = real_marks("living_conditions.sq_m_per_worker", 0, 50)
    r.signal("sq_m_per_worker", lambda: c.real((4.5, 12), (1, 4.5), space))
    crowding = int_marks("living_conditions.workers_per_room", 0, 60)
    r.signal("workers_per_room", lambda: c.integer((1, 8), (9, 24), crowding))
    r.signal("adequate_sanitation", lambda: c.flag(adverse=False))
    r.signal("hazardous_work_without_ppe", lambda: c.flag(adverse=True))
    return r.raw


def incidents(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("violence_reported", lambda: c.flag(adverse=True))
    r.signal("threats_reported", lambda: c.flag(adverse=True))
    r.signal("remote_site", lambda: c.flag(adverse=True))
    r.signal("no_outside_communication", lambda: c.flag(adverse=True))
    return r.raw


def supplier_disclosure(c: Chooser) -> Raw:
    r = Record(c, {"kind": "supplier", "period": period(c)})
    r.signal("external_ref", lambda: identifier(c, "REF"))
    r.raw["supplier"], country = supplier_identity(c)
    # Drawn first: the contract bounds head counts by the total, and fees are sized by the wage.
    total = decide(c, lambda: c.integer((20, 3_000), (20, 3_000), marks=(0, 1)))
    r.section("workforce", lambda c: workforce(c, total))
    r.items("recruiters_used", lambda c: recruiter_used(c, total.value), most=3)
    local = {"MY": "MYR", "TH": "THB", "QA": "QAR", "AE": "AED"}.get(country or "", "USD")
    wage = decide(c, lambda: monthly_wage(c, (local, *COMMON_CURRENCIES, *CURRENCIES)))

    def recruitment_costs(c: Chooser) -> Raw:
        costs = Record(c)
        costs.signal("workers_paid_fees", lambda: c.flag(adverse=True))
        if c.presence() != "absent":
            costs.raw["fee_lines"] = fee_lines(c, wage.value)
        costs.signal("fees_reimbursed", lambda: c.flag(adverse=False))
        reimbursed = real_marks("recruitment_costs.fees_reimbursed_pct", 0, 100)
        costs.signal("fees_reimbursed_pct", lambda: c.real((50, 100), (0, 50), reimbursed))
        return costs.raw

    r.section("recruitment_costs", recruitment_costs)
    r.section("wages", lambda c: wages(c, wage))
    r.section("working_time", working_time)
    r.section("documents", supplier_documents)
    r.section("movement", movement)
    r.section("contracts", contracts)
    r.section("living_conditions", living_conditions)
    r.section("grievance", grievance)
    r.section("incidents", incidents)
    return r.raw


# --- recruiter --------------------------------------------------------------------------------------


def recruiter_identity(c: Chooser, period_end: date) -> Raw:
    r = Record(c, {"recruiter_id": identifier(c, "REC")})
    r.signal("name", lambda: c.text(AGENCY_NAMES))
    r.signal("country", lambda: c.pick(ORIGINS))
    r.signal("license_number", lambda: identifier(c, "LIC"))
    # The licence rule compares this date with period.end, so the marks are days either side.
    r.signal(
        "license_valid_until",
        lambda: (
            period_end + timedelta(days=c.integer((0, 720), (-720, -1), marks=(-1, 0, 1)))
        ).isoformat(),
    )
    r.signal("iris_certified", lambda: c.flag(adverse=False))
    aliases(r, c)
    return r.raw


def placement(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("origin_country", lambda: c.pick(ORIGINS))
    r.signal("destination_country", lambda: c.pick(DESTINATIONS))
    r.signal("employer_supplier_id", lambda: identifier(c, "SUP"))
    r.signal("workers_placed", lambda: c.integer((0, 500), (0, 500)))
    return r.raw


def loans(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("offered", lambda: c.flag(adverse=True))
    interest = real_marks("loans_to_workers.interest_rate_pct", 0, 100)
    r.signal("interest_rate_pct", lambda: c.real((0, 0), (0, 60), interest))
    r.signal("repaid_by_wage_deduction", lambda: c.flag(adverse=True))
    return r.raw


def subagents(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("uses_subagents", lambda: c.flag(adverse=True))
    used = r.signal("subagents_used", lambda: c.integer((0, 4), (2, 20)))
    cap = 20 if used is None else used
    marks = {*int_marks("subagents.subagents_named", 0, cap)}
    marks |= {cap - unnamed for unnamed in int_marks("measure:unnamed_subagents", 0, cap)}
    r.signal("subagents_named", lambda: c.integer((cap, cap), (0, cap), sorted(marks)))
    return r.raw


def recruiter_documents(c: Chooser) -> Raw:
    r = Record(c)
    r.signal("holds_worker_documents", lambda: c.flag(adverse=True))
    return r.raw


def recruiter_disclosure(c: Chooser) -> Raw:
    r = Record(c, {"kind": "recruiter", "period": period(c)})
    r.signal("external_ref", lambda: identifier(c, "REF"))
    r.raw["recruiter"] = recruiter_identity(c, date.fromisoformat(r.raw["period"]["end"]))
    r.items("placements", placement, most=3)
    wage = r.signal("typical_monthly_wage", lambda: monthly_wage(c, COMMON_CURRENCIES + CURRENCIES))
    if c.presence() != "absent":
        r.raw["fee_lines"] = fee_lines(c, wage)
    r.section("loans_to_workers", loans)
    r.section("subagents", subagents)
    r.section("documents", recruiter_documents)
    r.section("contracts", contracts)
    r.section("grievance", grievance)
    return r.raw
