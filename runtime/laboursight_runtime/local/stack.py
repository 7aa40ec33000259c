"""Every service as its own process on free loopback ports: what `make run` and the end-to-end
tests start on top of the local servers.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from .servers import die_with_parent, free_ports, log_excerpt

SERVICES = ("api", "screening", "risk", "notify", "ledger")
STOP_GRACE_S = 10.0


def stop_processes(processes: Iterable["subprocess.Popen[bytes]"]) -> None:
    """SIGTERM to every live process, then SIGKILL to any still running after the grace."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class StackError(RuntimeError):
    pass


class Stack:
    """Start with ``with Stack(servers.environment(), log_dir) as stack:``; each service logs to
    ``log_dir/<service>.log`` and answers ``/readyz`` on ``stack.url(service)``.
    """

    def __init__(self, environment: dict[str, str], log_dir: Path) -> None:
        self._environment = environment
        self._log_dir = log_dir
        self._ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self._ports[service]}"

    def log(self, service: str) -> Path:
        return self._log_dir / f"{service}.log"

    def start(self, timeout_s: float = 60.0) -> None:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        bin_dir = Path(sys.executable).parent
        for service in SERVICES:
            env = {
                **os.environ,
                **self._environment,
                "HTTP_HOST": "127.0.0.1",
                "HTTP_PORT": str(self._ports[service]),
            }
            with open(self.log(service), "ab") as log:
                self._processes[service] = subprocess.Popen(
                    [str(bin_dir / f"laboursight-{service}")],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=die_with_parent(os.getpid()),
                )
        self._wait_ready(time.monotonic() + timeout_s)

    def _wait_ready(self, deadline: float) -> None:
        waiting = set(SERVICES)
        with httpx.Client(timeout=2.0) as client:
            while waiting:
                for service in sorted(waiting):
                    code = self._processes[service].poll()
                    if code is not None:
                        raise self._failure(service, f"exited with code {code} during start-up")
                    try:
                        if client.get(self.url(service) + "/readyz").status_code == 200:
                            waiting.discard(service)
                    except httpx.TransportError:
                        pass
                if waiting and time.monotonic() > deadline:
                    raise self._failure(sorted(waiting)[0], "did not become ready in time")
                time.sleep(0.2)

    def _failure(self, service: str, problem: str) -> StackError:
        return StackError(
            f"{service} {problem}\n--- {self.log(service)} ---\n{log_excerpt(self.log(service))}"
        )

    def stop(self) -> None:
        stop_processes(self._processes.values())
        self._processes.clear()

    def create_key(
        self, tenant: str, role: str, entities: Sequence[str] = (), label: str = ""
    ) -> str:
        """A new API key, made with the api's own admin command against the stack's database."""
        command = [str(Path(sys.executable).parent / "laboursight-api"), "create-key", "--json"]
        command += ["--tenant", tenant, "--role", role, "--label", label or f"local {role}"]
        for entity in entities:
            command += ["--entity", entity]
        result = subprocess.run(
            command,
            env={**os.environ, **self._environment},
            capture_output=True,
            text=True,
            check=True,
        )
        key: str = json.loads(result.stdout)["key"]
        return key

    def pids(self) -> list[int]:
        return [p.pid for p in self._processes.values()]

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
