"""Hand-written fakes of the pipeline's ports, failing the way the real ones do."""

from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError
from pymongo.errors import AutoReconnect

from laboursight_runtime.dead_letters import DeadLetter
from laboursight_runtime.kafka import encode
from laboursight_schemas.envelope import SupplierDisclosureEvent
from tests.factories import CLEAN_SUPPLIER, supplier_event

TOPIC = "disclosures.supplier.v1"


def record(offset: int, value: bytes, partition: int = 0) -> "ConsumerRecord[bytes, bytes]":
    return ConsumerRecord(
        TOPIC, partition, offset, 0, 0, b"SUP-001", value, None, 7, len(value), ()
    )


def event(event_id: str) -> SupplierDisclosureEvent:
    return supplier_event(CLEAN_SUPPLIER, event_id=event_id)


def records(
    ids: Sequence[str], *, partition: int = 0, first: int = 0
) -> list["ConsumerRecord[bytes, bytes]"]:
    """One record per id: ``garbage…`` ids are undecodable bytes, the others events."""
    return [
        record(
            first + n,
            name.encode() if name.startswith("garbage") else encode(event(name)),
            partition,
        )
        for n, name in enumerate(ids)
    ]


class Handler:
    """A batch handler whose effect is a list of handled event ids.

    Like a real one, it fails the whole batch when any event in it is poison (``ValueError``,
    having applied nothing), and raises ``AutoReconnect`` on its first ``transient`` calls.
    """

    def __init__(self, poison: Sequence[str] = (), transient: int = 0) -> None:
        self.poison = set(poison)
        self.transient = transient
        self.batches: list[list[str]] = []
        self.handled: list[str] = []

    async def __call__(self, events: Sequence[SupplierDisclosureEvent]) -> None:
        ids = [e.id for e in events]
        self.batches.append(ids)
        if self.transient:
            self.transient -= 1
            raise AutoReconnect("mongod unreachable")
        if bad := self.poison.intersection(ids):
            raise ValueError(f"cannot handle {sorted(bad)}")
        self.handled += ids


class DeadLetters:
    """Keeps what it is sent; fails its first ``fail`` sends like a broker that is down."""

    def __init__(self, fail: int = 0, error: Exception | None = None) -> None:
        self.sent: list[DeadLetter] = []
        self._fail = fail
        self._error = error or KafkaConnectionError("broker down")

    async def send_all(self, letters: Sequence[DeadLetter]) -> None:
        if self._fail:
            self._fail -= 1
            raise self._error
        self.sent += letters

    @property
    def offsets(self) -> list[int]:
        return [letter.record.offset for letter in self.sent]


class Offsets:
    """``assigned``: the partitions the consumer holds and where each would be read next;
    ``ends``: each partition's high watermark as the last fetch saw it (unknown if missing)."""

    def __init__(
        self,
        fail: Exception | None = None,
        assigned: Mapping[int, int] | None = None,
        ends: Mapping[int, int] | None = None,
    ) -> None:
        self.commits: list[dict[int, int]] = []
        self.rewinds: list[tuple[int, int]] = []
        self.assigned = dict(assigned or {})
        self.ends = dict(ends or {})
        self._fail = fail

    def highwater(self, partition: int) -> int | None:
        return self.ends.get(partition)

    async def positions(self) -> dict[int, int]:
        return dict(self.assigned)

    async def commit(self, next_offsets: Mapping[int, int]) -> dict[int, int]:
        if self._fail is not None:
            raise self._fail
        self.commits.append(dict(next_offsets))
        return dict(next_offsets)

    def rewind(self, partition: int, offset: int) -> None:
        self.rewinds.append((partition, offset))


class History:
    """Dead-lettered offsets per partition, as the dead-letter topic would give them back."""

    def __init__(self, dead: Mapping[int, set[int]] | None = None, fail: int = 0) -> None:
        self.dead = dict(dead or {})
        self.asked: list[dict[int, int]] = []
        self._fail = fail

    async def dead_offsets(self, topic: str, since: Mapping[int, int]) -> dict[int, set[int]]:
        self.asked.append(dict(since))
        if self._fail:
            self._fail -= 1
            raise KafkaConnectionError("broker down")
        return {p: set(self.dead.get(p, set())) for p in since}


def where(letters: Sequence[DeadLetter]) -> list[Any]:
    return [(letter.record.offset, letter.stage) for letter in letters]
