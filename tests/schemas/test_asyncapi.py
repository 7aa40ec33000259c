"""The AsyncAPI document: the committed copy is what the code generates, the topology it is made
from is what the services really do, the official parser finds it valid, and the api serves it.
"""

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from aiokafka import ConsumerRecord
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from faststream.kafka.subscriber.usecase import LogicSubscriber
from pydantic import TypeAdapter

from laboursight_api.app import create_app
from laboursight_api.bus import KafkaBus
from laboursight_api.case_events import alert_dismissed, case_changed
from laboursight_api.delivery_requests import redelivery_event, requested_test_event
from laboursight_api.events import submitted_event
from laboursight_api.keys import Principal
from laboursight_api.settings import ApiSettings
from laboursight_ledger import main as ledger
from laboursight_ledger.settings import LedgerSettings
from laboursight_notify import main as notify
from laboursight_risk import main as risk
from laboursight_risk.case_events import RecordCaseEvents
from laboursight_risk.handlers import RecordFindings
from laboursight_runtime.dead_letters import error_headers
from laboursight_runtime.kafka import KafkaPublisher, make_broker
from laboursight_runtime.settings import Settings
from laboursight_runtime.topics import TOPICS as PROVISIONED
from laboursight_schemas import topics, topology
from laboursight_schemas.asyncapi import DEFAULT_OUTPUT, document, rendered
from laboursight_schemas.cases import AlertDismissed
from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.envelope import (
    ALERT_RAISED,
    ALERT_UPDATED,
    DATA_VERSIONS,
    FINDINGS_COMPUTED,
    FindingsEvent,
)
from laboursight_schemas.topics import ALERTS, DLQ_SUFFIX, FINDINGS
from laboursight_screening import main as screening
from tests.factories import BONDED_SUPPLIER, CLEAN_RECRUITER
from tests.risk.builders import case_event
from tests.risk.fakes import InMemoryRiskStore

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "tests" / "asyncapi"
GOLDEN_UPDATE = ROOT / "schemas" / "golden" / "alert-updated" / "1.0.json"
MEMORY = Settings(kafka_bootstrap_servers="in-memory", kafka_idempotent_producer=False)
POISON = b"not an event"


def test_the_committed_document_is_what_the_code_generates() -> None:
    assert DEFAULT_OUTPUT.read_text() == rendered(), (
        "the event contract changed: if deliberate, run `.venv/bin/laboursight-asyncapi` and "
        "commit schemas/asyncapi.json"
    )


# --- the topology is what the services do ------------------------------------------------------


def _broker(app: AsgiFastStream) -> KafkaBroker:
    assert isinstance(app.broker, KafkaBroker)
    return app.broker


def consumer_brokers() -> dict[str, KafkaBroker]:
    """Each consumer service's broker, wired by its own ``bootstrap``; nothing is connected."""
    return {
        topology.SCREENING: _broker(screening.bootstrap(MEMORY, screening.ScreeningSettings())),
        topology.RISK: _broker(risk.bootstrap(MEMORY)),
        topology.NOTIFY: _broker(notify.bootstrap(MEMORY)),
        topology.LEDGER: _broker(ledger.bootstrap(MEMORY, LedgerSettings())),
    }


def subscriptions(broker: KafkaBroker) -> set[tuple[str, str | None]]:
    """(topic, consumer group) of every subscriber of ``broker``."""
    found = set()
    for subscriber in broker.subscribers:
        assert isinstance(subscriber, LogicSubscriber)
        found |= {(topic, subscriber.group_id) for topic in subscriber.topic_names}
    return found


def test_every_consumer_group_is_one_a_service_subscribes() -> None:
    subscribed = {
        (service, topic, group)
        for service, broker in consumer_brokers().items()
        for topic, group in subscriptions(broker)
    }
    declared = {(s.service, t.name, s.group_id) for t in topology.TOPICS for s in t.subscriptions}
    assert subscribed == declared


def test_every_provisioned_topic_is_a_channel_with_its_partitions_and_retention() -> None:
    channels = {c["address"]: c for c in document()["channels"].values()}
    assert set(channels) == {spec.name for spec in PROVISIONED} == set(topology.topic_names())
    for spec in PROVISIONED:
        binding = channels[spec.name]["bindings"]["kafka"]
        assert binding["partitions"] == spec.partitions, spec.name
        configured = {name: int(value) for name, value in spec.config.items()}
        assert binding.get("topicConfiguration", {}) == configured, spec.name


