"""Events cast from a real one: today's shape, read by the contract, one new identity each."""

import uuid
from typing import Any

from pydantic import TypeAdapter

from laboursight_runtime.kafka import encode, event_headers
from laboursight_schemas import topics
from laboursight_schemas.disclosure import Disclosure, SupplierDisclosure
from laboursight_schemas.envelope import (
    DATA_VERSIONS,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    Envelope,
    SupplierDisclosureEvent,
    SupplierDisclosureSubmitted,
    now,
)
from laboursight_schemas.upcasting import read_event
from tests.bench.corpus import corpus
from tests.bench.events import Template, normalised
from tests.bench.workload import bind

SUPPLIERS = bind([raw for _, raw in corpus(40, seed=3) if raw["kind"] == "supplier"], "t").bodies


def _published(body: dict[str, Any]) -> tuple[bytes, list[tuple[str, bytes]]]:
    """What a publisher puts on the topic for ``body`` (the api's way, with the shared runtime)."""
    disclosure = TypeAdapter(Disclosure).validate_python(body)
    assert isinstance(disclosure, SupplierDisclosure)
    event = Envelope[SupplierDisclosureSubmitted](
        id=str(uuid.uuid4()),
        type=SUPPLIER_DISCLOSURE_SUBMITTED,
        source="/laboursight/api",
        time=now(),
        tenant_id="tenant-bench",
        correlation_id="first",
        data_version=DATA_VERSIONS[SUPPLIER_DISCLOSURE_SUBMITTED],
        data=SupplierDisclosureSubmitted(
            disclosure_id="first", submitted_by="key-1", disclosure=disclosure
        ),
    )
    return encode(event), [(k, v.encode()) for k, v in event_headers(event).items()]


def test_a_cast_event_is_read_by_the_contract_with_its_own_ids_and_disclosure() -> None:
    value, headers = _published(SUPPLIERS[0])
    template = Template.from_record(topics.SUPPLIER_DISCLOSURES, value, headers)
    assert template.event["data"]["disclosure"] == normalised(SUPPLIERS[0])

    record = template.render(SUPPLIERS[1])
    event = read_event(record.value, SupplierDisclosureEvent)

    assert (record.topic, record.headers) == (topics.SUPPLIER_DISCLOSURES, headers)
    assert record.key == SUPPLIERS[1]["supplier"]["supplier_id"].encode()
    assert event.correlation_id == event.data.disclosure_id == record.disclosure_id != "first"
    assert event.id != template.event["id"]
    assert (event.tenant_id, event.data.submitted_by) == ("tenant-bench", "key-1")
    assert event.data.disclosure.model_dump(mode="json") == normalised(SUPPLIERS[1])


def test_every_cast_event_is_a_new_event_of_a_new_disclosure() -> None:
    value, headers = _published(SUPPLIERS[0])
    template = Template.from_record(topics.SUPPLIER_DISCLOSURES, value, headers)
    records = [template.render(body) for body in SUPPLIERS]
    events = [read_event(r.value, SupplierDisclosureEvent) for r in records]
    assert len({e.id for e in events}) == len({r.disclosure_id for r in records}) == len(SUPPLIERS)
