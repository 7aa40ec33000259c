"""The decode step: bytes to events, tolerantly; what cannot be read is a dead letter."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic

from aiokafka import ConsumerRecord

from laboursight_runtime.dead_letters import DeadLetter
from laboursight_schemas.upcasting import Readable, read_event

from .handler import EventT


@dataclass(frozen=True)
class Decoded(Generic[EventT]):
    record: "ConsumerRecord[Any, Any]"
    event: EventT


def decode(
    records: Sequence["ConsumerRecord[Any, Any]"], event_type: Readable[EventT]
) -> tuple[list[Decoded[EventT]], list[DeadLetter]]:
    """Each record as ``event_type`` (unknown fields ignored, older versions upcast by
    ``read_event``), in the order given; the records that are no such event, as dead letters.

    Whatever reading raises counts against the record, not only ``read_event``'s documented
    ``ValueError``: reading is pure, so an upcaster tripping over odd bytes (a ``TypeError``) is
    still about those bytes, and must not stop the partition. If a bug makes every record fail,
    the dead-letter guard halts."""
    decoded: list[Decoded[EventT]] = []
    unreadable: list[DeadLetter] = []
    for record in records:
        try:
            decoded.append(Decoded(record, read_event(record.value or b"", event_type)))
        except Exception as error:
            unreadable.append(DeadLetter(record, error, "decode"))
    return decoded, unreadable
