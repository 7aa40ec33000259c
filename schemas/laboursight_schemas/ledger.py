"""The ledger's format: one hash chain per tenant over every event on every topic.

Plain Python, no I/O: the ledger service appends by these rules and anyone holding a copy of
the entries (the api's verify route, an auditor's own script) checks them by the same rules.

An entry is the event's bytes exactly as they were read from Kafka, where they were read
(topic, partition, offset) and two SHA-256 digests, hex:

- ``event_sha256`` = SHA-256(event bytes);
- ``entry_hash`` = SHA-256 of the UTF-8 lines, each ended by ``\\n``::

      laboursight-ledger/1
      <tenant id>
      <sequence number>
      <event id>
      <topic>
      <partition>
      <offset>
      <event_sha256>
      <previous entry's entry_hash, or 64 zeros for the first entry>

Sequence numbers start at 1 and have no gaps, so a deleted entry is a missing number, two
swapped entries break the links, an edited entry or event no longer hashes to what is stored,
and the head hash (the last entry's) stands for the whole chain.

Whoever can write to the database could still rewrite a chain from an edited entry onwards,
recomputing every hash. Checkpoints stop that: once a day the ledger records each tenant's
head, signed (Ed25519) over the UTF-8 lines ``laboursight-ledger-checkpoint/1``, tenant id,
day (ISO 8601), sequence number and entry hash, each ended by ``\n``. A verify that passes a
checkpointed entry whose hash differs reports the rewrite; whoever holds a checkpoint (or the
signing key's public half) can hold the system to its past.
"""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

FORMAT: Final = "laboursight-ledger/1"
CHECKPOINT_FORMAT: Final = "laboursight-ledger-checkpoint/1"
GENESIS: Final = "0" * 64


@dataclass(frozen=True)
class Entry:
    tenant_id: str
    seq: int
    event_id: str
    topic: str
    partition: int
    offset: int
    event: bytes
    event_sha256: str
    previous_hash: str
    entry_hash: str


def event_digest(event: bytes) -> str:
    return hashlib.sha256(event).hexdigest()


def entry_digest(
    tenant_id: str,
    seq: int,
    event_id: str,
    topic: str,
    partition: int,
    offset: int,
    event_sha256: str,
    previous_hash: str,
) -> str:
    lines = (FORMAT, tenant_id, str(seq), event_id, topic, str(partition), str(offset))
    text = "".join(f"{line}\n" for line in (*lines, event_sha256, previous_hash))
    return hashlib.sha256(text.encode()).hexdigest()


def entry_document(entry: Entry, at: datetime) -> dict[str, Any]:
    """The entry as the ledger stores it in MongoDB (``collections.LEDGER``)."""
    return {
        "_id": f"{entry.tenant_id}/{entry.seq}",
        "tenant_id": entry.tenant_id,
        "seq": entry.seq,
        "event_id": entry.event_id,
        "topic": entry.topic,
        "partition": entry.partition,
        "offset": entry.offset,
        "event": entry.event,
        "event_sha256": entry.event_sha256,
        "previous_hash": entry.previous_hash,
        "entry_hash": entry.entry_hash,
        "appended_at": at,
    }


def entry_of(document: Mapping[str, Any]) -> Entry:
    return Entry(
        tenant_id=document["tenant_id"],
        seq=document["seq"],
        event_id=document["event_id"],
        topic=document["topic"],
        partition=document["partition"],
        offset=document["offset"],
        event=bytes(document["event"]),
        event_sha256=document["event_sha256"],
        previous_hash=document["previous_hash"],
        entry_hash=document["entry_hash"],
    )


@dataclass(frozen=True)
class Head:
    """Where a tenant's chain ends: ``seq`` 0 and the genesis hash before its first entry."""

    tenant_id: str
    seq: int = 0
    entry_hash: str = GENESIS


def chained(
    head: Head, events: Iterable[tuple[str, str, int, int, bytes]]
) -> tuple[list[Entry], Head]:
    """The entries that append ``events`` (event id, topic, partition, offset, bytes) after
    ``head``, in the order given, and the new head."""
    entries: list[Entry] = []
    seq, previous = head.seq, head.entry_hash
    for event_id, topic, partition, offset, event in events:
        seq += 1
        digest = event_digest(event)
        entry_hash = entry_digest(
            head.tenant_id, seq, event_id, topic, partition, offset, digest, previous
        )
        entries.append(
            Entry(
                head.tenant_id,
                seq,
                event_id,
                topic,
                partition,
                offset,
                event,
                digest,
                previous,
                entry_hash,
            )
        )
        previous = entry_hash
    return entries, Head(head.tenant_id, seq, previous)


@dataclass(frozen=True)
class Checkpoint:
    """A tenant's head as the ledger recorded it on ``day`` (UTC)."""

    tenant_id: str
    day: date
    seq: int
    entry_hash: str
    signature: str | None = None  # base64 Ed25519 over ``checkpoint_text``
    public_key: str | None = None  # base64 raw Ed25519 public key that signed it

    def text(self) -> bytes:
        lines = (CHECKPOINT_FORMAT, self.tenant_id, self.day.isoformat(), str(self.seq))
        return "".join(f"{line}\n" for line in (*lines, self.entry_hash)).encode()


