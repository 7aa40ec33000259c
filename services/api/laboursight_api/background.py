"""The api's background work, started by the lifespan and stopped with it.

A task that fails is logged and started again after a pause, so a fault in MongoDB or Kafka
delays the relay, the sweeper or the dead-letter reader, never ends them.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Background:
    def __init__(self, restart_s: float = 1.0) -> None:
        self._restart_s = restart_s
        self._tasks: list[asyncio.Task[None]] = []

    def keep_running(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run`` until it returns or is stopped, starting it again whenever it fails."""
        self._tasks.append(asyncio.create_task(self._supervise(name, run), name=name))

    def every(self, name: str, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` each ``seconds`` (the first time after ``seconds``)."""

        async def repeat() -> None:
            while True:
                await asyncio.sleep(seconds)
                await job()

        self.keep_running(name, repeat)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await run()
                return
            except Exception as error:
                log.warning("background task failed", extra={"task": name, "error": repr(error)})
            await asyncio.sleep(self._restart_s)
