"""Validation parity: whatever the api accepts, every stage can store.

Every number has a realistic bound, every string and list a length limit, and a value past one
is a 422 naming its JSON path; the largest disclosure the contract allows becomes an event
Kafka takes, is screened, and its findings are a document MongoDB stores.
"""

import copy
import json
from collections.abc import Iterator
from typing import Any

import bson
import httpx
import pytest
from pydantic import TypeAdapter

from laboursight_api.events import submitted_event
from laboursight_api.validation import DISCLOSURE, InvalidBody, parse_disclosure
from laboursight_runtime.kafka import encode
from laboursight_schemas import codes, disclosure
from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import FindingsEvent
from tests.api.fakes import FakeBus
from tests.factories import CLEAN_RECRUITER, CLEAN_SUPPLIER
from tests.screening.support import findings_for

INT64_MAX = 2**63 - 1
# Kafka's default limit on a record (message.max.bytes), which a topic's events must fit.
KAFKA_RECORD_LIMIT = 1_048_588
TEXT = "é" * 500  # the longest Text, in two-byte characters
IDENTIFIER = "I" * 128


def _walk(schema: dict[str, Any], defs: dict[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """Every (JSON path, leaf schema) of ``schema``, references resolved."""
    if "$ref" in schema:
        yield from _walk(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, path)
        return
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        yield from _walk(branch, defs, path)
    for name, member in schema.get("properties", {}).items():
        yield from _walk(member, defs, f"{path}.{name}")
    if "items" in schema:
        yield path, schema
        yield from _walk(schema["items"], defs, f"{path}[]")
    elif schema.get("type") in {"integer", "number", "string"}:
        yield path, schema


def _leaves() -> list[tuple[str, Any]]:
    schema = DISCLOSURE.json_schema()
    return list(_walk(schema, schema["$defs"], "$"))


def test_every_number_string_and_list_of_the_contract_is_bounded() -> None:
    unbounded = []
    for path, leaf in _leaves():
        kind = leaf.get("type", "array" if "items" in leaf else None)
        if kind == "integer":
            bounded = leaf.get("minimum", -1) >= 0 and leaf.get("maximum", INT64_MAX + 1) < 10**9
        elif kind == "number":
            bounded = "maximum" in leaf and "minimum" in leaf
        elif kind == "string":
            bounded = (
                "maxLength" in leaf
                or "enum" in leaf
                or "const" in leaf
                or leaf.get("format") == "date"
                or leaf.get("pattern", "").endswith("}$")  # ISO codes: a fixed length
            )
        else:
            bounded = "maxItems" in leaf
        if not bounded:
            unbounded.append((path, leaf))
    assert unbounded == []


def _above(bound: float) -> int | float:
    return int(bound) + 1 if float(bound).is_integer() else bound * 1.5


@pytest.mark.parametrize(
    ("section", "field", "bound"),
    [
        ("workforce", "total_workers", codes.MAX_WORKERS),
        ("workforce", "housed_by_employer", codes.MAX_WORKERS),
        ("wages", "max_payment_delay_days", codes.MAX_DAYS),
        ("movement", "notice_period_days", codes.MAX_DAYS),
        ("living_conditions", "workers_per_room", codes.MAX_WORKERS_PER_ROOM),
        ("living_conditions", "sq_m_per_worker", codes.MAX_SQ_M),
    ],
)
def test_a_number_past_its_bound_is_refused_naming_the_field(
    section: str, field: str, bound: float
) -> None:
    body = {**copy.deepcopy(CLEAN_SUPPLIER), section: {field: _above(bound)}}

    with pytest.raises(InvalidBody) as refused:
        parse_disclosure(json.dumps(body).encode())

    [error] = refused.value.errors
    assert error["field"] == f"$.{section}.{field}"


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("incidents", "violence_reported", 1),
        ("incidents", "violence_reported", "yes"),
        ("working_time", "avg_weekly_hours", "48"),
        ("workforce", "total_workers", 12.0),
    ],
)
def test_a_json_value_of_another_type_is_refused_not_coerced(
    section: str, field: str, value: Any
) -> None:
    body = {**copy.deepcopy(CLEAN_SUPPLIER), section: {field: value}}

    with pytest.raises(InvalidBody) as refused:
        parse_disclosure(json.dumps(body).encode())

    [error] = refused.value.errors
    assert error["field"] == f"$.{section}.{field}"


def test_a_recorded_event_is_read_as_leniently_as_it_was_accepted() -> None:
    body = {**copy.deepcopy(CLEAN_SUPPLIER), "incidents": {"violence_reported": 1}}

    read = parse_disclosure(json.dumps(body).encode(), strict=False)

    assert isinstance(read, disclosure.SupplierDisclosure)
    assert read.incidents.violence_reported is True


@pytest.mark.integration
@pytest.mark.parametrize("count", [2**63 + 1, INT64_MAX, 10**9])
async def test_the_overflow_disclosure_is_a_422_naming_the_field(
    api: httpx.AsyncClient, bus: FakeBus, submitter: dict[str, str], count: int
) -> None:
    body = {**copy.deepcopy(CLEAN_SUPPLIER), "workforce": {"total_workers": count}}

    answer = await api.post("/v1/disclosures", json=body, headers=submitter)

    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": "$.workforce.total_workers",
            "message": f"Input should be less than or equal to {codes.MAX_WORKERS}",
        }
    ]
    assert bus.sent == []


