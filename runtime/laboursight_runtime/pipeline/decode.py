"""The decode step: bytes to events, tolerantly; what cannot be read is a dead letter."""

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord

from laboursight_runtime.dead_letters import DeadLetter
from laboursight_schemas.upcasting import Readable, read_event

from .handler import Decoded, EventT

Reading: TypeAlias = Readable[EventT] | Callable[[bytes], EventT]
"""The model(s) ``read_event`` reads a record as, or a reader of the record's bytes of its own."""


def decode(
    records: Sequence["ConsumerRecord[Any, Any]"], event_type: Reading[EventT]
) -> tuple[list[Decoded[EventT]], list[DeadLetter]]:
    """Each record as ``event_type`` (unknown fields ignored, older versions upcast by
    ``read_event``), in the order given; the records that are no such event, as dead letters.

    Whatever reading raises counts against the record, not only ``read_event``'s documented
    ``ValueError``: reading is pure, so an upcaster tripping over odd bytes (a ``TypeError``) is
    still about those bytes, and must not stop the partition. If a bug makes every record fail,
    the dead-letter guard halts."""
    read = _reader(event_type)
    decoded: list[Decoded[EventT]] = []
    unreadable: list[DeadLetter] = []
    for record in records:
        try:
            decoded.append(Decoded(record, read(record.value or b"")))
        except Exception as error:
            unreadable.append(DeadLetter(record, error, "decode"))
    return decoded, unreadable


def _reader(event_type: Reading[EventT]) -> Callable[[bytes], EventT]:
    if isinstance(event_type, (type, tuple)):
        models: Readable[EventT] = event_type
        return lambda raw: read_event(raw, models)
    return event_type
