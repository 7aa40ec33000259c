"""API_WORKERS: several processes serve the api on one port, report their metrics together, and
go down with the process that supervises them, even when it is killed."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from laboursight_api.keys import key_document, mint_key
from laboursight_api.settings import ApiSettings
from laboursight_runtime.local.servers import free_ports
from tests.factories import CLEAN_SUPPLIER

SUPPLIER_ID = CLEAN_SUPPLIER["supplier"]["supplier_id"]


def _python(code: str, environment: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _samples(exposition: str, series: str) -> list[float]:
    return [
        float(line.rpartition(" ")[2])
        for line in exposition.splitlines()
        if line.rpartition(" ")[0] == series
    ]


def test_the_metrics_of_every_worker_are_shown_together(tmp_path: Path) -> None:
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for backlog in (5, 7):  # two workers, one after the other
        _python(
            "from laboursight_api.metrics import ACCEPTED, OUTBOX_BACKLOG\n"
            f"ACCEPTED.labels('supplier').inc()\nOUTBOX_BACKLOG.set({backlog})",
            environment,
        )
    shown = _python(
        "from laboursight_api import metrics\nfrom prometheus_client import generate_latest\n"
        "print(generate_latest().decode())",
        environment,
    )
    assert _samples(shown, 'laboursight_api_disclosures_accepted_total{kind="supplier"}') == [2.0]
    assert _samples(shown, "laboursight_api_outbox_backlog") == [7.0]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _until(done: Any, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.fixture
def key(settings: ApiSettings) -> Iterator[str]:
    key_id, secret, key = mint_key()
    with MongoClient[dict[str, Any]](settings.mongodb_uri) as client:
        database = client[settings.mongodb_database]
        database["api_keys"].insert_one(
            key_document(key_id, secret, "t", "submitter", [SUPPLIER_ID], "workers")
        )
        yield key
        client.drop_database(settings.mongodb_database)


@pytest.mark.integration
def test_two_workers_serve_and_die_with_their_supervisor(
    settings: ApiSettings, key: str, tmp_path: Path
) -> None:
    [port] = free_ports(1)
    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URI": settings.mongodb_uri,
        "MONGODB_DATABASE": settings.mongodb_database,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "API_WORKERS": "2",
    }
    log = (tmp_path / "api.log").open("wb")
    supervisor = subprocess.Popen(
        [str(Path(sys.executable).parent / "laboursight-api")],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    workers: set[int] = set()
    try:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert supervisor.poll() is None, (tmp_path / "api.log").read_text()
            try:
                return httpx.get(url + "/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        _until(ready, 60, "the api did not become ready")
        answer = httpx.post(
            url + "/v1/disclosures",
            json=CLEAN_SUPPLIER,
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert answer.status_code == 202
        workers |= {
            pid
            for pid in _children(supervisor.pid)
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
        }
        assert len(workers) == 2
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(10)
        _until(lambda: not any(map(_alive, workers)), 30, "a worker outlived its supervisor")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        for pid in filter(_alive, workers):  # only if the test failed
            os.kill(pid, signal.SIGKILL)
        log.close()