def test_the_dead_letter_headers_are_the_ones_the_dead_letter_path_writes() -> None:
    record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
        FINDINGS, 2, 41, 0, 0, b"SUP-1", POISON, None, 5, 12, (("content-type", b"x"),)
    )
    written = error_headers(record, ValueError("no"), "decode", "risk")
    assert {name for name in written if name.startswith("dlq.")} == set(
        topology.DEAD_LETTER_HEADERS
    )


def test_the_server_is_the_default_bootstrap_servers() -> None:
    [server] = document()["servers"].values()
    assert server["host"] == Settings.model_fields["kafka_bootstrap_servers"].default
    assert server["protocol"] == "kafka"


def test_every_event_message_has_a_payload_of_its_type() -> None:
    messages = document()["components"]["messages"]
    for topic in topology.TOPICS:
        for message in topic.messages:
            payload = messages[message.name]["payload"]
            assert payload["properties"]["data"], message.name
            assert payload["properties"]["type"]["const"] == message.event_type
            assert message.event_type in DATA_VERSIONS
    channels = document()["channels"].values()
    for channel in channels:
        for ref in channel["messages"].values():
            name = ref["$ref"].removeprefix("#/components/messages/")
            assert messages[name]["payload"], name


@dataclass(frozen=True)
class Published:
    service: str
    topic: str
    value: bytes
    key: bytes | None
    headers: dict[str, str]  # as they reach a consumer, with what FastStream adds


class Spy:
    """What a service's code publishes through its broker, with the headers on the wire."""

    def __init__(self, service: str, broker: KafkaBroker) -> None:
        self.service = service
        self.broker = broker
        self.inputs = sorted(topic for topic, _ in subscriptions(broker))
        self._sent: list[tuple[str, bytes, bytes | None]] = []
        self._wire: list[tuple[str, bytes, bytes | None, dict[str, str]]] = []
        self._depth = 0

        async def on_record(message: KafkaMessage) -> None:
            record = message.raw_message
            assert not isinstance(record, tuple)
            self._wire.append((record.topic, message.body, record.key, dict(message.headers)))

        broker.subscriber(pattern=".*", group_id="asyncapi-wire")(on_record)

    @contextmanager
    def handling(self) -> Iterator[None]:
        """What is published inside this block is the service's output."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def watch(self, live: KafkaBroker, monkeypatch: pytest.MonkeyPatch, *, top: bool) -> None:
        """``top``: the outermost publish is the service's too (a publisher, not a handler)."""
        original = live.publish

        async def publish(message: Any, topic: str = "", **options: Any) -> Any:
            if top or self._depth:
                self._sent.append((topic, message, options.get("key")))
            with self.handling():
                return await original(message, topic, **options)

        monkeypatch.setattr(live, "publish", publish)

    async def poison_every_input(self, live: KafkaBroker) -> None:
        for topic in self.inputs:
            await live.publish(POISON, topic, key=b"ENTITY-1")

    def sent(self) -> list[Published]:
        found = []
        for topic, value, key in self._sent:
            [headers] = [h for t, v, k, h in self._wire if (t, v, k) == (topic, value, key)]
            found.append(Published(self.service, topic, value, key, headers))
        return found


