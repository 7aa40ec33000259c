"""A periodic step keeps running through its failures and stops when told."""

import asyncio

from laboursight_runtime.periodic import Periodic


async def test_a_failing_step_is_run_again_and_stop_ends_the_runs() -> None:
    runs: list[int] = []
    third = asyncio.Event()

    async def step() -> None:
        runs.append(len(runs))
        if len(runs) == 3:
            third.set()
        if len(runs) % 2:
            raise ConnectionError("the database is away")

    periodic = Periodic("test step", 0.001, step)
    await periodic.start()
    await asyncio.wait_for(third.wait(), 10)
    await periodic.stop()
    stopped_at = len(runs)
    await asyncio.sleep(0.05)
    assert stopped_at >= 3
    assert len(runs) == stopped_at
