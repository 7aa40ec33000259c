"""A replay's databases: no replay id names a live database or another replay's."""

import pytest

from laboursight_schemas.replay import databases_of, replay_database, replay_id_of

GOOD = ("a", "2026-q3", "backtest-2026-12-0", "x" * 32)
BAD = ("", "A", "Q3", "a_b", "-a", "a b", "a.b", "x" * 33, "é")


def test_a_replay_id_names_one_database_beside_the_live_one() -> None:
    for replay_id in GOOD:
        assert replay_database("laboursight", replay_id) == f"laboursight_replay_{replay_id}"
    for replay_id in BAD:
        with pytest.raises(ValueError, match="replay id"):
            replay_database("laboursight", replay_id)
    # Its recorded history's database must fit MongoDB's 63 characters too.
    with pytest.raises(ValueError, match="too long"):
        replay_database("d" * 30, "x" * 30)


def test_a_replays_databases_are_told_apart_from_every_other() -> None:
    main, recorded = databases_of("laboursight", "q3")

    assert replay_id_of("laboursight", main) == "q3"
    # No id has an underscore, so a recorded history is never taken for a replay.
    assert replay_id_of("laboursight", recorded) is None
    assert replay_id_of("laboursight", "laboursight") is None
    assert replay_id_of("laboursight", "other_replay_q3") is None
