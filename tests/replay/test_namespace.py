"""The replay namespace is one contract held in three copies (the screening replay, the risk
replay and laboursight-replay share no code but the schemas and the runtime): the copies agree,
and no replay id names a live database or another replay's."""

from types import ModuleType

import pytest

from laboursight_replay import namespace
from laboursight_risk import replay as risk_replay
from laboursight_screening import replay_output

COPIES = (replay_output, risk_replay, namespace)
SHARED = (
    "REPLAY",
    "REPLAY_FINDINGS",
    "REPLAY_FAILURES",
    "META_ID",
    "REPLAY_ID_PATTERN",
    "RECORDED_SUFFIX",
    "MAX_DATABASE_NAME",
)
GOOD = ("a", "2026-q3", "backtest-2026-12-0", "x" * 32)
BAD = ("", "A", "Q3", "a_b", "-a", "a b", "a.b", "x" * 33, "é")


@pytest.mark.parametrize("name", SHARED)
def test_the_three_copies_name_the_same_things(name: str) -> None:
    assert len({getattr(copy, name) for copy in COPIES}) == 1


def test_the_risk_replay_and_the_report_read_what_the_risk_replay_writes() -> None:
    for name in ("REPLAY_ALERT_EVENTS", "REPLAY_ENTITIES"):
        assert getattr(risk_replay, name) == getattr(namespace, name)


@pytest.mark.parametrize("copy", COPIES, ids=lambda c: c.__name__)
def test_a_replay_id_names_one_database_beside_the_live_one(copy: ModuleType) -> None:
    for replay_id in GOOD:
        assert copy.replay_database("laboursight", replay_id) == f"laboursight_replay_{replay_id}"
    for replay_id in BAD:
        with pytest.raises(ValueError, match="replay id"):
            copy.replay_database("laboursight", replay_id)
    # Its recorded history's database must fit MongoDB's 63 characters too.
    with pytest.raises(ValueError, match="too long"):
        copy.replay_database("d" * 30, "x" * 30)


def test_a_replays_databases_are_told_apart_from_every_other() -> None:
    main, recorded = namespace.databases_of("laboursight", "q3")

    assert namespace.replay_id_of("laboursight", main) == "q3"
    # No id has an underscore, so a recorded history is never taken for a replay.
    assert namespace.replay_id_of("laboursight", recorded) is None
    assert namespace.replay_id_of("laboursight", "laboursight") is None
    assert namespace.replay_id_of("laboursight", "other_replay_q3") is None
