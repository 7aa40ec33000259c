"""Keyset paging and the list queries' filters, without a database: a hand-written list that
scans as MongoDB would, and the filter documents the routes send."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from laboursight_api import keyset
from laboursight_api.alert_queries import AlertQuery, chain
from laboursight_api.cursors import Position
from laboursight_api.disclosure_queries import stored_filter
from laboursight_api.entity_queries import EntityQuery
from laboursight_api.errors import ApiError
from laboursight_api.finding_queries import FindingQuery, items
from laboursight_api.keys import Principal
from laboursight_api.keyset import Direction, collect

T0 = datetime(2026, 11, 1, tzinfo=UTC)
Document = dict[str, Any]


class FakeList:
    """Documents sorted by (``at``, ``_id``) in one direction; scanned from a position as the
    filter of ``keyset.after`` selects (the document at an indexed position included)."""

    def __init__(self, documents: Sequence[Document], direction: Direction = -1) -> None:
        self.documents = list(documents)
        self.direction = direction
        self.read = 0

    def in_order(self) -> list[Document]:
        return sorted(
            self.documents, key=lambda d: (d["at"], d["_id"]), reverse=self.direction == -1
        )

    async def scan(self, start: Position | None, count: int) -> list[Document]:
        found = self.in_order()
        if start is not None:
            place = (start.key, start.id)
            found = [
                d
                for d in found
                if ((d["at"], d["_id"]) == place and start.index is not None)
                or (
                    (d["at"], d["_id"]) < place
                    if self.direction == -1
                    else (d["at"], d["_id"]) > place
                )
            ]
        self.read += min(count, len(found))
        return found[:count]


def _position(document: Document) -> Position:
    return Position(document["at"], document["_id"])


async def _kept(
    documents: list[Document], _: Position | None, keep: str | None = None
) -> list[tuple[Position, str]]:
    return [(_position(d), d["_id"]) for d in documents if keep is None or d.get("tag") == keep]


def _documents(count: int, *, ties: int = 1) -> list[Document]:
    # ``ties`` documents share each time, as lines of one batch upload may.
    return [
        {"_id": f"d-{i:03}", "at": T0 + timedelta(seconds=i // ties), "tag": "x" if i % 7 else "y"}
        for i in range(count)
    ]


async def _all_pages(source: FakeList, limit: int, **options: Any) -> list[list[str]]:
    pages, start = [], None
    while True:
        page = await collect(source.scan, _kept, _position, start=start, limit=limit, **options)
        pages.append(page.items)
        if page.next is None:
            return pages
        start = page.next


@pytest.mark.parametrize("direction", [-1, 1])
@pytest.mark.parametrize("ties", [1, 4])
async def test_pages_hold_every_document_once_in_order(direction: Direction, ties: int) -> None:
    source = FakeList(_documents(23, ties=ties), direction)
    pages = await _all_pages(source, limit=5)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [i for p in pages for i in p] == [d["_id"] for d in source.in_order()]


async def test_an_exact_last_page_has_no_next() -> None:
    pages = await _all_pages(FakeList(_documents(10)), limit=5)
    assert [len(p) for p in pages] == [5, 5]


async def test_an_empty_list_is_one_empty_page() -> None:
    assert await _all_pages(FakeList([]), limit=5) == [[]]


async def test_documents_inserted_between_pages_neither_repeat_nor_shift_a_page() -> None:
    source = FakeList(_documents(12))
    first = await collect(source.scan, _kept, _position, start=None, limit=5)
    # Newer ones: the head of a newest-first list, already behind the cursor.
    source.documents += [
        {"_id": f"new-{i}", "at": T0 + timedelta(days=1, seconds=i)} for i in range(9)
    ]
    rest = await _all_pages_from(source, first.next, limit=5)
    assert first.items + rest == [f"d-{i:03}" for i in range(11, -1, -1)]


async def _all_pages_from(source: FakeList, start: Position | None, limit: int) -> list[str]:
    found: list[str] = []
    while start is not None:
        page = await collect(source.scan, _kept, _position, start=start, limit=limit)
        found += page.items
        start = page.next
    return found


async def test_a_filter_that_keeps_few_stops_at_the_budget_and_resumes() -> None:
    source = FakeList(_documents(100))

    async def rare(documents: list[Document], start: Position | None) -> list[tuple[Position, str]]:
        return await _kept(documents, start, keep="y")

    pages, start = [], None
    while True:
        page = await collect(source.scan, rare, _position, start=start, limit=10, budget=30)
        assert source.read <= 30
        source.read = 0
        pages.append(page.items)
        if page.next is None:
            break
        start = page.next
    expected = [d["_id"] for d in FakeList(_documents(100)).in_order() if d["tag"] == "y"]
    assert [i for p in pages for i in p] == expected
    assert len(pages) > 1
    assert all(len(p) < 10 for p in pages)


async def test_documents_with_several_items_split_across_pages() -> None:
    # A screening lists several findings; a page may end in the middle of its list.
    documents = [
        {"_id": "s-3", "at": T0 + timedelta(seconds=3), "findings": ["a", "b", "c"]},
        {"_id": "s-2", "at": T0 + timedelta(seconds=2), "findings": []},
        {"_id": "s-1", "at": T0 + timedelta(seconds=1), "findings": ["d", "e"]},
    ]
    source = FakeList(documents)

    async def each(found: list[Document], start: Position | None) -> list[tuple[Position, str]]:
        pairs = []
        for d in found:
            skip = start.index if start and start.index is not None and start.id == d["_id"] else -1
            pairs += [
                (Position(d["at"], d["_id"], i), f) for i, f in enumerate(d["findings"]) if i > skip
            ]
        return pairs

    seen, start = [], None
    while True:
        page = await collect(source.scan, each, _position, start=start, limit=2)
        seen.append(page.items)
        if page.next is None:
            break
        start = page.next
    assert seen == [["a", "b"], ["c", "d"], ["e"]]


def test_after_reads_one_range_and_leaves_out_the_ties_read() -> None:
    at = Position(T0, "d-5")
    assert keyset.after("at", at, -1) == {
        "at": {"$lte": T0},
        "$nor": [{"at": T0, "_id": {"$gte": "d-5"}}],
    }
    assert keyset.after("at", at, 1) == {
        "at": {"$gte": T0},
        "$nor": [{"at": T0, "_id": {"$lte": "d-5"}}],
    }
    inside = Position(T0, "d-5", 2)
    assert keyset.after("at", inside, -1)["$nor"] == [{"at": T0, "_id": {"$gt": "d-5"}}]
    assert keyset.after("at", inside, 1)["$nor"] == [{"at": T0, "_id": {"$lt": "d-5"}}]


def test_both_keeps_two_bounds_on_one_field() -> None:
    period = {"at": {"$gte": T0}}
    assert keyset.both(period, {}) == period
    assert keyset.both({}, {}) == {}
    assert keyset.both(period, {"at": {"$gte": T0 + timedelta(1)}}) == {
        "$and": [period, {"at": {"$gte": T0 + timedelta(1)}}]
    }


def _caller(role: str, *entities: str) -> Principal:
    return Principal("k", "tenant-a", role, frozenset(entities))  # type: ignore[arg-type]


def test_a_submitter_sees_only_its_own_entities() -> None:
    submitter = _caller("submitter", "SUP-1", "REC-1")
    mine = stored_filter(submitter, status=None, kind=None, entity_id=None, since=None, until=None)
    assert mine["entity_id"] == {"$in": ["REC-1", "SUP-1"]}
    other = stored_filter(
        submitter, status=None, kind=None, entity_id="SUP-2", since=None, until=None
    )
    assert other["entity_id"] == {"$in": []}
    analyst = stored_filter(
        _caller("analyst"),
        status="failed",
        kind="supplier",
        entity_id="SUP-2",
        since=T0,
        until=None,
    )
    assert analyst == {
        "tenant_id": "tenant-a",
        "status": {"$in": ["failed"]},
        "entity_id": "SUP-2",
        "kind": "supplier",
        "accepted_at": {"$gte": T0},
    }


def test_screened_is_looked_for_among_every_stored_status() -> None:
    # The api's document says ``screened`` only once the sweeper looked; findings decide.
    where = stored_filter(
        _caller("auditor"), status="screened", kind=None, entity_id=None, since=None, until=None
    )
    assert where["status"] == {"$in": ["accepted", "screened", "failed"]}


def test_a_period_that_ends_before_it_starts_names_until() -> None:
    with pytest.raises(ApiError) as raised:
        AlertQuery(since=T0, until=T0).where("tenant-a")
    assert raised.value.problem.errors is not None
    assert raised.value.problem.errors[0].field == "query:until"


def test_the_filters_on_a_finding_hold_for_one_finding() -> None:
    asked = FindingQuery(
        indicator="debt_bondage", severity="high", rule_id="debt.x", risk_level="high"
    )
    assert asked.where("tenant-a") == {
        "tenant_id": "tenant-a",
        "judgement.risk_level": "high",
        "findings": {
            "$elemMatch": {
                "indicator": "debt_bondage",
                "evidence.rule_id": "debt.x",
                "severity": "high",
            }
        },
    }
    assert "findings" not in FindingQuery(entity_id="SUP-1").where("tenant-a")


def _screening(*findings: Document) -> Document:
    return {
        "_id": "d-1:r:e",
        "computed_at": T0,
        "disclosure_id": "d-1",
        "entity_kind": "supplier",
        "entity_id": "SUP-1",
        "period": {"start": "2026-01-01", "end": "2026-06-30"},
        "judgement": {"risk_level": "high", "score": 70},
        "rule_set_version": "r",
        "rule_set_hash": None,
        "reference_data_edition": "e",
        "findings": list(findings),
    }


def _finding(indicator: str, severity: str, rule_id: str) -> Document:
    evidence = [{"field": "$.x", "value": 1, "rule_id": rule_id, "explanation": "x"}]
    return {
        "indicator": indicator,
        "strength": "strong",
        "severity": severity,
        "evidence": evidence,
    }


def test_only_the_matching_findings_of_a_screening_are_items() -> None:
    screening = _screening(
        _finding("debt_bondage", "high", "debt.a"),
        _finding("debt_bondage", "low", "debt.b"),
        _finding("excessive_overtime", "high", "overtime.a"),
    )
    wanted = FindingQuery(indicator="debt_bondage").wanted()
    found = items([screening], wanted, None)
    assert [(p.index, i.severity) for p, i in found] == [(0, "high"), (1, "low")]
    assert [
        i.evidence[0].rule_id
        for _, i in items([screening], {"evidence.rule_id": "overtime.a"}, None)
    ] == ["overtime.a"]
    after_first = items([screening], wanted, Position(T0, "d-1:r:e", 0))
    assert [p.index for p, _ in after_first] == [1]


def test_the_chain_holds_the_recruiters_at_the_alerts_level_or_above() -> None:
    link = {"field": "$.recruiters_used[0].recruiter_id", "disclosure_id": "d-s", "workers": 30}
    parts = [
        {
            "recruiter_id": r,
            "risk_level": level,
            "score": 70,
            "indicators": [],
            "explanation": r,
            "disclosure_id": "d-r",
            "link": link,
        }
        for r, level in (("REC-1", "high"), ("REC-2", "medium"), ("REC-3", "critical"))
    ]
    assert [p.recruiter_id for p in chain({"inherited": parts}, "high")] == ["REC-1", "REC-3"]
    assert chain(None, "high") == []


def test_an_id_prefix_is_matched_literally_in_any_case() -> None:
    where = EntityQuery(id_prefix="sup-1.").where("tenant-a")
    assert where["entity_id"] == {"$regex": "^sup\\-1\\.", "$options": "i"}
