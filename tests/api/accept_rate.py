"""How fast the api accepts single POSTs: N concurrent httpx clients, each posting one disclosure
after another, against the api as its own process on the local servers. Prints; asserts nothing.

    .venv/bin/python -m tests.api.accept_rate [--clients 64] [--seconds 20] [--api-path DIR]

``--api-path`` puts DIR first on the api process's PYTHONPATH, to measure another version of
``laboursight_api`` (e.g. one extracted with ``git archive``) on the same servers in the same run.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from laboursight_api.keys import key_document, mint_key
from laboursight_runtime.local import LocalServers
from laboursight_runtime.local.servers import free_ports
from tests.factories import CLEAN_SUPPLIER

WARM_UP_S = 3.0
TENANT = "bench"


def _start_api(
    environment: dict[str, str], api_path: str | None, log: Path
) -> subprocess.Popen[bytes]:
    if api_path:
        environment = {**environment, "PYTHONPATH": api_path}
    return subprocess.Popen(
        [sys.executable, "-c", "from laboursight_api.cli import main; main(['serve'])"],
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the api exited with {process.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the api did not become ready")


async def _load(
    url: str, key: str, clients: int, seconds: float
) -> tuple[list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    measured_from, until = started + WARM_UP_S, started + WARM_UP_S + seconds

    async def client() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            while (sent := time.monotonic()) < until:
                answer = await http.post("/v1/disclosures", json=CLEAN_SUPPLIER)
                if sent >= measured_from:
                    latencies.append(time.monotonic() - sent)
                    statuses[answer.status_code] += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--api-path", default=None)
    args = parser.parse_args()
    with LocalServers() as servers:
        [port] = free_ports(1)
        environment = {
            **os.environ,
            **servers.environment(),
            "MONGODB_DATABASE": "bench-accept",
            "HTTP_PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        key_id, secret, key = mint_key()
        with MongoClient[dict[str, Any]](servers.mongodb_uri) as mongo:
            mongo["bench-accept"]["api_keys"].insert_one(
                key_document(key_id, secret, TENANT, "submitter", ["SUP-001"], "bench")
            )
        url = f"http://127.0.0.1:{port}"
        log = servers.data_dir / "api.log"
        api = _start_api(environment, args.api_path, log)
        try:
            _wait_ready(url, api)
            latencies, statuses = asyncio.run(_load(url, key, args.clients, args.seconds))
        finally:
            api.terminate()
            api.wait(30)
        with MongoClient[dict[str, Any]](servers.mongodb_uri) as mongo:
            stored = mongo["bench-accept"]["disclosures"]
            unpublished = stored.count_documents({"published": False})
            total = stored.count_documents({})
    accepted = statuses[202]
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(
        f"api accept, {args.clients} clients, {args.seconds:g} s"
        f"{' (' + args.api_path + ')' if args.api_path else ''}: "
        f"{accepted / args.seconds:.0f} accepted/s; latency p50 {cuts[49] * 1000:.0f} ms, "
        f"p95 {cuts[94] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms; statuses "
        f"{dict(statuses)}; stored {total}, unpublished at stop {unpublished}"
    )


if __name__ == "__main__":
    main()
