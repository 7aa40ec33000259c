"""The published contracts: the committed JSON Schema snapshot and the v1 validation rules."""

import json
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from laboursight_schemas.disclosure import Disclosure, SupplierDisclosure, Workforce
from laboursight_schemas.export import SNAPSHOT_DIR, json_schemas, render
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier

parse = TypeAdapter(Disclosure).validate_python


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_json_schema_matches_the_committed_snapshot(name: str) -> None:
    committed = (SNAPSHOT_DIR / f"{name}.json").read_text()
    assert render(json_schemas()[name]) == committed, (
        f"the {name} contract changed: if deliberate, run `make schemas` and commit the snapshot"
    )


def test_snapshot_has_no_stale_files() -> None:
    assert {p.stem for p in SNAPSHOT_DIR.glob("*.json")} == set(json_schemas())


def error_locations(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse(raw)
    return [".".join(str(p) for p in e["loc"][1:]) + ": " + e["msg"] for e in caught.value.errors()]


@pytest.mark.parametrize(
    ("sections", "location"),
    [
        ({"working_time": {"avg_weekly_hours": -5}}, "working_time.avg_weekly_hours"),
        ({"working_time": {"max_weekly_hours": 169}}, "working_time.max_weekly_hours"),
        (
            {"documents": {"workers_with_documents_held_pct": 101}},
            "documents.workers_with_documents_held_pct",
        ),
        ({"workforce": {"total_workers": -1}}, "workforce.total_workers"),
        ({"supplier": {"supplier_id": "S1", "country": "XX"}}, "supplier.country"),
        ({"supplier": {"supplier_id": "S1", "country": "my"}}, "supplier.country"),
        (
            {"wages": {"avg_monthly_wage": {"amount": 1, "currency": "ABC"}}},
            "wages.avg_monthly_wage.currency",
        ),
        ({"period": {"start": "2026-06-30", "end": "2026-01-01"}}, "period"),
        ({"workforce": {"total_workers": 10, "migrant_workers": 11}}, "workforce"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_invalid_values_are_rejected_naming_the_field(
    sections: dict[str, Any], location: str
) -> None:
    assert any(e.startswith(location + ":") for e in error_locations(supplier(**sections)))


def test_valid_disclosures_round_trip_through_json() -> None:
    for raw in (CLEAN_SUPPLIER, BONDED_SUPPLIER):
        model = parse(raw)
        assert parse(json.loads(model.model_dump_json())) == model


def test_unknown_and_yes_no_counts_are_both_accepted() -> None:
    def workforce(section: dict[str, Any]) -> Workforce:
        return SupplierDisclosure.model_validate(supplier(workforce=section)).workforce

    assert workforce({"housed_by_employer": True}).housed_by_employer is True
    assert workforce({"housed_by_employer": 40}).housed_by_employer == 40
    assert workforce({}).total_workers is None
