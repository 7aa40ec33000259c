"""Delivery that never gives up, on the running system, as a compliance team would try it.

Two tenants, each with two receivers and different filters; disclosures that alert and one that
does not, and alerts produced straight to ``alerts.v1`` where a filter needs a country or an
alert type the chain does not choose. One receiver is down for several backoff rounds and then
back: it gets every alert exactly once per webhook-id, and the others get theirs meanwhile. One
always answers 500: its deliveries end in the dead list and are redelivered on request. A
rotated secret: a receiver holding either secret accepts, and a test-send shows it.

This module runs its own servers and services: notify's retry horizon, backoff and circuit are
set short here (``NOTIFY``), which the package's shared system must not be. What is checked is
what happened and in which order, never how long it took.
"""

import asyncio
import json
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from laboursight_runtime.kafka import KafkaPublisher, make_broker
from laboursight_runtime.local import LocalServers
from laboursight_runtime.local.stack import Stack
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import AlertEvent, AlertUpdatedEvent
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier
from tests.notify.fakes import alert_event, alert_updated
from tests.notify.receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

T = TypeVar("T")
WITHIN_S = 90.0
# Short enough that a receiver answering 500 is given up on within the test, long enough that
# one down for a few backoff rounds is still retried when it comes back.
NOTIFY = {
    "NOTIFY_RETRY_HORIZON_S": "20",
    "NOTIFY_RETRY_FIRST_WAIT_S": "0.2",
    "NOTIFY_RETRY_MAX_WAIT_S": "1",
    "NOTIFY_CIRCUIT_FAILURES": "3",
    "NOTIFY_CIRCUIT_COOLDOWN_S": "1",
    "NOTIFY_POLL_INTERVAL_S": "0.1",
    "NOTIFY_ATTEMPT_TIMEOUT_S": "2",
    "NOTIFY_LEASE_S": "10",
}
# The down receiver comes back once its circuit opened (after this many failed attempts) and
# this many half-open trials failed too, one per cool-down.
OPENED = int(NOTIFY["NOTIFY_CIRCUIT_FAILURES"])
DOWN_ROUNDS = 3


