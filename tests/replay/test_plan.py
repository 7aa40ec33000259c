"""What the risk replay folds, and in which order (laboursight_risk.replay_plan)."""

from datetime import UTC, datetime, timedelta

from laboursight_risk.replay_plan import CaseEntry, Placed, Recorded, Replayed, plan

START = datetime(2026, 11, 1, tzinfo=UTC)
EARLY, LATE = START - timedelta(days=1), START + timedelta(days=1)


def recorded(seq: int, disclosure: str, time: datetime = LATE) -> Recorded:
    return Recorded(seq, disclosure, time, f"recorded-{disclosure}".encode())


def replayed(ordinal: int, disclosure: str) -> Replayed:
    return Replayed(ordinal, disclosure, f"replayed-{disclosure}".encode())


def test_before_the_period_is_what_was_disclosed_before_its_start() -> None:
    placed = {
        "old": Placed(1, EARLY),
        "new": Placed(3, LATE),
        "skipped": Placed(5, LATE),  # in the period by time, not replayed (another partition)
        # Screened late, after the period began: its disclosure's time is what counts.
        "slow": Placed(2, EARLY),
    }
    made = plan(
        placed,
        [
            recorded(4, "old", EARLY),
            recorded(6, "new"),
            recorded(7, "skipped"),
            recorded(8, "slow", LATE),
            recorded(9, "unplaced", EARLY),  # its disclosure is not in the ledger
            recorded(10, "unplaced-late", LATE),
        ],
        [],
        [replayed(0, "new")],
        START,
    )

    assert made.before == 3
    assert [s.raw for s in made.replay] == [
        b"recorded-old",
        b"replayed-new",
        b"recorded-slow",
        b"recorded-unplaced",
    ]
    assert [s.raw for s in made.recorded] == [
        b"recorded-old",
        b"recorded-new",
        b"recorded-slow",
        b"recorded-unplaced",
    ]


def test_a_replayed_event_takes_the_place_risk_met_its_disclosure_in() -> None:
    placed = {"a": Placed(1, LATE), "b": Placed(2, LATE), "c": Placed(3, LATE)}
    made = plan(
        placed,
        # b's findings were recorded before a's (another partition), twice (two rule sets).
        [recorded(10, "b"), recorded(11, "a"), recorded(12, "x", EARLY), recorded(13, "b")],
        [],
        [replayed(0, "a"), replayed(1, "b"), replayed(2, "c"), replayed(3, "d")],
        START,
    )

    # b at 10, a at 11, the earlier x at 12; c never recorded: at its disclosure (3);
    # d neither recorded nor in the ledger: last.
    assert [(s.raw, s.seq) for s in made.replay] == [
        (b"replayed-c", 3),
        (b"replayed-b", 10),
        (b"replayed-a", 11),
        (b"recorded-x", 12),
        (b"replayed-d", None),
    ]
    # The record as it was, both screenings of b included.
    assert [s.seq for s in made.recorded] == [10, 11, 12, 13]


def test_case_events_are_folded_at_their_place_up_to_the_last_event_either_history_holds() -> None:
    made = plan(
        {"a": Placed(1, LATE)},
        [recorded(2, "old", EARLY), recorded(4, "a")],
        [CaseEntry(3, b"case-3"), CaseEntry(5, b"case-5")],
        [replayed(0, "a")],
        START,
    )

    assert made.cases == 1
    assert [(s.kind, s.raw) for s in made.replay] == [
        ("findings", b"recorded-old"),
        ("case", b"case-3"),
        ("findings", b"replayed-a"),
    ]
    assert [s.kind for s in made.recorded] == ["findings", "case", "findings"]


def test_nothing_replayed_and_no_start_folds_nothing() -> None:
    made = plan({}, [recorded(1, "a", EARLY)], [CaseEntry(2, b"case")], [], None)

    assert made.replay == made.recorded == ()
    assert (made.before, made.cases) == (0, 0)
