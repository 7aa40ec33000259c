"""The disclosure contract v1 (DOMAIN.md). Field names are binding.

Every signal is optional: unknown (null) is not false, and the engine tells the two apart.
Unknown fields are rejected rather than dropped, so nothing a submitter sends is silently lost.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .codes import (
    MAX_WORKERS,
    Amount,
    CountryCode,
    CurrencyCode,
    Days,
    Identifier,
    Percentage,
    RoomOccupancy,
    SquareMetres,
    SubagentCount,
    Text,
    WeeklyHours,
    WorkerCount,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.end < self.start:
            raise ValueError("period.end must not be before period.start")
        return self


class Money(Strict):
    amount: Amount
    currency: CurrencyCode


class FeeCategory(StrEnum):
    RECRUITMENT_FEE = "recruitment_fee"
    MEDICAL = "medical"
    INSURANCE = "insurance"
    SKILLS_TEST = "skills_test"
    TRAINING = "training"
    EQUIPMENT = "equipment"
    TRAVEL_LODGING = "travel_lodging"
    ADMINISTRATIVE = "administrative"
    ILLEGITIMATE = "illegitimate"
    # v1.3: a bribe, kickback, extortion or facilitation payment, which ``illegitimate`` (any of
    # those, or a deposit or bond) cannot tell apart from what workers are made to lodge.
    BRIBE = "bribe"


class Payer(StrEnum):
    """Who paid a fee line. The ILO counts fees charged to workers "directly or indirectly":
    ``worker_family`` (a relative paid it for the worker) and ``lender`` (a moneylender paid
    it, so the worker owes it) are costs the worker bears as much as ``worker`` (v1.2)."""

    WORKER = "worker"
    EMPLOYER = "employer"
    RECRUITER = "recruiter"
    OTHER = "other"
    WORKER_FAMILY = "worker_family"
    LENDER = "lender"


# Who bears a fee line's cost, whoever handed over the money.
WORKER_BORNE: frozenset[Payer] = frozenset({Payer.WORKER, Payer.WORKER_FAMILY, Payer.LENDER})


# Nine categories, each paid perhaps in parts: 30 lines is far beyond a real disclosure. The
# bound also keeps the findings event within a Kafka record: the fee rules' evidence grows with
# the square of the number of lines a worker paid.
MAX_FEE_LINES = 30


class FeeLine(Strict):
    category: FeeCategory
    amount: Amount
    currency: CurrencyCode
    paid_by: Payer


class Contracts(Strict):
    written_contract: bool | None = None
    in_language_understood: bool | None = None
    signed_before_departure: bool | None = None
    terms_changed_on_arrival: bool | None = None
    wage_below_offer: bool | None = None


class Grievance(Strict):
    mechanism_available: bool | None = None
    anonymous: bool | None = None
    retaliation_reported: bool | None = None


# --- supplier -------------------------------------------------------------------------------


# v1.3: what a watchlist screening matches besides the name (rule set 2026.12.0).
Aliases = Annotated[
    list[Text] | None,
    Field(
        default=None,
        max_length=20,
        description="Other names the entity trades or is registered under, in any script (v1.3)",
    ),
]
Address = Annotated[
    Text | None, Field(default=None, description="The registered or site address (v1.3)")
]


class Supplier(Strict):
    supplier_id: Identifier
    name: Text | None = None
    country: CountryCode | None = None
    site_id: Identifier | None = None
    sector: Text | None = None
    goods: list[Text] = Field(default_factory=list, max_length=100)
    aliases: Aliases = None
    address: Address = None


def _one_error(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    # Otherwise each member of the union reports, under a name the submitter never wrote.
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "count_or_flag",
            "Input should be true, false or a number of workers from 0 to {most}",
            {"most": MAX_WORKERS},
        ) from None


# A yes/no answer or a head count: submitters know one or the other, and both are evidence.
CountOrFlag = Annotated[bool | WorkerCount, WrapValidator(_one_error)]


class Workforce(Strict):
    total_workers: WorkerCount | None = None
    migrant_workers: WorkerCount | None = None
    workers_under_18: WorkerCount | None = None
    housed_by_employer: CountOrFlag | None = None
    employer_tied_visa: CountOrFlag | None = None
    # v1.3: what ILO C138 and C182 judge a young worker's work by, which a head count of
    # under-18s cannot tell (15 to 17 in non-hazardous work is lawful).
    youngest_worker_age: Annotated[int, Field(ge=0, le=99)] | None = Field(
        default=None, description="Age in years of the youngest worker during the period (v1.3)"
    )
    under_18_in_hazardous_work: CountOrFlag | None = Field(
        default=None,
        description="Workers under 18 doing hazardous work (ILO C182 art. 3(d)): a head count "
        "or yes/no (v1.3)",
    )
    under_18_in_night_work: CountOrFlag | None = Field(
        default=None,
        description="Workers under 18 working at night (ILO R190 para. 3(e)): a head count or "
        "yes/no (v1.3)",
    )
    youngest_in_hazardous_work_age: Annotated[int, Field(ge=0, le=17)] | None = Field(
        default=None,
        description="Age in years of the youngest worker under 18 doing hazardous work (v1.3)",
    )
    hazard_description: Text | None = Field(
        default=None, description="The hazardous work under-18s do, in the submitter's words (v1.3)"
    )

    @model_validator(mode="after")
    def _parts_within_total(self) -> Self:
        if self.total_workers is None:
            return self
        for name in (
            "migrant_workers",
            "workers_under_18",
            "housed_by_employer",
            "employer_tied_visa",
            "under_18_in_hazardous_work",
            "under_18_in_night_work",
        ):
            part = getattr(self, name)
            if not isinstance(part, bool) and part is not None and part > self.total_workers:
                raise ValueError(
                    f"workforce.{name} ({part}) exceeds total_workers ({self.total_workers})"
                )
        return self


class RecruiterUsed(Strict):
    recruiter_id: Identifier
    country: CountryCode | None = None
    workers_supplied: WorkerCount | None = None


class RecruitmentCosts(Strict):
    workers_paid_fees: bool | None = None
    fee_lines: list[FeeLine] = Field(default_factory=list, max_length=MAX_FEE_LINES)
    fees_reimbursed: bool | None = None
    fees_reimbursed_pct: Percentage | None = Field(
        default=None,
        description="The share of the worker-borne costs reimbursed to the workers, when "
        "reimbursement was partial (v1.2)",
    )


class Wages(Strict):
    avg_monthly_wage: Money | None = None
    paid_at_least_minimum_wage: bool | None = None
    max_payment_delay_days: Days | None = None
    payslips_provided: bool | None = None
    deposits_or_withheld_wages: bool | None = None
    paid_to_third_party: bool | None = None
    wage_deductions_for_debt: bool | None = None


class WorkingTime(Strict):
    avg_weekly_hours: WeeklyHours | None = None
    max_weekly_hours: WeeklyHours | None = None
    rest_days_per_week: Annotated[int, Field(ge=0, le=7)] | None = None
    overtime_voluntary: bool | None = None

    @model_validator(mode="after")
    def _average_within_maximum(self) -> Self:
        avg, peak = self.avg_weekly_hours, self.max_weekly_hours
        if avg is not None and peak is not None and avg > peak:
            raise ValueError("working_time.avg_weekly_hours exceeds max_weekly_hours")
        return self


class DocumentHolder(StrEnum):
    WORKER = "worker"
    EMPLOYER = "employer"
    RECRUITER = "recruiter"
    OTHER = "other"


class SupplierDocuments(Strict):
    held_by: DocumentHolder | None = None
    workers_with_documents_held_pct: Percentage | None = None
    free_access_on_request: bool | None = None
    written_voluntary_consent: bool | None = None


class Movement(Strict):
    free_to_leave_premises: bool | None = None
    free_to_resign: bool | None = None
    resignation_penalty: bool | None = None
    notice_period_days: Days | None = None
    phones_confiscated: bool | None = None


class LivingConditions(Strict):
    sq_m_per_worker: SquareMetres | None = None
    workers_per_room: RoomOccupancy | None = None
    adequate_sanitation: bool | None = None
    hazardous_work_without_ppe: bool | None = None


class Incidents(Strict):
    violence_reported: bool | None = None
    threats_reported: bool | None = None
    remote_site: bool | None = None
    no_outside_communication: bool | None = None


class SupplierDisclosure(Strict):
    """One site, one period."""

    kind: Literal["supplier"]
    period: Period
    external_ref: Text | None = None
    supplier: Supplier
    workforce: Workforce = Field(default_factory=Workforce)
    recruiters_used: list[RecruiterUsed] = Field(default_factory=list, max_length=500)
    recruitment_costs: RecruitmentCosts = Field(default_factory=RecruitmentCosts)
    wages: Wages = Field(default_factory=Wages)
    working_time: WorkingTime = Field(default_factory=WorkingTime)
    documents: SupplierDocuments = Field(default_factory=SupplierDocuments)
    movement: Movement = Field(default_factory=Movement)
    contracts: Contracts = Field(default_factory=Contracts)
    living_conditions: LivingConditions = Field(default_factory=LivingConditions)
    grievance: Grievance = Field(default_factory=Grievance)
    incidents: Incidents = Field(default_factory=Incidents)

    @property
    def entity_id(self) -> str:
        return self.supplier.supplier_id


# --- recruiter ------------------------------------------------------------------------------


class Recruiter(Strict):
    recruiter_id: Identifier
    name: Text | None = None
    country: CountryCode | None = None
    license_number: Text | None = None
    license_valid_until: date | None = None
    iris_certified: bool | None = None
    aliases: Aliases = None
    address: Address = None


class Placement(Strict):
    origin_country: CountryCode | None = None
    destination_country: CountryCode | None = None
    employer_supplier_id: Identifier | None = None
    workers_placed: WorkerCount | None = None


class LoansToWorkers(Strict):
    offered: bool | None = None
    interest_rate_pct: Percentage | None = None
    repaid_by_wage_deduction: bool | None = None


class Subagents(Strict):
    uses_subagents: bool | None = None
    subagents_used: SubagentCount | None = None
    subagents_named: SubagentCount | None = None

    @model_validator(mode="after")
    def _named_within_used(self) -> Self:
        used, named = self.subagents_used, self.subagents_named
        if used is not None and named is not None and named > used:
            raise ValueError("subagents.subagents_named exceeds subagents_used")
        return self


class RecruiterDocuments(Strict):
    holds_worker_documents: bool | None = None


class RecruiterDisclosure(Strict):
    """One agency, one period."""

    kind: Literal["recruiter"]
    period: Period
    external_ref: Text | None = None
    recruiter: Recruiter
    placements: list[Placement] = Field(default_factory=list, max_length=500)
    fee_lines: list[FeeLine] = Field(default_factory=list, max_length=MAX_FEE_LINES)
    typical_monthly_wage: Money | None = None
    loans_to_workers: LoansToWorkers = Field(default_factory=LoansToWorkers)
    subagents: Subagents = Field(default_factory=Subagents)
    documents: RecruiterDocuments = Field(default_factory=RecruiterDocuments)
    contracts: Contracts = Field(default_factory=Contracts)
    grievance: Grievance = Field(default_factory=Grievance)

    @property
    def entity_id(self) -> str:
        return self.recruiter.recruiter_id


Disclosure = Annotated[SupplierDisclosure | RecruiterDisclosure, Field(discriminator="kind")]
EntityKind = Literal["supplier", "recruiter"]
