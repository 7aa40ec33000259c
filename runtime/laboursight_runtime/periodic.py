"""A task that runs one step every so often while a service runs, whatever a step raises."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class Periodic:
    """``step`` now and then every ``interval_s`` after each run ends, from ``start`` until
    ``stop``. A step that raises is logged as a warning and the next one runs on time: the
    faults a step meets (a broker or database away) pass."""

    def __init__(self, name: str, interval_s: float, step: Callable[[], Awaitable[Any]]) -> None:
        self._name = name
        self._interval_s = interval_s
        self._step = step
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                await self._step()
            except Exception as error:
                log.warning(f"{self._name} failed", extra={"error": repr(error)})
            await asyncio.sleep(self._interval_s)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
