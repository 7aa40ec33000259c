"""The dead-letter guard: a run or a share of dead letters halts, and its state can be rebuilt
from the dead-lettered offsets alone."""

import pytest

from laboursight_runtime.pipeline.guard import GuardLimits, GuardState, recovered

LIMITS = GuardLimits(max_consecutive=3, window=10, max_ratio=0.4)


def test_a_run_longer_than_the_limit_is_refused() -> None:
    state = GuardState(LIMITS)
    assert [state.admit(offset) for offset in range(3)] == [None, None, None]
    assert state.admit(3) == "more than 3 dead letters in a row"
    assert state.run == 3


def test_a_handled_record_ends_the_run() -> None:
    state = GuardState(LIMITS)
    state.admit(0)
    state.admit(1)
    state.passed(2)
    assert state.admit(3) is None
    assert state.run == 1


def test_a_share_of_the_window_is_refused_even_without_a_run() -> None:
    state = GuardState(LIMITS)
    verdicts = []
    for offset in range(10):
        if offset % 2:
            state.passed(offset)
        else:
            verdicts.append(state.admit(offset))
    # 0, 2, 4, 6 are 4 of the last 10: the fifth (8) would cross 40 %.
    assert verdicts[:4] == [None] * 4
    assert verdicts[4] == "more than 4 dead letters in the last 10 records"


def test_dead_letters_leave_the_window() -> None:
    state = GuardState(LIMITS)
    for offset in (0, 2, 4, 6):
        state.admit(offset)
        state.passed(offset + 1)
    assert state.admit(16) is None  # 0, 2, 4 and 6 are more than 10 records back


def test_a_refusal_leaves_the_state_as_it_was() -> None:
    state = GuardState(LIMITS, run=3, dead=[7, 8, 9])
    assert state.admit(10) is not None
    assert state.run == 3
    state.passed(10)
    assert state.admit(11) is None


def test_recovered_from_the_dead_letters_behind_the_position() -> None:
    # 20..22 were the last records before position 23, and all three were dead letters; 1 and
    # 30 are outside the window behind it; 21 was dead-lettered twice (a crash before a commit).
    state = recovered(LIMITS, 23, [1, 20, 21, 21, 22, 30])
    assert state.run == 3
    assert state.admit(23) == "more than 3 dead letters in a row"


def test_recovered_run_stops_at_the_first_handled_record() -> None:
    state = recovered(LIMITS, 23, [17, 18, 22])
    assert state.run == 1
    assert state.admit(23) is None  # 17, 18, 22, 23: four of the last ten
    assert state.admit(24) == "more than 4 dead letters in the last 10 records"


def test_copies_are_independent() -> None:
    state = GuardState(LIMITS)
    copy = state.copy()
    copy.admit(0)
    assert (state.run, copy.run) == (0, 1)


@pytest.mark.parametrize(
    "limits",
    [
        {"max_consecutive": 0},
        {"window": 0},
        {"max_ratio": 0.0},
        {"max_ratio": 1.5},
    ],
)
def test_nonsense_limits_are_refused(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid dead-letter limits"):
        GuardLimits(**limits)  # type: ignore[arg-type]
