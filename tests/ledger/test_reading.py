"""What the ledger reads of a record: the envelope's attributes, today's and schema 1.0's; of
``data`` nothing is kept, and a record that is no envelope is refused (a dead letter)."""

import json
from pathlib import Path

import pytest

from laboursight_ledger.reading import read_envelope
from tests.factories import CLEAN_SUPPLIER, supplier_event

GOLDEN = Path(__file__).resolve().parents[2] / "schemas" / "golden"


def test_an_event_is_placed_by_its_attributes_and_its_data_is_not_kept() -> None:
    event = supplier_event(CLEAN_SUPPLIER, tenant_id="tenant-r", event_id="event-r")
    read = read_envelope(event.model_dump_json().encode())
    assert (read.id, read.tenant_id, read.correlation_id) == (
        "event-r",
        "tenant-r",
        event.correlation_id,
    )
    assert read.data.model_dump() == {}


def test_a_schema_1_0_envelope_is_read_by_its_old_attribute_names() -> None:
    raw = (GOLDEN / "supplier-disclosure-submitted" / "1.0-legacy.json").read_bytes()
    legacy = json.loads(raw)
    read = read_envelope(raw)
    assert (read.id, read.tenant_id, read.correlation_id) == (
        legacy["id"],
        legacy["tenant_id"],
        legacy["correlation_id"],
    )
    assert read.data.model_dump() == {}


@pytest.mark.parametrize(
    "data",
    [None, [1, 2], "a disclosure"],
    ids=["missing", "a list", "a string"],
)
def test_an_envelope_whose_data_is_no_json_object_is_refused(data: object) -> None:
    document = json.loads(supplier_event(CLEAN_SUPPLIER).model_dump_json())
    if data is None:
        del document["data"]
    else:
        document["data"] = data
    with pytest.raises(ValueError, match="data"):
        read_envelope(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("raw", "why"),
    [(b"not json", "not JSON"), (b"[1, 2]", "JSON object"), (b'{"id": "e-1"}', "tenantid")],
)
def test_a_record_that_is_no_envelope_is_refused(raw: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        read_envelope(raw)