async def what_the_services_publish(monkeypatch: pytest.MonkeyPatch) -> list[Published]:
    """The api's two disclosure events go through screening, its findings through risk; the
    api's case events and delivery requests as it publishes them; a poison record on every topic
    each consumer reads goes to its dead letters."""
    api = Spy(topology.API, make_broker(MEMORY, client_id="api"))
    async with TestKafkaBroker(api.broker) as live:
        api.watch(live, monkeypatch, top=True)
        for raw in (BONDED_SUPPLIER, CLEAN_RECRUITER):
            disclosure = TypeAdapter(Disclosure).validate_python(raw)
            topic, event = submitted_event(
                disclosure,
                disclosure_id=f"D-{disclosure.entity_id}",
                event_id=f"E-{disclosure.entity_id}",
                tenant_id="tenant-a",
                submitted_by="key-1",
            )
            await KafkaBus(live).publish(topic, disclosure.entity_id, event)
        # A case change and a dismissal (their outbox records), and the delivery requests.
        change = case_event(1, "opened", "open", ["alert-1"], tenant_id="tenant-a").data
        dismissed = AlertDismissed(
            alert_id="alert-2",
            entity_kind="supplier",
            entity_id="SUP-1",
            reason="a duplicate of alert-1",
            actor="key-1",
            at=change.at,
        )
        records = [
            case_changed("tenant-a", "case-1", change)[1],
            alert_dismissed("tenant-a", "alert-2", dismissed)[1],
        ]
        await KafkaBus(live).send(records)
        caller = Principal("key-1", "tenant-a", "analyst", frozenset())
        for request in (
            redelivery_event(caller, "sub-1", delivery_id=None, statuses=["dead"]),
            requested_test_event(caller, "sub-1", "https://hooks.example/h"),
        ):
            await KafkaBus(live).publish(topics.DELIVERY_REQUESTS, "sub-1", request)
    sent = api.sent()

    for service, broker in consumer_brokers().items():
        spy = Spy(service, broker)
        async with TestKafkaBroker(broker) as live:
            spy.watch(live, monkeypatch, top=False)
            if service == topology.SCREENING:
                for letter in sent:
                    await live.publish(letter.value, letter.topic, key=letter.key)
            await spy.poison_every_input(live)
            if service == topology.RISK:
                # Its alerts leave through the outbox after MongoDB commits: the same handlers
                # and publisher, with the in-memory store; a case triages the first alert.
                store = InMemoryRiskStore()
                handle = RecordFindings(store, KafkaPublisher(live))
                for letter in sent:
                    if letter.topic == FINDINGS:
                        with spy.handling():
                            await handle([FindingsEvent.model_validate_json(letter.value)])
                first = next(iter(store.alerts.values())).state
                opened = case_event(1, "opened", "open", [first.alert_id], tenant_id="tenant-a")
                with spy.handling():
                    await RecordCaseEvents(store, KafkaPublisher(live))([opened])
        sent += spy.sent()
    return sent


@pytest.fixture
async def published(monkeypatch: pytest.MonkeyPatch) -> list[Published]:
    return await what_the_services_publish(monkeypatch)


def test_each_service_publishes_to_the_topics_the_topology_says(
    published: list[Published],
) -> None:
    declared = {(service, t.name) for t in topology.TOPICS for service in t.publishers} | {
        (s.service, d.name) for d in topology.DEAD_LETTER_TOPICS for s in d.publishers
    }
    assert {(p.service, p.topic) for p in published} == declared


def _channel_messages(address: str) -> list[dict[str, Any]]:
    full = document()
    [channel] = [c for c in full["channels"].values() if c["address"] == address]
    return [
        full["components"]["messages"][ref["$ref"].removeprefix("#/components/messages/")]
        for ref in channel["messages"].values()
    ]


def _channel_message(address: str, event_type: str | None = None) -> dict[str, Any]:
    """The message of ``address`` that carries ``event_type``; a channel of one message (a
    dead-letter topic's, whatever the bytes) when None."""
    messages = _channel_messages(address)
    if event_type is None:
        [message] = messages
        return message
    [typed] = [m for m in messages if m["payload"]["properties"]["type"]["const"] == event_type]
    return typed


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    """``instance`` against ``schema`` (JSON Schema draft-07, which AsyncAPI's schema extends),
    with the document's components beside it so that its references resolve."""
    rooted = {**schema, "components": {"schemas": document()["components"]["schemas"]}}
    found = jsonschema_rs.iter_errors(rooted, instance, draft=jsonschema_rs.Draft7)
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in found]


def _headers_schema(message: dict[str, Any]) -> dict[str, Any]:
    headers: dict[str, Any] = message["headers"]
    if "$ref" in headers:
        name = headers["$ref"].removeprefix("#/components/schemas/")
        resolved: dict[str, Any] = document()["components"]["schemas"][name]
        return resolved
    return headers


