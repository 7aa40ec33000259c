"""The system the suite breaks: its own local servers (never shared ones, which it could not
kill), every service as a process, a subscribed webhook receiver, and read-only views of
MongoDB and of what the receiver got.
"""

import contextlib
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from laboursight_runtime.local.receiver import WebhookReceiver
from laboursight_runtime.local.servers import LocalServers, log_excerpt
from laboursight_runtime.local.stack import SERVICES, Stack
from laboursight_schemas import collections

from .processes import ServiceProcesses
from .records import Delivery

TENANT = "tenant-chaos"
DATABASE = "laboursight"
# The suite waits a bounded time for the system to settle, so the api's sweeper re-drives an
# accepted disclosure that is still unscreened after seconds, not after its production
# deadline of minutes; everything else runs with its defaults.
# The api's rate limits are off: the suite reads back every disclosure's status at once, and
# measures faults, not limits.
TUNING = {
    "API_SCREENING_DEADLINE_S": "15",
    "API_SWEEP_INTERVAL_S": "1",
    "API_RATE_PER_KEY": "0",
    "API_RATE_PER_TENANT": "0",
}
# What the suite kills: every service, the broker and the database.
FAULTS = (*SERVICES, "broker", "mongod")
_SERVER_OF_FAULT = {"broker": "tansu", "mongod": "mongod"}


class ChaosSystem:
    def __init__(self, work_dir: Path) -> None:
        self._work_dir = work_dir
        self._exit = contextlib.ExitStack()
        self.receiver = WebhookReceiver()
        self.servers = LocalServers(work_dir / "servers")

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._exit.close()

    def _start(self) -> None:
        self._exit.enter_context(self.servers)
        environment = {
            **self.servers.environment(),
            "MONGODB_DATABASE": DATABASE,
            **TUNING,
        }
        self.stack = self._exit.enter_context(Stack(environment, self._work_dir / "logs"))
        self.processes = ServiceProcesses(self.stack, environment)
        self._exit.callback(self.processes.stop)  # before the stack stops: it started later
        self.receiver.start()
        self._exit.callback(self.receiver.stop)
        self._mongo: MongoClient[dict[str, Any]] = self._exit.enter_context(
            MongoClient(self.servers.mongodb_uri, serverSelectionTimeoutMS=1_000)
        )
        self.analyst_key = self.stack.create_key(TENANT, "analyst")
        with self.client(self.analyst_key) as analyst:
            response = analyst.post(
                "/v1/subscriptions", json={"url": self.receiver.url, "min_risk_level": "high"}
            )
        response.raise_for_status()
        self.receiver.secret = response.json()["secret"]

    @property
    def api_url(self) -> str:
        return self.stack.url("api")

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )

    def submitter_key(self, entity_ids: Collection[str]) -> str:
        return self.stack.create_key(TENANT, "submitter", sorted(entity_ids), label="chaos")

    def kill(self, fault: str) -> None:
        if fault in _SERVER_OF_FAULT:
            self.servers.kill(_SERVER_OF_FAULT[fault])
        else:
            self.processes.kill(fault)

    def restart(self, fault: str) -> None:
        """Back on the same port; a server returns once it serves, a service once started."""
        if fault in _SERVER_OF_FAULT:
            self.servers.restart(_SERVER_OF_FAULT[fault])
        else:
            self.processes.restart(fault)

    def wait_ready(self, timeout_s: float) -> None:
        """Every service answers ``/readyz`` with 200."""
        deadline = time.monotonic() + timeout_s
        waiting = set(SERVICES)
        with httpx.Client(timeout=2.0) as client:
            while waiting:
                for service in sorted(waiting):
                    with contextlib.suppress(httpx.TransportError):
                        if client.get(self.stack.url(service) + "/readyz").status_code == 200:
                            waiting.discard(service)
                if waiting and time.monotonic() > deadline:
                    service = sorted(waiting)[0]
                    raise TimeoutError(
                        f"not ready within {timeout_s:g} s: {sorted(waiting)}\n--- "
                        f"{self.stack.log(service)} ---\n{log_excerpt(self.stack.log(service))}"
                    )
                if waiting:
                    time.sleep(0.2)

    def deliveries(self) -> list[Delivery]:
        """Every webhook the receiver accepted (signature verified), in arrival order."""
        return [
            Delivery(
                headers.get("webhook-id", ""),
                event["data"]["entity_id"],
                event.get("correlationid", ""),
                event["data"]["alert_id"],
            )
            for event, headers in list(self.receiver.accepted)
        ]

    def screened(self, disclosure_ids: Collection[str]) -> set[str]:
        """Those of ``disclosure_ids`` that have findings or the status ``screened`` (what
        ``GET /v1/disclosures/{id}`` reports as screened); empty while MongoDB is down."""
        ids = list(disclosure_ids)
        if not ids:
            return set()
        db = self._mongo[DATABASE]
        try:
            found = set(
                db[collections.FINDINGS].distinct(
                    "disclosure_id", {"tenant_id": TENANT, "disclosure_id": {"$in": ids}}
                )
            )
            found.update(
                doc["_id"]
                for doc in db[collections.DISCLOSURES].find(
                    {"tenant_id": TENANT, "_id": {"$in": ids}, "status": "screened"}, {"_id": 1}
                )
            )
        except PyMongoError:
            return set()
        return found

    def stored(self, entity_ids: Collection[str]) -> dict[str, frozenset[str]]:
        """The ids of the disclosures MongoDB holds, or holds findings for, by entity (those it
        holds nothing for are absent), whatever their status: tombstones and void writes too."""
        db = self._mongo[DATABASE]
        scope = {"tenant_id": TENANT, "entity_id": {"$in": list(entity_ids)}}
        held: dict[str, set[str]] = {}
        for doc in db[collections.DISCLOSURES].find(scope, {"entity_id": 1}):
            held.setdefault(doc["entity_id"], set()).add(doc["_id"])
        for doc in db[collections.FINDINGS].find(scope, {"entity_id": 1, "disclosure_id": 1}):
            held.setdefault(doc["entity_id"], set()).add(doc["disclosure_id"])
        return {entity: frozenset(ids) for entity, ids in held.items()}

    def statuses(self, disclosure_ids: Collection[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """``GET /v1/disclosures/{id}`` for each id, as the analyst: (id, body or {} if 404)."""
        with self.client(self.analyst_key) as analyst:
            for disclosure_id in disclosure_ids:
                response = analyst.get(f"/v1/disclosures/{disclosure_id}")
                if response.status_code not in (200, 404):
                    response.raise_for_status()
                yield disclosure_id, response.json() if response.status_code == 200 else {}
