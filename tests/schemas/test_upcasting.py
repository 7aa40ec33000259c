"""Every event ever published stays readable; today's events are CloudEvents the SDK accepts."""

import json
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from pydantic import ValidationError

from laboursight_schemas.envelope import (
    ALERT_RAISED,
    ALERT_UPDATED,
    CLOUDEVENTS_JSON,
    DATA_VERSIONS,
    FINDINGS_COMPUTED,
    RECRUITER_DISCLOSURE_SUBMITTED,
    SUPPLIER_DISCLOSURE_SUBMITTED,
    AlertEvent,
    AlertUpdatedEvent,
    Envelope,
    FindingsEvent,
)
from laboursight_schemas.export import EVENTS
from laboursight_schemas.upcasting import UPCASTERS, UnreadableEvent, event_type_of, read_event

GOLDEN = Path(__file__).resolve().parents[2] / "schemas" / "golden"


def _envelopes() -> dict[str, tuple[type[Envelope[Any]], str]]:
    """Each event type's model, and its golden folder: its JSON Schema's name without
    ``event.``/``.v1`` (``event.alert-raised.v1`` → ``alert-raised``)."""
    found: dict[str, tuple[type[Envelope[Any]], str]] = {}
    for name, model in EVENTS.items():
        assert issubclass(model, Envelope)
        found[event_type_of(model)] = (model, name.removeprefix("event.").removesuffix(".v1"))
    return found


MODELS = {event_type: model for event_type, (model, _) in _envelopes().items()}
FOLDERS = {event_type: folder for event_type, (_, folder) in _envelopes().items()}
# The attribute names of schema 1.0 and 1.1, which CloudEvents 1.0 does not allow; only the
# types published before 1.2 of the envelope have such payloads.
LEGACY = "-legacy"
GOLDEN_FILES = sorted(GOLDEN.glob("*/*.json"))
LEGACY_TYPES = sorted(
    t for t, folder in FOLDERS.items() if (GOLDEN / folder / "1.1-legacy.json").exists()
)


def golden(event_type: str, name: str) -> bytes:
    return (GOLDEN / FOLDERS[event_type] / f"{name}.json").read_bytes()


def published_versions(event_type: str) -> set[str]:
    return {v for (t, v) in UPCASTERS if t == event_type} | {DATA_VERSIONS[event_type]}


def test_every_event_type_has_a_golden_folder_and_a_model() -> None:
    assert set(FOLDERS) == set(DATA_VERSIONS) == set(MODELS)
    assert {p.name for p in GOLDEN.iterdir() if p.is_dir()} == set(FOLDERS.values())


@pytest.mark.parametrize("event_type", sorted(DATA_VERSIONS))
def test_every_published_version_has_a_golden_payload(event_type: str) -> None:
    names = {p.stem for p in (GOLDEN / FOLDERS[event_type]).glob("*.json")}
    versions = {name.removesuffix(LEGACY) for name in names}
    assert versions == published_versions(event_type), (
        "a version was added or dropped without its golden payload: serialise one real event"
        f" of it into {GOLDEN / FOLDERS[event_type]}"
    )
    # Today's version is written with today's attribute names.
    assert DATA_VERSIONS[event_type] in names


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_golden_payload_reads_with_the_current_code(path: Path) -> None:
    raw = path.read_bytes()
    event_type = json.loads(raw)["type"]
    event = read_event(raw, MODELS[event_type])
    assert event.data_version == DATA_VERSIONS[event_type]
    assert event.type == event_type
    assert event.tenant_id == "tenant-golden"
    assert event.id == json.loads(raw)["id"]


