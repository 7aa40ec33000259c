"""The stack's service processes, each of which can be killed and started again on its port.

A killed process of the stack stays the stack's child (it reaps it when it stops); a process
started again here is this module's, and `stop` ends it as the stack ends its own.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from laboursight_runtime.local.servers import die_with_parent
from laboursight_runtime.local.stack import SERVICES, Stack, stop_processes

_DEATH_WAIT_S = 10.0


def _command_names(pid: int) -> set[str]:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return set()
    return {os.path.basename(arg.decode(errors="replace")) for arg in argv}


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state == "Z"  # dead, waiting to be reaped


class ServiceProcesses:
    def __init__(self, stack: Stack, environment: dict[str, str]) -> None:
        self._stack = stack
        self._environment = environment
        self._pids = {
            service: pid
            for pid in stack.pids()
            for service in SERVICES
            if f"laboursight-{service}" in _command_names(pid)
        }
        if set(self._pids) != set(SERVICES):
            raise RuntimeError(f"the stack runs {sorted(self._pids)}, not every service")
        self._started: dict[str, subprocess.Popen[bytes]] = {}

    def kill(self, service: str) -> None:
        """SIGKILL, and wait until the process is dead (its port is then free)."""
        pid = self._pids[service]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + _DEATH_WAIT_S
        while not _gone(pid):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service} (pid {pid}) outlived SIGKILL")
            time.sleep(0.01)
        if service in self._started:
            self._started.pop(service).wait()

    def restart(self, service: str) -> None:
        """Start the service again with the stack's environment, port and log."""
        if not _gone(self._pids[service]):
            raise RuntimeError(f"{service} is running: kill it before restarting it")
        port = urlsplit(self._stack.url(service)).port
        env = {
            **os.environ,
            **self._environment,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
        }
        with open(self._stack.log(service), "ab") as log:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / f"laboursight-{service}")],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(os.getpid()),
            )
        self._started[service] = process
        self._pids[service] = process.pid

    def stop(self) -> None:
        """Stop what was started here: SIGTERM, then SIGKILL after the stack's grace."""
        stop_processes(self._started.values())
        self._started.clear()
