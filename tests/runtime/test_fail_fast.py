"""A consumer service whose start fails exits, instead of serving health routes of nothing."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from laboursight_runtime.local.servers import free_ports
from laboursight_runtime.service import FailFast

CONSUMERS = ("screening", "risk", "notify", "ledger")


class Lifespan:
    """An ASGI app whose lifespan reports its start, then fails at ``fail_at``."""

    def __init__(self, fail_at: str) -> None:
        self.fail_at = fail_at

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        if self.fail_at == "start":
            raise ConnectionError("no broker")
        await receive()
        raise RuntimeError("shutdown hook failed")


def messages(*kinds: str) -> Any:
    queue = [{"type": kind} for kind in kinds]

    async def receive() -> Any:
        return queue.pop(0)

    return receive


async def ignore(message: Any) -> None:
    pass


async def test_a_lifespan_that_ends_before_it_was_asked_to_stops_the_server() -> None:
    stopped: list[bool] = []
    guarded = FailFast(Lifespan("start"))
    guarded.on_failure = lambda: stopped.append(True)
    with pytest.raises(ConnectionError):
        await guarded({"type": "lifespan"}, messages("lifespan.startup"), ignore)
    assert stopped == [True]
    assert isinstance(guarded.failure, ConnectionError)


async def test_a_failure_while_shutting_down_is_not_a_failed_start() -> None:
    stopped: list[bool] = []
    guarded = FailFast(Lifespan("shutdown"))
    guarded.on_failure = lambda: stopped.append(True)
    with pytest.raises(RuntimeError):
        await guarded(
            {"type": "lifespan"}, messages("lifespan.startup", "lifespan.shutdown"), ignore
        )
    assert (stopped, guarded.failure) == ([], None)


@pytest.mark.integration
@pytest.mark.parametrize("service", CONSUMERS)
def test_a_consumer_started_without_kafka_exits_with_status_1_naming_why(
    service: str, infra: Any
) -> None:
    nobody, port = free_ports(2)
    env = {
        **os.environ,
        **infra.environment(),
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{nobody}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "MONGODB_DATABASE": "fail-fast",
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / f"laboursight-{service}")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    said = [line for line in done.stderr.splitlines() if line.startswith("stopped:")]
    assert said, done.stderr[-2000:]
    assert said[0].startswith("stopped: the service did not start: KafkaConnectionError")
