"""The largest resident memory each component reached while the system was under load."""

import threading

from tests.bench import procs

INTERVAL_S = 0.5


class RssSampler:
    """Samples /proc on its own thread, so a busy event loop neither delays nor is delayed by it."""

    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            for name, usage in procs.sample().items():
                self._peak[name] = max(self._peak.get(name, 0), usage.rss_bytes)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def peak_mb(self) -> dict[str, float]:
        return {name: rss / 1e6 for name, rss in sorted(self._peak.items())}