def checkpoint_document(checkpoint: Checkpoint, at: datetime) -> dict[str, Any]:
    """The checkpoint as the ledger stores it (``collections.LEDGER_CHECKPOINTS``)."""
    return {
        "_id": f"{checkpoint.tenant_id}/{checkpoint.day.isoformat()}",
        "tenant_id": checkpoint.tenant_id,
        "day": checkpoint.day.isoformat(),
        "seq": checkpoint.seq,
        "entry_hash": checkpoint.entry_hash,
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
        "taken_at": at,
    }


def checkpoint_of(document: Mapping[str, Any]) -> Checkpoint:
    return Checkpoint(
        tenant_id=document["tenant_id"],
        day=date.fromisoformat(document["day"]),
        seq=document["seq"],
        entry_hash=document["entry_hash"],
        signature=document.get("signature"),
        public_key=document.get("public_key"),
    )


@dataclass(frozen=True)
class Verdict:
    """``broken_at`` is the sequence number of the first entry that fails, ``None`` when the
    chain is intact; ``entries`` and ``head_hash`` cover the entries before it."""

    tenant_id: str
    entries: int
    head_hash: str
    broken_at: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    def __str__(self) -> str:
        if self.intact:
            return f"intact: {self.entries} entries, head hash {self.head_hash}"
        return f"broken at entry {self.broken_at}: {self.reason}"


class Walk:
    """Checks a tenant's entries handed over in sequence order, one at a time."""

    def __init__(self, tenant_id: str, checkpoints: Iterable[Checkpoint] = ()) -> None:
        self._tenant_id = tenant_id
        self._head = Head(tenant_id)
        self._broken: tuple[int, str] | None = None
        self._checkpoints = {c.seq: c for c in checkpoints if c.tenant_id == tenant_id}

    @property
    def reach(self) -> int:
        """The last sequence number a checkpoint holds: the walk must get at least this far."""
        return max(self._checkpoints, default=0)

    def check(self, entry: Entry) -> bool:
        """Whether the chain is still intact after ``entry``; once broken it stays broken."""
        if self._broken is not None:
            return False
        problem = self._problem(entry)
        if problem is not None:
            self._broken = (self._head.seq + 1, problem)
            return False
        self._head = Head(self._tenant_id, entry.seq, entry.entry_hash)
        return True

    def _problem(self, entry: Entry) -> str | None:
        expected = self._head.seq + 1
        if entry.tenant_id != self._tenant_id:
            return f"entry {entry.seq} belongs to tenant {entry.tenant_id!r}"
        if entry.seq != expected:
            return f"entry {expected} is missing (the next entry is {entry.seq})"
        if entry.previous_hash != self._head.entry_hash:
            return "its previous hash is not the hash of the entry before it"
        if event_digest(entry.event) != entry.event_sha256:
            return f"its event {entry.event_id} does not hash to its event_sha256"
        recomputed = entry_digest(
            entry.tenant_id,
            entry.seq,
            entry.event_id,
            entry.topic,
            entry.partition,
            entry.offset,
            entry.event_sha256,
            entry.previous_hash,
        )
        if recomputed != entry.entry_hash:
            return "its fields do not hash to its entry_hash"
        checkpoint = self._checkpoints.get(entry.seq)
        if checkpoint is not None and checkpoint.entry_hash != entry.entry_hash:
            return (
                f"its hash is not the one checkpointed on {checkpoint.day.isoformat()}: the chain"
                " was rewritten from here or earlier"
            )
        return None

    def verdict(self, recorded: Head | None = None) -> Verdict:
        """The verdict so far; entries missing from the end of the chain, below the head the
        ledger recorded or below a checkpoint, are a break too."""
        head = self._head
        if self._broken is not None:
            return Verdict(self._tenant_id, head.seq, head.entry_hash, *self._broken)
        beyond = sorted(seq for seq in self._checkpoints if seq > head.seq)
        if beyond:
            checkpoint = self._checkpoints[beyond[-1]]
            reason = (
                f"the chain ends at entry {head.seq}, a checkpoint of "
                f"{checkpoint.day.isoformat()} holds entry {checkpoint.seq}"
            )
            return Verdict(self._tenant_id, head.seq, head.entry_hash, head.seq + 1, reason)
        if recorded is not None and (recorded.seq, recorded.entry_hash) != (
            head.seq,
            head.entry_hash,
        ):
            reason = (
                f"the chain ends at entry {head.seq}, its recorded head is entry {recorded.seq}"
            )
            return Verdict(self._tenant_id, head.seq, head.entry_hash, head.seq + 1, reason)
        return Verdict(self._tenant_id, head.seq, head.entry_hash)


def verify(
    tenant_id: str,
    entries: Iterable[Entry],
    recorded: Head | None = None,
    checkpoints: Iterable[Checkpoint] = (),
) -> Verdict:
    walk = Walk(tenant_id, checkpoints)
    for entry in entries:
        if not walk.check(entry):
            break
    return walk.verdict(recorded)
