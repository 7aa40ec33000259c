"""Disclosure events of today's shape, cast from one event the running api really published.

Whatever the api puts in its events (attributes, headers, fields of ``data`` beyond the
disclosure) is copied from the real one; only what differs per disclosure is replaced: the event
id, the time, the disclosure id (also the correlation id) and the disclosure itself, dumped from
the contract's model as a publisher dumps it.
"""

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from laboursight_schemas.disclosure import Disclosure
from tests.bench.workload import Raw, entity_id

_DISCLOSURE: TypeAdapter[Disclosure] = TypeAdapter(Disclosure)


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    disclosure_id: str


def normalised(body: Raw) -> dict[str, Any]:
    """The disclosure as the contract's model dumps it (defaults filled in, types canonical)."""
    dumped: dict[str, Any] = _DISCLOSURE.validate_python(body).model_dump(mode="json")
    return dumped


@dataclass(frozen=True)
class Template:
    topic: str
    headers: tuple[tuple[str, bytes], ...]
    event: Mapping[str, Any]

    @classmethod
    def from_record(
        cls, topic: str, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> "Template":
        return cls(topic, tuple(headers), json.loads(value))

    def render(self, body: Raw, disclosure_id: str | None = None) -> Record:
        disclosure_id = disclosure_id or str(uuid.uuid4())
        event = {
            **self.event,
            "id": str(uuid.uuid4()),
            "time": datetime.now(UTC).isoformat(),
            "correlationid": disclosure_id,
            "data": {
                **self.event["data"],
                "disclosure_id": disclosure_id,
                "disclosure": normalised(body),
            },
        }
        return Record(
            topic=self.topic,
            key=entity_id(body).encode(),
            value=json.dumps(event, separators=(",", ":")).encode(),
            headers=list(self.headers),
            disclosure_id=disclosure_id,
        )
