"""A steady stream of disclosures through the HTTP api, as a careful client sends them.

Every POST carries an Idempotency-Key. A request that got no answer (the api died, the
connection broke) is sent again with the same key, and so is a 409 (a retry racing its first
attempt), until a final answer or the retry window ends. A 503 is final: the submitter was told
"not accepted", so the suite never resends it and later checks that it never lands.
"""

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace

import httpx

from .mix import Planned
from .records import Submission

MAX_IN_FLIGHT = 64
REQUEST_TIMEOUT_S = 15.0
RETRY_PAUSE_S = 0.5


class Load:
    """Submits ``planned`` in order at ``rate`` per second from its own thread and event loop;
    sending stops when every disclosure is sent, or at ``stop_sending``."""

    def __init__(
        self,
        api_url: str,
        key: str,
        planned: Sequence[Planned],
        rate: float,
        retry_window_s: float,
    ) -> None:
        self._api_url = api_url
        self._key = key
        self._planned = planned
        self._rate = rate
        self._retry_window_s = retry_window_s
        self._submissions: list[Submission] = []
        self._lock = threading.Lock()
        self._stop_sending = threading.Event()
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop_sending(self) -> None:
        """Send nothing new; requests in flight and their retries go on."""
        with self._lock:
            self._stop_sending.set()
            if self._wake is not None:
                loop, event = self._wake
                loop.call_soon_threadsafe(event.set)

    def done(self) -> bool:
        """True once sending stopped and every request has its final answer or gave up."""
        return self._stop_sending.is_set() and not self._thread.is_alive()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise TimeoutError(f"the load did not finish within {timeout_s:g} s")

    def snapshot(self) -> list[Submission]:
        with self._lock:
            return [replace(s) for s in self._submissions]

    async def _run(self) -> None:
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT)
        async with httpx.AsyncClient(
            base_url=self._api_url,
            headers={"Authorization": f"Bearer {self._key}"},
            timeout=REQUEST_TIMEOUT_S,
            limits=limits,
        ) as client:
            in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
            stopped = asyncio.Event()
            with self._lock:
                self._wake = (asyncio.get_running_loop(), stopped)
                if self._stop_sending.is_set():
                    stopped.set()
            tasks: list[asyncio.Task[None]] = []
            started = time.monotonic()
            for index, planned in enumerate(self._planned):
                wait = started + index / self._rate - time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopped.wait(), max(wait, 0.0))
                if stopped.is_set():
                    break
                tasks.append(asyncio.create_task(self._submit(client, planned, in_flight)))
            with self._lock:
                self._stop_sending.set()
                self._wake = None
            await asyncio.gather(*tasks)

    async def _submit(
        self, client: httpx.AsyncClient, planned: Planned, in_flight: asyncio.Semaphore
    ) -> None:
        submission = Submission(planned.entity_id, planned.template, str(uuid.uuid4()), 0.0)
        with self._lock:
            submission.sent_at = time.monotonic()
            self._submissions.append(submission)
        give_up = submission.sent_at + self._retry_window_s
        while True:
            with self._lock:
                submission.attempts += 1
            try:
                async with in_flight:
                    response = await client.post(
                        "/v1/disclosures",
                        json=planned.body,
                        headers={"Idempotency-Key": submission.idempotency_key},
                    )
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code != 409:
                with self._lock:
                    submission.answered_at = time.monotonic()
                    submission.status = response.status_code
                    if response.status_code == 202:
                        submission.disclosure_id = response.json()["disclosure_id"]
                return
            if time.monotonic() + RETRY_PAUSE_S > give_up:
                return
            await asyncio.sleep(RETRY_PAUSE_S)