# The newest payload that holds the same event as the legacy ones: supplier disclosures of 1.2
# hold another disclosure, one that uses what 1.2 added.
@pytest.mark.parametrize(
    ("event_type", "same_as_legacy"),
    [(SUPPLIER_DISCLOSURE_SUBMITTED, "1.1"), (ALERT_RAISED, "1.2")],
)
def test_old_envelopes_of_an_unchanged_type_read_as_todays(
    event_type: str, same_as_legacy: str
) -> None:
    model = MODELS[event_type]
    today = read_event(golden(event_type, same_as_legacy), model)
    for name in ("1.0-legacy", "1.1-legacy"):
        old = read_event(golden(event_type, name), model)
        assert (old.tenant_id, old.correlation_id) == ("tenant-golden", today.correlation_id)
    if event_type == SUPPLIER_DISCLOSURE_SUBMITTED:
        assert old.data == today.data


def test_findings_before_1_2_read_with_no_name_and_no_country() -> None:
    event = read_event(golden(FINDINGS_COMPUTED, "1.1"), FindingsEvent)
    assert (event.data.entity_name, event.data.entity_country) == (None, None)
    today = read_event(golden(FINDINGS_COMPUTED, "1.2"), FindingsEvent)
    assert (today.data.entity_name, today.data.entity_country) == ("Golden Gloves Sdn Bhd", "MY")


def test_alerts_before_1_2_read_as_risk_level_alerts_without_reasons() -> None:
    for name in ("1.0-legacy", "1.1"):
        old = read_event(golden(ALERT_RAISED, name), AlertEvent).data
        assert (old.alert_type, old.reasons, old.country, old.entity_name) == (
            "risk_level",
            [],
            None,
            None,
        )


def test_a_topic_of_raised_and_updated_alerts_reads_each_as_its_type() -> None:
    both = (AlertEvent, AlertUpdatedEvent)
    raised = read_event(golden(ALERT_RAISED, "1.2"), both)
    updated = read_event(golden(ALERT_UPDATED, "1.0"), both)
    assert (type(raised), type(updated)) == (AlertEvent, AlertUpdatedEvent)
    assert updated.data.alert_id == raised.data.alert_id
    assert (updated.data.revision, updated.data.change, updated.data.status) == (
        1,
        "triaged",
        "triaged",
    )


def test_findings_of_version_1_0_are_upcast_with_what_1_1_added() -> None:
    event = read_event(golden(FINDINGS_COMPUTED, "1.0-legacy"), FindingsEvent)
    assert event.data.rule_set_hash is None
    assert event.data.chain == []
    assert event.data.findings
    assert {f.reference_data_edition for f in event.data.findings} == {"none"}


def newer(raw: bytes) -> dict[str, Any]:
    """``raw`` as a later minor version would write it: new attributes and fields everywhere."""
    document: dict[str, Any] = json.loads(raw)
    major, minor = document["dataversion"].split(".")
    document["dataversion"] = f"{major}.{int(minor) + 1}"
    document["newattribute"] = "from the future"
    document["data"]["added_field"] = {"any": ["shape"]}
    if "disclosure" in document["data"]:
        document["data"]["disclosure"]["added_section"] = {"x": 1}
    if "findings" in document["data"]:
        for finding in document["data"]["findings"]:
            finding["added_field"] = 1
            for evidence in finding["evidence"]:
                evidence["added_field"] = 1
    return document


@pytest.mark.parametrize("event_type", sorted(DATA_VERSIONS))
def test_a_reader_of_version_n_accepts_version_n_plus_one(event_type: str) -> None:
    raw = golden(event_type, DATA_VERSIONS[event_type])
    model = MODELS[event_type]
    future = read_event(json.dumps(newer(raw)).encode(), model)
    assert future.data == read_event(raw, model).data


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(type=ALERT_RAISED), UnreadableEvent),
        (lambda d: d.update(dataversion="2.0"), ValidationError),
        (lambda d: d.update(dataversion="one"), UnreadableEvent),
        (lambda d: d.update(dataversion="0.9"), UnreadableEvent),
        (lambda d: d.pop("dataversion"), UnreadableEvent),
        (lambda d: d.pop("tenantid"), ValidationError),
        (lambda d: d["data"].pop("disclosure_id"), ValidationError),
    ],
    ids=["wrong-type", "newer-major", "not-a-version", "no-upcaster", "no-version", "no-tenant",
         "data-incomplete"],
)  # fmt: skip
def test_what_no_version_of_ours_wrote_is_refused(change: Any, problem: type[Exception]) -> None:
    document = json.loads(golden(FINDINGS_COMPUTED, DATA_VERSIONS[FINDINGS_COMPUTED]))
    change(document)
    with pytest.raises(problem):
        read_event(json.dumps(document).encode(), FindingsEvent)