def test_what_the_services_publish_matches_the_document(published: list[Published]) -> None:
    assert published
    for letter in published:
        assert letter.key, letter
        letter.key.decode()
        if letter.topic.endswith(DLQ_SUFFIX):
            message = _channel_message(letter.topic)
            assert not _errors(_headers_schema(message), letter.headers), letter
            assert letter.value == POISON
            continue
        event = json.loads(letter.value)
        message = _channel_message(letter.topic, event["type"])
        assert not _errors(_headers_schema(message), letter.headers), letter
        assert not _errors(message["payload"], event), (letter.topic, event)
        assert letter.headers["content-type"] == message["contentType"]
        assert letter.headers["correlation_id"] == event["correlationid"]


def test_a_wrong_event_is_not_valid_for_the_payload() -> None:
    payload = _channel_message(FINDINGS, FINDINGS_COMPUTED)["payload"]
    assert _errors(payload, {"specversion": "1.0", "type": "something.else"})


def test_each_message_of_a_channel_of_several_is_told_apart_by_its_type() -> None:
    raised, updated = (
        _channel_message(ALERTS, t)["payload"] for t in (ALERT_RAISED, ALERT_UPDATED)
    )
    assert _errors(raised, json.loads(GOLDEN_UPDATE.read_bytes()))
    assert not _errors(updated, json.loads(GOLDEN_UPDATE.read_bytes()))


def test_every_event_type_risk_publishes_is_published(published: list[Published]) -> None:
    sent = {json.loads(p.value)["type"] for p in published if p.topic == ALERTS}
    assert sent == {ALERT_RAISED, ALERT_UPDATED}


# --- the official parser -----------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    valid: bool
    output: str

    def lines(self, severity: str) -> list[str]:
        return [line for line in self.output.splitlines() if line.startswith(severity + " ")]


def parse_with_the_official_parser(path: Path) -> Verdict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the AsyncAPI parser needs Node.js (>= 18)")
    if not (CHECKER / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail(
            f"the AsyncAPI parser is not installed in {CHECKER / 'node_modules'}: run "
            "`make node-tools`"
        )
    done = subprocess.run(
        [node, str(CHECKER / "validate.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return Verdict(done.returncode == 0, done.stdout + done.stderr)


def test_the_official_parser_finds_the_committed_document_valid() -> None:
    verdict = parse_with_the_official_parser(DEFAULT_OUTPUT)
    warnings = verdict.lines("warning")
    assert verdict.valid, verdict.output
    assert not verdict.lines("error"), verdict.output
    assert not warnings, "the parser warns:\n" + "\n".join(warnings)


def _broken_copies() -> Iterator[tuple[str, dict[str, Any], str]]:
    missing_channel = document()
    missing_channel["operations"]["api.sendSupplierDisclosure"]["channel"] = {
        "$ref": "#/channels/nowhere"
    }
    yield "an operation on a missing channel", missing_channel, "invalid-ref"
    foreign_message = document()
    foreign_message["operations"]["risk.receiveFindings"]["messages"] = [
        {"$ref": "#/channels/alerts/messages/AlertRaised"}
    ]
    yield (
        "an operation with another channel's message",
        foreign_message,
        "asyncapi3-operation-messages-from-referred-channel",
    )
    no_partitions = document()
    no_partitions["channels"]["findings"]["bindings"]["kafka"]["partitions"] = 0
    yield "a topic of no partitions", no_partitions, "partitions"


@pytest.mark.parametrize(
    ("broken", "code"),
    [pytest.param(doc, code, id=what) for what, doc, code in _broken_copies()],
)
def test_the_official_parser_rejects_a_broken_document(
    tmp_path: Path, broken: dict[str, Any], code: str
) -> None:
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(broken))
    verdict = parse_with_the_official_parser(path)
    assert not verdict.valid, verdict.output
    assert any(code in line for line in verdict.lines("error")), verdict.output


# --- served by the api -------------------------------------------------------------------------


async def test_the_api_serves_the_document_without_authentication() -> None:
    # Routes only: the lifespan (Kafka, MongoDB) is not run, and this route needs neither.
    app = create_app(ApiSettings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        answer = await client.get("/asyncapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == json.loads(DEFAULT_OUTPUT.read_text())
    declared = app.openapi()["paths"]["/asyncapi.json"]["get"]["responses"]["200"]
    assert declared["content"]["application/json"]["schema"]["type"] == "object"
