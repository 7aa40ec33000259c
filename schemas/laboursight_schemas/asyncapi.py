"""The AsyncAPI 3.0 document of the whole system, generated from ``topology`` and the envelope.

One channel per topic (dead-letter topics included, address = topic name), one message per event
type with its CloudEvents JSON payload schema and Kafka key, a ``send`` operation per producing
service and a ``receive`` operation per consumer group. The committed copy is
``schemas/asyncapi.json``; a test fails when it is not what this module generates, so run
``laboursight-asyncapi`` after a deliberate change. The api serves it at ``/asyncapi.json``.
"""

import argparse
import copy
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Final

from .envelope import CLOUDEVENTS_JSON, DATA_VERSIONS, TRACEPARENT_PATTERN
from .export import event_schema, render
from .topology import (
    DEAD_LETTER_HEADERS,
    DEAD_LETTER_TOPICS,
    SERVICES,
    TOPICS,
    DeadLetterTopic,
    Message,
    Topic,
)

ASYNCAPI_VERSION: Final = "3.0.0"
KAFKA_BINDING_VERSION: Final = "0.5.0"
DEFAULT_OUTPUT: Final = Path(__file__).resolve().parent.parent / "asyncapi.json"
SERVER: Final = "kafka"
# The default of KAFKA_BOOTSTRAP_SERVERS (laboursight_runtime.settings); a test keeps them equal.
DEFAULT_BOOTSTRAP_SERVERS: Final = "127.0.0.1:9092"
COMPONENT_SCHEMAS: Final = "#/components/schemas/"
EVENT_HEADERS: Final = "EventHeaders"

SERVICE_DESCRIPTIONS: Final = {
    "api": "The HTTP API: validates submitted disclosures and publishes them, answering 202 only "
    "after Kafka acknowledged the event.",
    "screening": "Stateless: screens each disclosure under a named rule set and reference-data "
    "edition and publishes its findings.",
    "risk": "Persists findings, keeps each entity's risk profile and raises alerts through a "
    "MongoDB outbox.",
    "notify": "Delivers alerts to the tenants' webhook subscriptions, signed (Standard Webhooks).",
    "ledger": "Appends every event on every topic, as read, to its tenant's hash chain: the "
    "auditors' tamper-evident record.",
}

DESCRIPTION: Final = """\
Event-driven due diligence for forced labour and unethical recruitment in supply chains.

Every event is a CloudEvents 1.0 event in the JSON event format, carried by the CloudEvents \
Kafka protocol binding in **structured** content mode: the record value is the whole event \
(attributes and `data`), the `content-type` header is `application/cloudevents+json`, and the \
record key is the id of the entity the event is about, so ordering holds per entity. Extension \
attributes: `tenantid`, `correlationid` (the disclosure id, through the whole chain), \
`dataversion` (the version of `data` for the event `type`) and the optional `traceparent`.

Readers ignore unknown attributes and fields and upcast older `dataversion`s on read; a new \
major version gets a new topic. Delivery is at least once: every consumer is idempotent on the \
event `id` and commits its offset only after its effect is durable. A record that can never be \
processed goes, unchanged, to `<topic>.dlq` with the error in `dlq.*` headers.
"""


def version() -> str:
    """The contract's version: the topics' major version and the newest ``data`` minor version."""
    versions = [tuple(int(part) for part in v.split(".")) for v in DATA_VERSIONS.values()]
    major, minor = max(versions)
    return f"{major}.{minor}.0"


def _ref(*parts: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)}


def _rewrite_refs(schema: Any) -> Any:
    """pydantic's ``#/$defs/X`` references, pointed at ``#/components/schemas/X``."""
    if isinstance(schema, dict):
        return {
            key: (
                COMPONENT_SCHEMAS + value.removeprefix("#/$defs/")
                if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/")
                else _rewrite_refs(value)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rewrite_refs(item) for item in schema]
    return schema


def _payloads() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Each message's payload schema, and the definitions they share."""
    payloads: dict[str, dict[str, Any]] = {}
    shared: dict[str, Any] = {}
    for topic in TOPICS:
        for message in topic.messages:
            schema = event_schema(message.model)
            for name, definition in schema.pop("$defs", {}).items():
                if shared.setdefault(name, definition) != definition:
                    raise ValueError(f"two different schemas are both named {name!r}")
            # The envelope's ``type`` is any string; on this channel it is this one.
            schema["properties"]["type"] = {
                **schema["properties"]["type"],
                "const": message.event_type,
            }
            payloads[message.name] = _rewrite_refs(schema)
    return payloads, _rewrite_refs(shared)


def _event_headers() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Event headers",
        "description": "Kafka record headers of an event. Structured content mode: the "
        "attributes are in the value, so there are no `ce_` headers.",
        "required": ["content-type"],
        "properties": {
            "content-type": {
                "type": "string",
                "const": CLOUDEVENTS_JSON,
                "description": "the CloudEvents JSON event format",
            },
            "correlation_id": {
                "type": "string",
                "description": "FastStream's correlation header, on every record it publishes: "
                "the event's `correlationid`",
            },
            "traceparent": {
                "type": "string",
                "pattern": TRACEPARENT_PATTERN,
                "description": "optional W3C Trace Context header; the event's `traceparent` "
                "attribute, when present, is the one that counts",
            },
        },
    }