def test_bytes_that_are_no_json_object_are_refused() -> None:
    for raw in (b"{not json", b"[1, 2]", b'"text"'):
        with pytest.raises(UnreadableEvent):
            read_event(raw, AlertEvent)


def structured(value: bytes) -> ce_kafka.KafkaMessage:
    return ce_kafka.KafkaMessage(
        headers={"content-type": CLOUDEVENTS_JSON.encode()}, key=b"SUP-1", value=value
    )


@pytest.mark.parametrize("event_type", sorted(DATA_VERSIONS))
def test_todays_event_is_a_cloudevent_the_sdk_reads(event_type: str) -> None:
    raw = golden(event_type, DATA_VERSIONS[event_type])
    parsed = ce_kafka.from_structured(structured(raw), JSONFormat())
    ours = read_event(raw, MODELS[event_type])
    assert parsed.get_id() == ours.id
    assert parsed.get_type() == event_type
    assert parsed.get_extension("tenantid") == ours.tenant_id
    assert parsed.get_extension("correlationid") == ours.correlation_id
    assert parsed.get_extension("dataversion") == DATA_VERSIONS[event_type]
    assert parsed.get_data() == json.loads(raw)["data"]


def test_the_types_published_under_the_old_attribute_names_keep_their_payloads() -> None:
    assert (
        sorted(
            [
                SUPPLIER_DISCLOSURE_SUBMITTED,
                RECRUITER_DISCLOSURE_SUBMITTED,
                FINDINGS_COMPUTED,
                ALERT_RAISED,
            ]
        )
        == LEGACY_TYPES
    )


@pytest.mark.parametrize("event_type", LEGACY_TYPES)
def test_the_old_attribute_names_are_what_the_sdk_rejects(event_type: str) -> None:
    with pytest.raises(BaseCloudEventException):
        ce_kafka.from_structured(structured(golden(event_type, "1.1-legacy")), JSONFormat())


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("source"),
        lambda d: d.pop("type"),
        lambda d: d.update(id=""),
        lambda d: d.update(specversion="0.1"),
    ],
    # (The SDK makes up an id where there is none, so a missing id is not among them.)
    ids=["no-source", "no-type", "empty-id", "unknown-specversion"],
)
def test_an_envelope_the_sdk_rejects_we_reject_too(change: Any) -> None:
    document = json.loads(golden(ALERT_RAISED, DATA_VERSIONS[ALERT_RAISED]))
    change(document)
    raw = json.dumps(document).encode()
    with pytest.raises((BaseCloudEventException, ValueError)):
        ce_kafka.from_structured(structured(raw), JSONFormat())
    with pytest.raises((UnreadableEvent, ValidationError)):
        read_event(raw, AlertEvent)


def test_an_unset_traceparent_is_left_out_and_a_set_one_must_be_w3c() -> None:
    event = read_event(golden(ALERT_RAISED, DATA_VERSIONS[ALERT_RAISED]), AlertEvent)
    assert "traceparent" not in json.loads(event.model_dump_json())
    traced = event.model_copy(update={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"})
    written = traced.model_dump_json().encode()
    assert (
        ce_kafka.from_structured(structured(written), JSONFormat()).get_extension("traceparent")
        == traced.traceparent
    )
    document = json.loads(written)
    document["traceparent"] = "not-a-trace"
    with pytest.raises(ValidationError):
        read_event(json.dumps(document).encode(), AlertEvent)