class System:
    def __init__(self, servers: LocalServers, stack: Stack) -> None:
        self.servers = servers
        self.stack = stack

    def client(self, tenant: str, role: str = "analyst", *entities: str) -> httpx.Client:
        key = self.stack.create_key(tenant, role, list(entities))
        return httpx.Client(
            base_url=self.stack.url("api"), headers={"Authorization": f"Bearer {key}"}, timeout=10
        )

    def produce(self, *events: AlertEvent | AlertUpdatedEvent) -> None:
        """Alerts on ``alerts.v1`` as risk publishes them."""
        asyncio.run(self._produce(events))

    async def _produce(self, events: tuple[AlertEvent | AlertUpdatedEvent, ...]) -> None:
        environment = self.servers.environment()
        settings = Settings.model_validate({k.lower(): v for k, v in environment.items()})
        broker = make_broker(settings, client_id="e2e-alerts")
        await broker.start()
        try:
            for event in events:
                await KafkaPublisher(broker).publish(topics.ALERTS, event.data.entity_id, event)
        finally:
            await broker.stop()


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    logs = Path(tmp_path_factory.mktemp("delivery-services"))
    with LocalServers() as servers, Stack({**servers.environment(), **NOTIFY}, logs) as stack:
        yield System(servers, stack)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def until(probe: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + WITHIN_S
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


def every(client: httpx.Client, url: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        answer = client.get(next_url, params=params or None)
        assert answer.status_code == 200, answer.text
        found += answer.json()["items"]
        next_url, params = answer.json()["next"], {}
    return found


def subscribe(client: httpx.Client, url: str, **filters: Any) -> dict[str, Any]:
    answer = client.post("/v1/subscriptions", json={"url": url, **filters})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def deliveries(client: httpx.Client, subscription: dict[str, Any]) -> list[dict[str, Any]]:
    return every(client, "/v1/deliveries", subscription_id=subscription["subscription_id"])


def accepted(received: Receiver, path: str) -> Counter[str]:
    """How many times each webhook-id was answered 2xx, with a valid signature, at ``path``."""
    return Counter(
        r.headers["webhook-id"]
        for r in received.received(path)
        if r.verified and 200 <= r.answered < 300
    )


def alert_of(body: bytes) -> dict[str, Any]:
    """The alert a webhook carries, raised or revised."""
    data: dict[str, Any] = json.loads(body)["data"]
    return data


def submit(*sent: tuple[httpx.Client, dict[str, Any]]) -> None:
    """Submit every disclosure, then wait until each is screened."""
    accepted = []
    for client, disclosure in sent:
        answer = client.post("/v1/disclosures", json=disclosure)
        assert answer.status_code == 202, answer.text
        accepted.append((client, answer.json()["status_url"]))
    for client, status_url in accepted:

        def screened(client: httpx.Client = client, url: str = status_url) -> bool:
            return bool(client.get(url).json()["status"] == "screened")

        until(screened, f"{status_url} screened")


def of(base: dict[str, Any], supplier_id: str) -> dict[str, Any]:
    return supplier(base, supplier={**base["supplier"], "supplier_id": supplier_id})


def test_two_tenants_filters_a_receiver_down_and_back_and_one_that_always_fails(
    system: System, receiver: Receiver
) -> None:
    unique = uuid.uuid4().hex[:6]
    tenant_a, tenant_b = f"dlv-a-{unique}", f"dlv-b-{unique}"
    analyst_a, analyst_b = system.client(tenant_a), system.client(tenant_b)
    submitter_a = system.client(tenant_a, "submitter", "SUP-DA1", "SUP-DA2")
    submitter_b = system.client(tenant_b, "submitter", "SUP-DB1")

    # Tenant A: one receiver for one supplier's alerts, high and above; one for everything,
    # which is down (its port refuses connections) until told otherwise.
    down = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    down.bind(("127.0.0.1", 0))
    down_port = down.getsockname()[1]
    bonded_path, flaky_path = f"/a/bonded-{unique}", f"/a/flaky-{unique}"
    bonded = subscribe(
        analyst_a, receiver.endpoint(bonded_path, "whsec_unused"), entity_ids=["SUP-DA1"],
        min_risk_level="high",
    )  # fmt: skip
    receiver.endpoint(bonded_path, bonded["secret"])
    flaky = subscribe(analyst_a, f"http://127.0.0.1:{down_port}{flaky_path}")
    # Tenant B: forced-labour alerts in Thailand only; and everything, to a receiver that
    # always answers 500.
    forced_path, failing_path = f"/b/forced-{unique}", f"/b/failing-{unique}"
    forced = subscribe(
        analyst_b, receiver.endpoint(forced_path, "whsec_unused"),
        alert_types=["forced_labour"], countries=["TH"],
    )  # fmt: skip
    receiver.endpoint(forced_path, forced["secret"])
    failing = subscribe(analyst_b, receiver.endpoint(failing_path, "whsec_unused"))
    receiver.endpoint(failing_path, failing["secret"], failures=(500,) * 10_000)

    # Disclosures through the whole chain: a bonded supplier alerts, a clean one does not.
    submit(
        (submitter_a, of(BONDED_SUPPLIER, "SUP-DA1")),
        (submitter_a, of(CLEAN_SUPPLIER, "SUP-DA2")),
        (submitter_b, of(BONDED_SUPPLIER, "SUP-DB1")),
    )
    # Alerts straight to the topic, for the filters the chain does not choose.
    x1 = alert_event(f"x1-{unique}", tenant_id=tenant_a, entity_id="SUP-DA1", risk_level="critical")
    x1_escalated = alert_updated(x1, f"x1u-{unique}", change="evidence_added")
    x2 = alert_event(f"x2-{unique}", tenant_id=tenant_a, entity_id="SUP-DA9")
    y1 = alert_event(
        f"y1-{unique}", tenant_id=tenant_b, alert_type="forced_labour", country="TH",
        entity_id="SUP-DB7",
    )  # fmt: skip
    y2 = alert_event(f"y2-{unique}", tenant_id=tenant_b, alert_type="forced_labour", country="VN")
    y3 = alert_event(f"y3-{unique}", tenant_id=tenant_b, alert_type="risk_level", country="TH")
    system.produce(x1, x1_escalated, x2, y1, y2, y3)

    # The healthy receivers get theirs while the down one's are being retried.
    def bonded_all() -> list[dict[str, Any]] | None:
        found = deliveries(analyst_a, bonded)
        # The chain's alert for SUP-DA1, and x1 with its revision.
        done = len(found) >= 3 and all(d["status"] == "delivered" for d in found)
        return found if done else None

    until(bonded_all, "the bonded receiver's alerts delivered")
    until(lambda: accepted(receiver, forced_path), "the forced-labour receiver's alert")
    flaky_log = deliveries(analyst_a, flaky)
    assert flaky_log
    assert {d["status"] for d in flaky_log} == {"pending"}

    def down_for_rounds() -> list[dict[str, Any]] | None:
        found = deliveries(analyst_a, flaky)
        attempts = sum(d["attempt_count"] for d in found)
        return found if len(found) >= 4 and attempts >= OPENED + DOWN_ROUNDS else None

    flaky_log = until(down_for_rounds, f"the down receiver's circuit open for {DOWN_ROUNDS} rounds")
    assert {d["status"] for d in flaky_log} == {"pending"}
    assert {a["status_code"] for d in flaky_log for a in d["attempts"]} == {None}

    down.close()
    with Receiver(port=down_port) as back:
        back.endpoint(flaky_path, flaky["secret"])

        def flaky_all() -> list[dict[str, Any]] | None:
            found = deliveries(analyst_a, flaky)
            return found if all(d["status"] == "delivered" for d in found) else None

        flaky_log = until(flaky_all, "the receiver that came back has every alert")
        # Exactly once per webhook-id: each delivery the log holds, and nothing else.
        assert accepted(back, flaky_path) == {d["delivery_id"]: 1 for d in flaky_log}
        flaky_alerts = [alert_of(r.body) for r in back.received(flaky_path)]

    # Every alert tenant A raised reached its receiver for everything: the chain's, x1 (twice:
    # raised and revised) and x2; the clean supplier's disclosure raised none.
    assert {a["entity_id"] for a in flaky_alerts} == {"SUP-DA1", "SUP-DA9"}
    assert analyst_a.get("/v1/alerts", params={"entity_id": "SUP-DA2"}).json()["items"] == []
    assert {x1.id, x1_escalated.id, x2.id} <= {d["event_id"] for d in flaky_log}
    # Besides x1, x2 and x1's revision, the chain's alert for SUP-DA1.
    assert len(flaky_log) >= 4
    # The bonded receiver: SUP-DA1's alerts only, each once.
    bonded_log = deliveries(analyst_a, bonded)
    assert {d["status"] for d in bonded_log} == {"delivered"}
    assert accepted(receiver, bonded_path) == {d["delivery_id"]: 1 for d in bonded_log}
    assert {alert_of(r.body)["entity_id"] for r in receiver.received(bonded_path)} == {"SUP-DA1"}
    assert {x1.id, x1_escalated.id} <= {d["event_id"] for d in bonded_log}
    assert x2.id not in {d["event_id"] for d in bonded_log}

    # Tenant B's receiver that always fails: every one of its deliveries ends dead, in the dead
    # list with each attempt's answer, once the (short) retry horizon has passed.
    def failing_dead() -> list[dict[str, Any]] | None:
        found = every(
            analyst_b, "/v1/deliveries", subscription_id=failing["subscription_id"], status="dead"
        )
        everything = deliveries(analyst_b, failing)
        return found if len(found) == len(everything) >= 4 else None

    dead = until(failing_dead, "the failing receiver's deliveries dead")
    assert {y1.id, y2.id, y3.id} <= {d["event_id"] for d in dead}
    assert {a["status_code"] for d in dead for a in d["attempts"]} == {500}
    assert accepted(receiver, failing_path) == {}
    # Forced labour in Thailand only: y1; neither the chain's alert (Malaysia) nor y2 nor y3.
    assert accepted(receiver, forced_path) == {f"{y1.id}:{forced['subscription_id']}": 1}
    forced_log = deliveries(analyst_b, forced)
    assert [d["event_id"] for d in forced_log] == [y1.id]

    # The receiver is fixed; the analyst asks for the dead ones again.
    receiver.endpoint(failing_path, failing["secret"])
    asked = analyst_b.post(f"/v1/subscriptions/{failing['subscription_id']}:redeliver", json={})
    assert asked.status_code == 202, asked.text
    assert asked.json()["matching"] == len(dead)

    def redelivered() -> list[dict[str, Any]] | None:
        found = deliveries(analyst_b, failing)
        return found if all(d["status"] == "delivered" for d in found) else None

    after = until(redelivered, "the dead deliveries redelivered")
    assert accepted(receiver, failing_path) == {d["delivery_id"]: 1 for d in dead}
    before = {d["delivery_id"]: d for d in dead}
    for delivery in after:
        # Its earlier attempts stay in its log (some were never made: the circuit was open).
        earlier = before[delivery["delivery_id"]]["attempts"]
        assert delivery["attempts"][: len(earlier)] == earlier
        assert [a["status_code"] for a in delivery["attempts"][len(earlier) :]] == [204]
        assert [r["request_id"] for r in delivery["redeliveries"]] == [asked.json()["request_id"]]
        assert delivery["expires_at"] > before[delivery["delivery_id"]]["expires_at"]
    metrics = httpx.get(system.stack.url("notify") + "/metrics").text
    assert 'laboursight_webhook_dead_total{reason="horizon"}' in metrics
    assert "laboursight_webhook_redelivered_total" in metrics


def test_a_rotated_secret_and_the_old_both_sign_and_a_test_send_shows_it(
    system: System, receiver: Receiver
) -> None:
    analyst = system.client(f"dlv-c-{uuid.uuid4().hex[:6]}")
    path = f"/c/rotating-{uuid.uuid4().hex[:6]}"
    created = subscribe(analyst, receiver.endpoint(path, "whsec_unused"))
    old = created["secret"]
    receiver.endpoint(path, old)
    url = f"/v1/subscriptions/{created['subscription_id']}"

    rotated = analyst.post(f"{url}:rotate-secret", json={})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]

    def test_send() -> dict[str, Any]:
        asked = analyst.post(f"{url}:test", json={})
        assert asked.status_code == 202, asked.text

        def outcome() -> dict[str, Any] | None:
            shown = analyst.get(asked.json()["delivery_url"])
            if shown.status_code != 200 or shown.json()["status"] == "pending":
                return None
            found: dict[str, Any] = shown.json()
            return found

        return until(outcome, "the test-send's outcome")

    # The receiver still holds the old secret: it accepts, and so would one holding the new.
    during = test_send()
    [seen] = [
        r for r in receiver.received(path) if r.headers["webhook-id"] == during["delivery_id"]
    ]
    assert (during["status"], during["event_type"]) == ("delivered", "org.laboursight.webhook.test")
    assert seen.verified
    assert len(seen.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(seen.body, seen.headers)

    # Once the overlap is ended, only the new secret signs.
    ended = analyst.post(f"{url}:rotate-secret", json={"overlap_s": 0})
    newest = ended.json()["secret"]
    receiver.endpoint(path, newest)
    after = test_send()
    [last] = [r for r in receiver.received(path) if r.headers["webhook-id"] == after["delivery_id"]]
    assert after["status"] == "delivered"
    assert last.verified
    for stale in (old, new):
        with pytest.raises(WebhookVerificationError):
            Webhook(stale).verify(last.body, last.headers)