def _key(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _message(topic: Topic, message: Message, payload: dict[str, Any]) -> dict[str, Any]:
    data_version = DATA_VERSIONS[message.event_type]
    return {
        "name": message.name,
        "title": message.title,
        "summary": message.summary,
        "description": f"CloudEvents `type` `{message.event_type}`, written with `dataversion` "
        f"`{data_version}`; read as `{message.model.__name__}` "
        "(`laboursight_schemas.envelope`).",
        "contentType": CLOUDEVENTS_JSON,
        "headers": {"$ref": COMPONENT_SCHEMAS + EVENT_HEADERS},
        "payload": payload,
        "correlationId": {
            "description": "the disclosure id, through the whole chain",
            "location": "$message.payload#/correlationid",
        },
        "bindings": {
            "kafka": {"key": _key(topic.key), "bindingVersion": KAFKA_BINDING_VERSION},
        },
    }


def _dead_letter_name(dead: DeadLetterTopic) -> str:
    return f"{dead.source.noun}DeadLetter"


def _dead_letter_message(dead: DeadLetterTopic) -> dict[str, Any]:
    source = dead.source
    groups = sorted(s.group_id for s in dead.publishers)
    names = ", ".join(m.name for m in source.messages)
    headers: dict[str, Any] = {
        name: {"type": "string", "description": description}
        for name, description in DEAD_LETTER_HEADERS.items()
    }
    headers["dlq.source.topic"]["const"] = source.name
    headers["dlq.source.partition"]["pattern"] = r"^\d+$"
    headers["dlq.source.offset"]["pattern"] = r"^\d+$"
    headers["dlq.consumer_group"]["enum"] = groups
    original = {
        name: {"type": "string", "description": "the original record's, if it had one"}
        for name in ("content-type", "correlation_id", "traceparent")
    }
    original["correlation_id"]["description"] += " (otherwise a new one from FastStream)"
    return {
        "name": _dead_letter_name(dead),
        "title": f"Dead letter of {source.name}",
        "summary": f"A record of {source.name} that a consumer group could never process.",
        "description": "The original record, unchanged: its value byte for byte (normally an "
        f"event ({names}), but it may be anything, since it could not be processed) and its key. "
        "Its headers are the original ones plus the `dlq.*` headers saying where it came from "
        "and why it failed, so a fixed consumer can replay it.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "title": f"Dead-letter headers of {source.name}",
            "description": "the original record's headers, plus the `dlq.*` headers",
            "required": sorted(DEAD_LETTER_HEADERS),
            "properties": {**original, **headers},
        },
        "payload": {
            "type": "string",
            "format": "binary",
            "description": f"the original value of the record read from {source.name}",
        },
        "bindings": {
            "kafka": {
                "key": _key(f"the original record's key: {source.key}"),
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _retention(config: dict[str, int]) -> str:
    if config.get("retention.ms") == -1 and config.get("retention.bytes", -1) == -1:
        return "Kept forever."
    return "The broker's default retention."


def _channel(
    address: str,
    title: str,
    description: str,
    messages: Sequence[str],
    partitions: int,
    config: dict[str, int],
) -> dict[str, Any]:
    binding: dict[str, Any] = {
        "topic": address,
        "partitions": partitions,
        "bindingVersion": KAFKA_BINDING_VERSION,
    }
    if config:
        binding["topicConfiguration"] = dict(config)
    return {
        "address": address,
        "title": title,
        "description": f"{description} {partitions} partition(s). {_retention(config)}",
        "messages": {name: _ref("components", "messages", name) for name in messages},
        "bindings": {"kafka": binding},
    }


def _operation(
    action: str,
    service: str,
    channel_id: str,
    messages: Sequence[str],
    summary: str,
    group_id: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": action,
        "channel": _ref("channels", channel_id),
        "messages": [_ref("channels", channel_id, "messages", name) for name in messages],
        "summary": summary,
        "tags": [{"name": service}],
    }
    if group_id is not None and action == "receive":
        operation["bindings"] = {
            "kafka": {
                "groupId": {"type": "string", "enum": [group_id]},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        }
    return operation


def _add(operations: dict[str, Any], operation_id: str, operation: dict[str, Any]) -> None:
    if operation_id in operations:
        raise ValueError(f"two operations are both named {operation_id!r}")
    operations[operation_id] = operation


def generate() -> dict[str, Any]:
    payloads, schemas = _payloads()
    if EVENT_HEADERS in schemas:
        raise ValueError(f"a shared schema is named {EVENT_HEADERS!r}, as a generated one is")
    schemas[EVENT_HEADERS] = _event_headers()
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in TOPICS:
        names = [m.name for m in topic.messages]
        for message in topic.messages:
            messages[message.name] = _message(topic, message, payloads[message.name])
        channels[topic.channel_id] = _channel(
            topic.name,
            topic.title,
            f"{topic.description} Key: {topic.key}.",
            names,
            topic.partitions,
            dict(topic.config),
        )
        for service in topic.publishers:
            _add(
                operations,
                f"{service}.send{topic.noun}",
                _operation(
                    "send",
                    service,
                    topic.channel_id,
                    names,
                    f"{service} publishes {', '.join(names)} to `{topic.name}`",
                ),
            )
        for subscription in topic.subscriptions:
            _add(
                operations,
                f"{subscription.service}.receive{topic.nouns}",
                _operation(
                    "receive",
                    subscription.service,
                    topic.channel_id,
                    names,
                    f"{subscription.service} consumes, as consumer group "
                    f"`{subscription.group_id}`; a record it can never process goes to "
                    f"`{topic.name}.dlq`",
                    group_id=subscription.group_id,
                ),
            )
    for dead in DEAD_LETTER_TOPICS:
        name = _dead_letter_name(dead)
        messages[name] = _dead_letter_message(dead)
        channels[dead.channel_id] = _channel(
            dead.name,
            f"{dead.source.title}: dead letters",
            f"What the consumers of {dead.source.name} could never process, with the error.",
            [name],
            dead.partitions,
            dict(dead.config),
        )
        for subscription in dead.publishers:
            _add(
                operations,
                f"{subscription.service}.send{dead.source.noun}DeadLetter",
                _operation(
                    "send",
                    subscription.service,
                    dead.channel_id,
                    [name],
                    f"{subscription.service} (consumer group `{subscription.group_id}`) "
                    f"dead-letters a record of {dead.source.name} it can never process",
                ),
            )
        for reader in dead.readers:
            _add(
                operations,
                f"{reader.service}.receive{dead.source.noun}DeadLetters",
                _operation(
                    "receive",
                    reader.service,
                    dead.channel_id,
                    [name],
                    f"{reader.service} reads, as consumer group `{reader.group_id}`, the dead "
                    "letters of its disclosures and marks them failed",
                    group_id=reader.group_id,
                ),
            )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "laboursight",
            "version": version(),
            "description": DESCRIPTION,
            "tags": [
                {"name": service, "description": SERVICE_DESCRIPTIONS[service]}
                for service in SERVICES
            ],
        },
        "defaultContentType": CLOUDEVENTS_JSON,
        "servers": {
            SERVER: {
                "host": DEFAULT_BOOTSTRAP_SERVERS,
                "protocol": "kafka",
                "title": "Kafka",
                "description": "The Kafka brokers: `KAFKA_BOOTSTRAP_SERVERS`, whose default is "
                "shown (`kafka:9092` in docker-compose.yml).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


@cache
def _document() -> dict[str, Any]:
    return generate()


def document() -> dict[str, Any]:
    """The document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())


@cache
def rendered() -> str:
    """The document as committed: sorted keys, two-space indent, a trailing newline."""
    return render(_document())


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="laboursight-asyncapi",
        description="Write the AsyncAPI 3.0 document of every Kafka topic, message and "
        "operation of laboursight, generated from the code. Run it after a deliberate change "
        "to the topology or an event contract, to refresh the committed copy that a test "
        "compares against.",
    )
    parser.add_argument(
        "output",
        nargs="?",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the document (default: the committed copy, {DEFAULT_OUTPUT})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    target: Path = _arguments(argv).output
    try:
        target.write_text(rendered())
    except OSError as error:
        sys.exit(f"laboursight-asyncapi: cannot write {target}: {error}")
    print(f"wrote the AsyncAPI document to {target}")
