"""The screening service wired as in production, run on the in-memory broker and on the real one:
the same test body for both, as in FastStream's own suite."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from laboursight_runtime.kafka import KafkaPublisher, Outgoing, encode, make_broker
from laboursight_runtime.pipeline import subscribe_batch
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import (
    FindingsEvent,
    SupplierDisclosureEvent,
)
from laboursight_schemas.upcasting import read_event
from laboursight_screening.handlers import Screener
from laboursight_screening.main import ScreeningSettings, bootstrap
from tests.factories import (
    BONDED_SUPPLIER,
    CLEAN_RECRUITER,
    CLEAN_SUPPLIER,
    recruiter_event,
    supplier_event,
)
from tests.screening.support import REFERENCE, RULES, findings_for


class Collector:
    """Messages seen on one topic, so a test can wait for the one it expects."""

    def __init__(self) -> None:
        self.messages: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, message: KafkaMessage) -> None:
        self.messages.append((message.body, dict(message.headers)))
        self.arrived.set()

    async def wait_for(
        self, predicate: Any, timeout_s: float = 30.0
    ) -> tuple[bytes, dict[str, str]]:
        async with asyncio.timeout(timeout_s):
            while True:
                for body, headers in self.messages:
                    if predicate(body, headers):
                        return body, headers
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture(params=["memory", pytest.param("real", marks=pytest.mark.integration)])
def settings(request: pytest.FixtureRequest) -> Settings:
    if request.param == "memory":
        return Settings(kafka_bootstrap_servers="in-memory", kafka_idempotent_producer=False)
    infra = request.getfixturevalue("infra")
    return Settings(**{k.lower(): v for k, v in infra.environment().items()})


@asynccontextmanager
async def running(broker: KafkaBroker, settings: Settings) -> AsyncIterator[KafkaBroker]:
    if settings.kafka_bootstrap_servers == "in-memory":
        async with TestKafkaBroker(broker) as test_broker:
            yield test_broker
    else:
        async with broker:
            await broker.start()
            yield broker


async def test_disclosure_in_findings_out_poison_to_dead_letters(settings: Settings) -> None:
    broker = make_broker(settings, client_id="test-screening")
    group = f"screening-{uuid.uuid4().hex[:8]}"
    subscribe_batch(
        broker,
        settings,
        topics.SUPPLIER_DISCLOSURES,
        group_id=group,
        event_type=SupplierDisclosureEvent,
        handle=Screener(KafkaPublisher(broker), RULES, REFERENCE),
    )
    findings, dead = Collector(), Collector()
    for topic, collector in [
        (topics.FINDINGS, findings),
        (topics.dead_letter_topic(topics.SUPPLIER_DISCLOSURES), dead),
    ]:
        broker.subscriber(topic, group_id=f"{group}-check", auto_offset_reset="earliest")(collector)

    event = supplier_event(BONDED_SUPPLIER)
    poison = f"not an event {uuid.uuid4()}".encode()
    async with running(broker, settings) as live:
        await live.publish(poison, topics.SUPPLIER_DISCLOSURES, key=b"SUP-666")
        await live.publish(encode(event), topics.SUPPLIER_DISCLOSURES, key=b"SUP-666")
        body, _ = await findings.wait_for(
            lambda body, _: read_event(body, FindingsEvent).correlation_id == event.correlation_id
        )
        _, headers = await dead.wait_for(lambda body, _: body == poison)

    out = read_event(body, FindingsEvent)
    assert out.data.disclosure_event_id == event.id
    assert out.data.judgement.risk_level == "critical"
    assert (out.data.rule_set_version, out.data.rule_set_hash) == (
        RULES.version,
        RULES.content_hash,
    )
    assert out.data.reference_data_edition == REFERENCE.edition
    assert headers["dlq.stage"] == "decode"
    assert headers["dlq.source.topic"] == topics.SUPPLIER_DISCLOSURES
    assert headers["dlq.error.type"] == "UnreadableEvent"


async def test_a_candidate_rule_set_named_in_the_settings_publishes_context_apart(
    settings: Settings,
) -> None:
    """The service screens with ``rule_set: 2026.12.0`` though it is not the default; its
    findings event carries context beside the findings and the contradictions found."""
    broker = make_broker(settings, client_id="test-screening-candidate")
    group = f"screening-{uuid.uuid4().hex[:8]}"
    candidate = ScreeningSettings(rule_set="2026.12.0")
    rules = candidate.catalogue().compiled(candidate.rule_set or "")
    subscribe_batch(
        broker,
        settings,
        topics.SUPPLIER_DISCLOSURES,
        group_id=group,
        event_type=SupplierDisclosureEvent,
        handle=Screener(KafkaPublisher(broker), rules, REFERENCE),
    )
    findings = Collector()
    broker.subscriber(topics.FINDINGS, group_id=f"{group}-check", auto_offset_reset="earliest")(
        findings
    )
    contradicting = {
        **CLEAN_SUPPLIER,
        "documents": {"held_by": "worker", "workers_with_documents_held_pct": 40},
    }
    event = supplier_event(contradicting)
    async with running(broker, settings) as live:
        await live.publish(encode(event), topics.SUPPLIER_DISCLOSURES, key=b"SUP-001")
        body, _ = await findings.wait_for(
            lambda body, _: read_event(body, FindingsEvent).correlation_id == event.correlation_id
        )
    out = read_event(body, FindingsEvent).data
    assert (out.rule_set_version, out.rule_set_hash) == ("2026.12.0", rules.content_hash)
    assert [f.indicator for f in out.findings] == ["retention_of_identity_documents"]
    assert [f.indicator for f in out.context or []] == ["high_risk_origin_good"]
    assert [c.fields for c in out.contradictions or []] == [
        ["$.documents.held_by", "$.documents.workers_with_documents_held_pct"]
    ]
    assert out.judgement.contradictions == ["contradiction.documents_held_by_worker"]


class BatchRecorder:
    """A publisher that keeps each ``publish_all``; fails them while ``down``."""

    def __init__(self, down: bool = False) -> None:
        self.calls: list[list[Outgoing]] = []
        self.down = down

    async def publish(self, topic: str, key: str, event: Any) -> None:
        raise AssertionError("screening publishes a batch at once, never one record alone")

    async def publish_all(self, items: Sequence[Outgoing]) -> None:
        if self.down:
            raise KafkaConnectionError("broker unreachable")
        self.calls.append(list(items))


async def test_a_batch_is_published_at_once_with_the_same_ids_every_time() -> None:
    events = [supplier_event(BONDED_SUPPLIER), supplier_event(CLEAN_SUPPLIER)]
    publisher = BatchRecorder()
    screen = Screener(publisher, RULES, REFERENCE)
    await screen(events)
    await screen(events)  # a redelivery
    first, again = publisher.calls
    assert [(topic, key) for topic, key, _ in first] == [
        (topics.FINDINGS, "SUP-666"),
        (topics.FINDINGS, "SUP-001"),
    ]
    assert [out.data.disclosure_event_id for _, _, out in first] == [e.id for e in events]
    assert [out.id for _, _, out in again] == [out.id for _, _, out in first]


def test_the_findings_carry_the_name_and_country_the_disclosure_gives() -> None:
    clean = findings_for(supplier_event(CLEAN_SUPPLIER)).data
    assert (clean.entity_name, clean.entity_country) == ("Harbour Garments Sdn Bhd", "MY")
    placed = findings_for(recruiter_event(CLEAN_RECRUITER)).data
    assert (placed.entity_name, placed.entity_country) == ("Himalaya Fair Placement Pvt Ltd", "NP")
    unnamed = findings_for(supplier_event(BONDED_SUPPLIER)).data  # it gives a country only
    assert (unnamed.entity_name, unnamed.entity_country) == (None, "MY")


async def test_a_publish_that_fails_fails_the_batch_for_the_pipeline_to_retry() -> None:
    with pytest.raises(KafkaConnectionError):
        await Screener(BatchRecorder(down=True), RULES, REFERENCE)([supplier_event(CLEAN_SUPPLIER)])


def test_the_service_refuses_to_start_with_an_unknown_rule_set() -> None:
    settings = Settings(kafka_bootstrap_servers="in-memory", kafka_idempotent_producer=False)
    with pytest.raises(ValueError, match=re.escape("unknown rule set '1999.1.0'")):
        bootstrap(settings, ScreeningSettings(rule_set="1999.1.0"))
    with pytest.raises(ValueError, match="unknown reference data edition"):
        bootstrap(settings, ScreeningSettings(reference_edition="1999.01"))
