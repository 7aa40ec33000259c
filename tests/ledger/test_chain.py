"""The ledger's format: what verify catches, and that a third party can recompute it."""

import dataclasses
import hashlib

from laboursight_schemas.ledger import GENESIS, Entry, Head, Walk, chained, verify

TENANT = "tenant-a"


def chain(count: int) -> list[Entry]:
    events = [
        (f"event-{n}", "findings.v1", n % 3, 100 + n, f'{{"id":"event-{n}"}}'.encode())
        for n in range(count)
    ]
    entries, _ = chained(Head(TENANT), events)
    return entries


def test_an_untouched_chain_is_intact_and_its_head_is_the_last_entry_hash() -> None:
    entries = chain(5)
    verdict = verify(TENANT, entries, Head(TENANT, 5, entries[-1].entry_hash))
    assert verdict.intact
    assert (verdict.entries, verdict.head_hash) == (5, entries[-1].entry_hash)
    assert str(verdict) == f"intact: 5 entries, head hash {entries[-1].entry_hash}"


def test_the_entry_hash_is_the_documented_lines_recomputed_by_hand() -> None:
    first = chain(1)[0]
    event = b'{"id":"event-0"}'
    lines = [
        "laboursight-ledger/1", TENANT, "1", "event-0", "findings.v1", "0", "100",
        hashlib.sha256(event).hexdigest(), GENESIS,
    ]  # fmt: skip
    assert first.entry_hash == hashlib.sha256("".join(f"{x}\n" for x in lines).encode()).hexdigest()


def test_an_edited_entry_field_is_caught_naming_the_entry() -> None:
    entries = chain(5)
    entries[2] = dataclasses.replace(entries[2], offset=999)
    verdict = verify(TENANT, entries)
    assert (verdict.broken_at, verdict.reason) == (3, "its fields do not hash to its entry_hash")
    assert verdict.entries == 2


def test_an_edited_event_payload_is_caught() -> None:
    entries = chain(5)
    entries[3] = dataclasses.replace(entries[3], event=b'{"id":"event-3","risk":"low"}')
    verdict = verify(TENANT, entries)
    assert verdict.broken_at == 4
    assert verdict.reason == "its event event-3 does not hash to its event_sha256"


def test_a_payload_edited_with_its_digest_recomputed_still_breaks_the_entry_hash() -> None:
    entries = chain(5)
    forged = b'{"id":"event-1","forged":true}'
    entries[1] = dataclasses.replace(
        entries[1], event=forged, event_sha256=hashlib.sha256(forged).hexdigest()
    )
    assert verify(TENANT, entries).broken_at == 2


def test_a_deleted_entry_is_a_missing_sequence_number() -> None:
    entries = chain(5)
    del entries[1]
    verdict = verify(TENANT, entries)
    assert (verdict.broken_at, verdict.reason) == (2, "entry 2 is missing (the next entry is 3)")


def test_two_reordered_entries_break_the_links() -> None:
    entries = chain(5)
    second, third = entries[1], entries[2]
    entries[1] = dataclasses.replace(third, seq=2)
    entries[2] = dataclasses.replace(second, seq=3)
    verdict = verify(TENANT, entries)
    assert verdict.broken_at == 2
    assert verdict.reason == "its previous hash is not the hash of the entry before it"


def test_entries_cut_from_the_end_disagree_with_the_recorded_head() -> None:
    entries = chain(5)
    verdict = verify(TENANT, entries[:3], Head(TENANT, 5, entries[-1].entry_hash))
    assert verdict.broken_at == 4
    assert verdict.reason == "the chain ends at entry 3, its recorded head is entry 5"


def test_a_chain_rebuilt_from_scratch_with_other_content_does_not_match_the_recorded_head() -> None:
    entries = chain(3)
    rebuilt, _ = chained(Head(TENANT), [("x", "alerts.v1", 0, 0, b"{}")] * 3)
    assert not verify(TENANT, rebuilt, Head(TENANT, 3, entries[-1].entry_hash)).intact


def test_another_tenants_entry_is_caught() -> None:
    entries = chain(2)
    entries[1] = dataclasses.replace(entries[1], tenant_id="tenant-b")
    assert verify(TENANT, entries).reason == "entry 2 belongs to tenant 'tenant-b'"


def test_appending_after_a_head_continues_its_numbering_and_links() -> None:
    first, head = chained(Head(TENANT), [("a", "t", 0, 0, b"1")])
    more, end = chained(head, [("b", "t", 0, 1, b"2"), ("c", "t", 0, 2, b"3")])
    assert [e.seq for e in first + more] == [1, 2, 3]
    assert more[0].previous_hash == first[0].entry_hash
    walk = Walk(TENANT)
    assert all(walk.check(e) for e in first + more)
    assert walk.verdict(end).intact
