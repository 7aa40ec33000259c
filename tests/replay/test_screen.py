"""Screening recorded disclosures again (laboursight_screening.replay_screen and
replay_sources): the service's own findings, what is outside the period or unreadable said so,
the same outcomes in worker processes, and the ranges and broker answers read right."""

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aiokafka.structs import OffsetAndTimestamp

from laboursight_schemas import topics
from laboursight_schemas.envelope import FindingsEvent, SupplierDisclosureEvent
from laboursight_schemas.reference import load_reference
from laboursight_screening.engine import SHIPPED, CompiledRuleSet
from laboursight_screening.handlers import findings_event
from laboursight_screening.replay_screen import ChunkScreener, RuleChoice, Screening, Window
from laboursight_screening.replay_sources import Range, parse_range, start_offset
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier_event
from tests.screening.support import WATCHLISTS

START = datetime(2026, 11, 1, tzinfo=UTC)
RULES = SHIPPED.compiled(SHIPPED.current_version())
REFERENCE = load_reference()


def raw(disclosure: dict[str, Any], tenant: str = "t", at: datetime = START) -> tuple[str, bytes]:
    """A supplier disclosure event on its topic."""
    event = supplier_event(disclosure, tenant_id=tenant).model_copy(update={"time": at})
    return topics.SUPPLIER_DISCLOSURES, event.model_dump_json().encode()


class BrokenRules:
    """A rule set the engine fails on, as a bug in a rule would make it."""

    version = "broken"
    content_hash = "sha256:broken"

    @property
    def rules(self) -> Any:
        raise RuntimeError("a rule failed")


def test_each_event_screened_as_the_service_screens_it_or_said_why_not() -> None:
    window = Window("t", since=START, until=START + timedelta(days=1))
    bonded = raw(BONDED_SUPPLIER)
    outcomes = ChunkScreener(RULES, REFERENCE, window)(
        [
            bonded,
            raw(CLEAN_SUPPLIER, tenant="other"),
            raw(CLEAN_SUPPLIER, at=START - timedelta(seconds=1)),
            raw(CLEAN_SUPPLIER, at=START + timedelta(days=1)),
            (topics.SUPPLIER_DISCLOSURES, b'{"id": "x"}'),
            # Read as its topic's consumer reads it: a supplier's event is no recruiter's.
            (topics.RECRUITER_DISCLOSURES, bonded[1]),
        ]
    )

    assert [o.verdict for o in outcomes] == [
        "screened",
        "other_tenant",
        "outside",
        "outside",
        "unreadable",
        "unreadable",
    ]
    event = SupplierDisclosureEvent.model_validate_json(bonded[1])
    # The shipped watchlists, which the service screens against when none are configured.
    live = findings_event(event, RULES, REFERENCE, WATCHLISTS)
    mine = FindingsEvent.model_validate_json(outcomes[0].payload)
    assert mine.id == live.id
    assert mine.data == live.data
    assert (outcomes[0].disclosure_id, outcomes[0].entity_id) == (
        event.data.disclosure_id,
        "SUP-666",
    )
    assert outcomes[4].payload.startswith(b"UnreadableEvent: type is None")
    assert b"expected 'org.laboursight.disclosure.recruiter.submitted'" in outcomes[5].payload


def test_an_engine_failure_is_an_outcome_not_the_end_of_the_replay() -> None:
    broken = ChunkScreener(cast(CompiledRuleSet, BrokenRules()), REFERENCE, Window("t"))

    [outcome] = broken([raw(CLEAN_SUPPLIER)])

    assert outcome.verdict == "failed"
    assert outcome.payload == b"RuntimeError: a rule failed"
    assert outcome.disclosure_id is not None


async def test_worker_processes_give_the_outcomes_of_this_one_in_order() -> None:
    raws = [raw(BONDED_SUPPLIER if i % 3 else CLEAN_SUPPLIER) for i in range(12)]
    raws.append((topics.SUPPLIER_DISCLOSURES, b"[]"))
    choice, window = RuleChoice(rule_set=RULES.version), Window("t")
    async with Screening(choice, window) as here:
        expected = await here.submit(raws)
    async with Screening(choice, window, workers=2) as pool:
        futures = [pool.submit(raws[i : i + 5]) for i in range(0, len(raws), 5)]
        got = [o for f in futures for o in await f]

    assert [(o.verdict, o.event_id) for o in got] == [(o.verdict, o.event_id) for o in expected]
    # The findings but for the time each was made.
    strip = [o.payload.split(b'"time"')[0] for o in got]
    assert strip == [o.payload.split(b'"time"')[0] for o in expected]


def test_an_unknown_rule_set_or_edition_is_refused_before_anything_runs() -> None:
    with pytest.raises(ValueError, match=r"unknown rule set '1\.0\.0'"):
        RuleChoice(rule_set="1.0.0").load()
    with pytest.raises(ValueError, match="unknown reference data edition"):
        RuleChoice(reference_edition="1999.1").load()


def test_offset_ranges_name_a_disclosure_topic_and_an_order() -> None:
    assert parse_range(f"{topics.SUPPLIER_DISCLOSURES}:3:10-20") == Range(
        topics.SUPPLIER_DISCLOSURES, 3, 10, 20
    )
    for bad, why in (
        ("disclosures.supplier.v1:3:10", "topic:partition:first-last"),
        (f"{topics.FINDINGS}:0:1-2", "not a disclosure topic"),
        (f"{topics.RECRUITER_DISCLOSURES}:0:5-4", "first offset is after the last"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_range(bad)


def test_a_time_past_a_partitions_last_record_reads_nothing_of_it() -> None:
    since = 1_000
    assert start_offset(OffsetAndTimestamp(7, 1_200), since) == 7
    assert start_offset(None, since) is None  # Apache Kafka
    assert start_offset(OffsetAndTimestamp(0, -1), since) is None  # tansu
