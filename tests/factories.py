"""Disclosures and events for tests: realistic defaults, overridable per test."""

import copy
import uuid
from typing import Any, TypeVar

from laboursight_schemas.envelope import (
    DATA_VERSIONS,
    RECRUITER_DISCLOSURE_SUBMITTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    Envelope,
    RecruiterDisclosureSubmitted,
    SupplierDisclosureSubmitted,
    now,
)

T = TypeVar("T", SupplierDisclosureSubmitted, RecruiterDisclosureSubmitted)

CLEAN_SUPPLIER: dict[str, Any] = {
    "kind": "supplier",
    "period": {"start": "2026-01-01", "end": "2026-06-30"},
    "supplier": {
        "supplier_id": "SUP-001",
        "name": "Harbour Garments Sdn Bhd",
        "country": "MY",
        "sector": "apparel",
        "goods": ["Garments"],
    },
    "workforce": {"total_workers": 420, "migrant_workers": 150, "workers_under_18": 0},
    "recruitment_costs": {"workers_paid_fees": False, "fee_lines": []},
    "wages": {
        "avg_monthly_wage": {"amount": 1700, "currency": "MYR"},
        "paid_at_least_minimum_wage": True,
        "max_payment_delay_days": 7,
        "payslips_provided": True,
        "deposits_or_withheld_wages": False,
        "paid_to_third_party": False,
        "wage_deductions_for_debt": False,
    },
    "working_time": {
        "avg_weekly_hours": 48,
        "max_weekly_hours": 58,
        "rest_days_per_week": 1,
        "overtime_voluntary": True,
    },
    "documents": {"held_by": "worker", "workers_with_documents_held_pct": 0},
}

BONDED_SUPPLIER: dict[str, Any] = {
    **copy.deepcopy(CLEAN_SUPPLIER),
    "supplier": {"supplier_id": "SUP-666", "country": "MY", "goods": ["Rubber Gloves"]},
    "recruitment_costs": {
        "workers_paid_fees": True,
        "fee_lines": [
            {"category": "recruitment_fee", "amount": 5100, "currency": "MYR", "paid_by": "worker"},
            {"category": "medical", "amount": 300, "currency": "MYR", "paid_by": "worker"},
        ],
        "fees_reimbursed": False,
    },
    "wages": {
        "avg_monthly_wage": {"amount": 1500, "currency": "MYR"},
        "max_payment_delay_days": 45,
        "wage_deductions_for_debt": True,
    },
    "working_time": {"avg_weekly_hours": 74, "max_weekly_hours": 90, "overtime_voluntary": False},
    "documents": {
        "held_by": "employer",
        "workers_with_documents_held_pct": 90,
        "free_access_on_request": False,
    },
}


def supplier(base: dict[str, Any] = CLEAN_SUPPLIER, **sections: Any) -> dict[str, Any]:
    """``base`` with whole sections replaced, e.g. ``supplier(documents={...})``."""
    return {**copy.deepcopy(base), **sections}


def supplier_event(
    disclosure: dict[str, Any], tenant_id: str = "tenant-a", event_id: str | None = None
) -> Envelope[SupplierDisclosureSubmitted]:
    return _submitted(
        SupplierDisclosureSubmitted, SUPPLIER_DISCLOSURE_SUBMITTED, disclosure, tenant_id, event_id
    )


def recruiter_event(
    disclosure: dict[str, Any], tenant_id: str = "tenant-a", event_id: str | None = None
) -> Envelope[RecruiterDisclosureSubmitted]:
    return _submitted(
        RecruiterDisclosureSubmitted,
        RECRUITER_DISCLOSURE_SUBMITTED,
        disclosure,
        tenant_id,
        event_id,
    )


def _submitted(
    data: type[T], type_: str, disclosure: dict[str, Any], tenant_id: str, event_id: str | None
) -> Envelope[T]:
    disclosure_id = str(uuid.uuid4())
    return Envelope[data](  # type: ignore[valid-type]
        id=event_id or str(uuid.uuid4()),
        type=type_,
        data_version=DATA_VERSIONS[type_],
        source="/tests",
        time=now(),
        tenant_id=tenant_id,
        correlation_id=disclosure_id,
        data=data.model_validate(
            {"disclosure_id": disclosure_id, "submitted_by": "key-1", "disclosure": disclosure}
        ),
    )


# A Nepali agency placing workers with a Malaysian site: licensed, IRIS certified, the employer
# pays every cost, both sub-agents named. Every signal a recruiter can disclose is known and benign.
CLEAN_RECRUITER: dict[str, Any] = {
    "kind": "recruiter",
    "period": {"start": "2026-01-01", "end": "2026-06-30"},
    "recruiter": {
        "recruiter_id": "REC-001",
        "name": "Himalaya Fair Placement Pvt Ltd",
        "country": "NP",
        "license_number": "DoFE-1187/079",
        "license_valid_until": "2027-03-31",
        "iris_certified": True,
    },
    "placements": [
        {
            "origin_country": "NP",
            "destination_country": "MY",
            "employer_supplier_id": "SUP-001",
            "workers_placed": 120,
        }
    ],
    "fee_lines": [
        {"category": "recruitment_fee", "amount": 900, "currency": "USD", "paid_by": "employer"},
        {"category": "medical", "amount": 9000, "currency": "NPR", "paid_by": "employer"},
        {"category": "travel_lodging", "amount": 1400, "currency": "MYR", "paid_by": "employer"},
    ],
    "typical_monthly_wage": {"amount": 1700, "currency": "MYR"},
    "loans_to_workers": {"offered": False},
    "subagents": {"uses_subagents": True, "subagents_used": 2, "subagents_named": 2},
    "documents": {"holds_worker_documents": False},
    "contracts": {
        "written_contract": True,
        "in_language_understood": True,
        "signed_before_departure": True,
        "terms_changed_on_arrival": False,
        "wage_below_offer": False,
    },
    "grievance": {"mechanism_available": True, "anonymous": True, "retaliation_reported": False},
}


def recruiter(base: dict[str, Any] = CLEAN_RECRUITER, **sections: Any) -> dict[str, Any]:
    """``base`` with whole sections replaced, e.g. ``recruiter(documents={...})``."""
    return {**copy.deepcopy(base), **sections}


def amended(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with single fields set by dotted path, e.g. ``{"wages.max_payment_delay_days": 31}``;
    sections on the way are created when ``base`` lacks them."""
    raw = copy.deepcopy(base)
    for path, value in changes.items():
        *sections, name = path.split(".")
        node = raw
        for section in sections:
            node = node.setdefault(section, {})
        node[name] = copy.deepcopy(value)
    return raw
