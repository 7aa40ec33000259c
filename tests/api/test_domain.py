"""The api's decisions as plain functions: no server, no I/O."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from laboursight_api import idempotency, keys
from laboursight_api.events import SOURCE, submitted_event
from laboursight_api.idempotency import Claimed, InProgress, Mismatch, Replay, Reservation
from laboursight_api.validation import InvalidBody, field_errors, json_path, parse_disclosure
from laboursight_schemas import topics
from laboursight_schemas.disclosure import RecruiterDisclosure, SupplierDisclosure
from laboursight_schemas.envelope import (
    RECRUITER_DISCLOSURE_SUBMITTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
)
from tests.factories import CLEAN_SUPPLIER

RECRUITER: dict[str, Any] = {
    "kind": "recruiter",
    "period": {"start": "2026-01-01", "end": "2026-06-30"},
    "recruiter": {"recruiter_id": "REC-001", "country": "NP"},
}


# --- JSON paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), "$"),
        (("working_time", "avg_weekly_hours"), "$.working_time.avg_weekly_hours"),
        (
            ("recruitment_costs", "fee_lines", 0, "currency"),
            "$.recruitment_costs.fee_lines[0].currency",
        ),
        (("odd key", "it's"), "$['odd key']['it\\'s']"),
    ],
)
def test_json_path(loc: tuple[int | str, ...], path: str) -> None:
    assert json_path(loc) == path


def test_the_union_tag_is_dropped_but_a_field_of_the_same_name_is_kept() -> None:
    errors = [
        {
            "type": "missing",
            "loc": ("supplier", "supplier", "supplier_id"),
            "msg": "Field required",
        },
        {"type": "value_error", "loc": ("supplier",), "msg": "Value error, bad"},
    ]
    assert field_errors(errors, tags={"supplier", "recruiter"}) == [
        {"field": "$.supplier.supplier_id", "message": "Field required"},
        {"field": "$", "message": "bad"},
    ]


# --- parsing disclosures ------------------------------------------------------------------


def _parse(body: dict[str, Any]) -> SupplierDisclosure | RecruiterDisclosure:
    return parse_disclosure(json.dumps(body).encode())


def _errors(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidBody) as raised:
        _parse(body)
    return {error["field"]: error["message"] for error in raised.value.errors}


def test_negative_hours_are_named_by_their_json_path() -> None:
    body = {**CLEAN_SUPPLIER, "working_time": {"avg_weekly_hours": -5}}
    assert _errors(body) == {
        "$.working_time.avg_weekly_hours": "Input should be greater than or equal to 0"
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": None}, "$.kind"),
        ({"kind": "supplier ", "supplier": None}, "$.kind"),
        ({"kind": "factory"}, "$.kind"),
        ({"supplier": {"supplier_id": "S", "country": "XX"}}, "$.supplier.country"),
        (
            {"wages": {"avg_monthly_wage": {"amount": 1, "currency": "XYZ"}}},
            "$.wages.avg_monthly_wage.currency",
        ),
        ({"period": {"start": "2026-06-30", "end": "2026-01-01"}}, "$.period"),
        ({"working_time": {"avg_weekly_hours": "many"}}, "$.working_time.avg_weekly_hours"),
        ({"submitted_by": "someone else"}, "$.submitted_by"),
        ({"recruiters_used": [{"recruiter_id": ""}]}, "$.recruiters_used[0].recruiter_id"),
    ],
)
def test_each_malformed_field_is_named(change: dict[str, Any], field: str) -> None:
    body = {
        name: value for name, value in {**CLEAN_SUPPLIER, **change}.items() if value is not None
    }
    assert field in _errors(body)


def test_a_valid_body_parses_to_its_kind() -> None:
    assert isinstance(_parse(CLEAN_SUPPLIER), SupplierDisclosure)
    assert isinstance(_parse(RECRUITER), RecruiterDisclosure)


# --- API keys -----------------------------------------------------------------------------


def test_a_minted_key_parses_back_and_verifies() -> None:
    key_id, secret, key = keys.mint_key()
    assert keys.parse_key(key) == (key_id, secret)
    document = keys.key_document(key_id, secret, "t", "submitter", ["S2", "S1", "S1"], "label")
    assert document["entity_ids"] == ["S1", "S2"]
    assert secret not in document.values()
    principal = keys.verify(document, secret)
    assert principal == keys.Principal(key_id, "t", "submitter", frozenset({"S1", "S2"}))


@pytest.mark.parametrize(
    "key",
    ["", "ls_", "Bearer x", "ls_0123456789ab", "ls_0123456789ab.", "ls_XYZ.secretsecretsecret"],
)
def test_malformed_keys_do_not_parse(key: str) -> None:
    assert keys.parse_key(key) is None


def test_a_wrong_secret_or_an_unknown_key_is_refused() -> None:
    key_id, secret, _ = keys.mint_key()
    document = keys.key_document(key_id, secret, "t", "analyst", [], "")
    assert keys.verify(document, secret + "x") is None
    assert keys.verify(None, secret) is None


@pytest.mark.parametrize(
    ("role", "entities"), [("submitter", []), ("analyst", ["S1"]), ("owner", []), ("admin", [])]
)
def test_key_bindings_must_fit_the_role(role: str, entities: list[str]) -> None:
    if role == "admin":
        keys.key_document("k", "s", "t", role, entities, "")
        return
    with pytest.raises(ValueError, match=r"role|submit|entity"):
        keys.key_document("k", "s", "t", role, entities, "")


# --- idempotency --------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "key"), [('"abc-123"', "abc-123"), ("abc-123", "abc-123")])
def test_idempotency_key_header(header: str, key: str) -> None:
    assert idempotency.parse_header(header) == key


@pytest.mark.parametrize("header", ['""', "", "a b", '"a\\"b"', "é", "x" * 256])
def test_malformed_idempotency_keys_are_refused(header: str) -> None:
    with pytest.raises(ValueError, match="Idempotency-Key"):
        idempotency.parse_header(header)


def test_the_fingerprint_ignores_spelling() -> None:
    reordered = dict(reversed(list(CLEAN_SUPPLIER.items())))
    first = _parse(CLEAN_SUPPLIER)
    second = parse_disclosure(json.dumps(reordered, indent=2).encode())
    assert idempotency.fingerprint(first) == idempotency.fingerprint(second)


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LOCK = timedelta(seconds=60)


def _reservation(state: idempotency.State, age_s: float = 1) -> Reservation:
    response = {"disclosure_id": "d"} if state == "done" else None
    return Reservation("sha", state, "d", "e", NOW - timedelta(seconds=age_s), response)


@pytest.mark.parametrize(
    ("reservation", "sha", "decision"),
    [
        (_reservation("done"), "other", Mismatch()),
        (_reservation("pending"), "other", Mismatch()),
        (_reservation("done"), "sha", Replay({"disclosure_id": "d"})),
        (_reservation("pending"), "sha", InProgress()),
        (_reservation("pending", age_s=61), "sha", Claimed("d", "e")),
        (_reservation("failed"), "sha", Claimed("d", "e")),
    ],
)
def test_idempotency_decision(
    reservation: Reservation, sha: str, decision: idempotency.Decision
) -> None:
    assert idempotency.decide(reservation, sha, NOW, LOCK) == decision


# --- events -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "topic", "event_type", "entity_id"),
    [
        (CLEAN_SUPPLIER, topics.SUPPLIER_DISCLOSURES, SUPPLIER_DISCLOSURE_SUBMITTED, "SUP-001"),
        (RECRUITER, topics.RECRUITER_DISCLOSURES, RECRUITER_DISCLOSURE_SUBMITTED, "REC-001"),
    ],
)
def test_the_submitted_event(
    body: dict[str, Any], topic: str, event_type: str, entity_id: str
) -> None:
    disclosure = _parse(body)
    found_topic, event = submitted_event(
        disclosure, disclosure_id="d-1", event_id="e-1", tenant_id="t", submitted_by="k"
    )
    assert found_topic == topic
    assert (event.id, event.type, event.source, event.correlation_id) == (
        "e-1",
        event_type,
        SOURCE,
        "d-1",
    )
    assert event.data.disclosure == disclosure
    assert event.data.submitted_by == "k"
    assert disclosure.entity_id == entity_id
    assert event.time.tzinfo is not None