def _fee_lines(amount: float) -> list[dict[str, Any]]:
    # A bribe a worker paid is read by the most rules (a worker-borne cost, an illegitimate one,
    # bribery): the largest evidence a fee line makes.
    return [
        {"category": "bribe", "amount": amount, "currency": "IRR", "paid_by": "worker"}
    ] * disclosure.MAX_FEE_LINES


LARGEST_SUPPLIER: dict[str, Any] = {
    "kind": "supplier",
    "period": {"start": "0001-01-01", "end": "9999-12-31"},
    "external_ref": TEXT,
    "supplier": {
        "supplier_id": IDENTIFIER,
        "name": TEXT,
        "country": "MY",
        "site_id": IDENTIFIER,
        "sector": TEXT,
        "goods": [TEXT] * 100,
    },
    "workforce": {
        "total_workers": codes.MAX_WORKERS,
        "migrant_workers": codes.MAX_WORKERS,
        "workers_under_18": codes.MAX_WORKERS,
        "housed_by_employer": codes.MAX_WORKERS,
        "employer_tied_visa": codes.MAX_WORKERS,
        # v1.3: the youngest ages, so that both child-labour findings and their evidence (the
        # longest hazard description among it) are as large as they get.
        "youngest_worker_age": 0,
        "under_18_in_hazardous_work": codes.MAX_WORKERS,
        "under_18_in_night_work": codes.MAX_WORKERS,
        "youngest_in_hazardous_work_age": 0,
        "hazard_description": TEXT,
    },
    "recruiters_used": [
        {"recruiter_id": IDENTIFIER, "country": "NP", "workers_supplied": codes.MAX_WORKERS}
    ]
    * 500,
    "recruitment_costs": {
        "workers_paid_fees": True,
        "fee_lines": _fee_lines(codes.MAX_AMOUNT),
        "fees_reimbursed": False,
    },
    "wages": {
        "avg_monthly_wage": {"amount": 5e-324, "currency": "MYR"},
        "paid_at_least_minimum_wage": False,
        "max_payment_delay_days": codes.MAX_DAYS,
        "payslips_provided": False,
        "deposits_or_withheld_wages": True,
        "paid_to_third_party": True,
        "wage_deductions_for_debt": True,
    },
    "working_time": {
        "avg_weekly_hours": 168,
        "max_weekly_hours": 168,
        "rest_days_per_week": 0,
        "overtime_voluntary": False,
    },
    "documents": {
        "held_by": "employer",
        "workers_with_documents_held_pct": 100,
        "free_access_on_request": False,
        "written_voluntary_consent": False,
    },
    "movement": {
        "free_to_leave_premises": False,
        "free_to_resign": False,
        "resignation_penalty": True,
        "notice_period_days": codes.MAX_DAYS,
        "phones_confiscated": True,
    },
    "contracts": {
        "written_contract": False,
        "in_language_understood": False,
        "signed_before_departure": False,
        "terms_changed_on_arrival": True,
        "wage_below_offer": True,
    },
    "living_conditions": {
        "sq_m_per_worker": 0,
        "workers_per_room": codes.MAX_WORKERS_PER_ROOM,
        "adequate_sanitation": False,
        "hazardous_work_without_ppe": True,
    },
    "grievance": {"mechanism_available": False, "anonymous": False, "retaliation_reported": True},
    "incidents": {
        "violence_reported": True,
        "threats_reported": True,
        "remote_site": True,
        "no_outside_communication": True,
    },
}

LARGEST_RECRUITER: dict[str, Any] = {
    **copy.deepcopy(CLEAN_RECRUITER),
    "external_ref": TEXT,
    "recruiter": {
        "recruiter_id": IDENTIFIER,
        "name": TEXT,
        "country": "NP",
        "license_number": TEXT,
        "license_valid_until": "0001-01-01",
        "iris_certified": False,
    },
    "placements": [
        {
            "origin_country": "NP",
            "destination_country": "MY",
            "employer_supplier_id": IDENTIFIER,
            "workers_placed": codes.MAX_WORKERS,
        }
    ]
    * 500,
    "fee_lines": _fee_lines(codes.MAX_AMOUNT),
    "typical_monthly_wage": {"amount": 0, "currency": "NPR"},
    "loans_to_workers": {
        "offered": True,
        "interest_rate_pct": 100,
        "repaid_by_wage_deduction": True,
    },
    "subagents": {
        "uses_subagents": True,
        "subagents_used": codes.MAX_SUBAGENTS,
        "subagents_named": 0,
    },
}


@pytest.mark.parametrize(
    "raw", [LARGEST_SUPPLIER, LARGEST_RECRUITER], ids=["supplier", "recruiter"]
)
def test_the_largest_disclosure_is_an_event_kafka_takes_and_its_findings_mongodb_stores(
    raw: dict[str, Any],
) -> None:
    parsed = TypeAdapter(Disclosure).validate_python(raw)
    _, event = submitted_event(
        parsed,
        disclosure_id="D-" + "9" * 36,
        event_id="E-" + "9" * 36,
        tenant_id="tenant-" + "t" * 60,
        submitted_by="k" * 12,
    )
    value = encode(event)
    findings = findings_for(event)
    # As risk reads the findings event, and stores it.
    read = FindingsEvent.model_validate_json(encode(findings))
    stored = bson.encode(read.data.model_dump(mode="json"))

    assert len(value) < KAFKA_RECORD_LIMIT
    assert len(encode(findings)) < KAFKA_RECORD_LIMIT
    assert read.data.findings, "the largest disclosure is also the worst"
    assert len(stored) < 16 * 1024 * 1024
    assert bson.decode(stored)["disclosure_id"] == event.correlation_id
