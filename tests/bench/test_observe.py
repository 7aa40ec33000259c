"""Seeing the system's outcome from outside, on real MongoDB and a real signed POST."""

import base64
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from standardwebhooks import Webhook

from laboursight_schemas import collections
from tests.bench.observe import FindingsWatcher, Webhooks
from tests.bench.phases import until
from tests.infra import Infra

pytestmark = pytest.mark.integration


async def test_findings_of_watched_tenants_are_seen_with_the_time_they_were_written(
    infra: Infra,
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    database = client[f"test_{uuid.uuid4().hex}"]
    findings = database[collections.FINDINGS]
    watcher = FindingsWatcher(findings, ["mine"])
    await watcher.start()
    try:
        before = time.time()
        await findings.insert_one({"_id": "a:1", "tenant_id": "mine", "disclosure_id": "a"})
        await findings.insert_one({"_id": "b:1", "tenant_id": "theirs", "disclosure_id": "b"})
        await findings.update_one(
            {"_id": "c:1"},
            {"$setOnInsert": {"tenant_id": "mine", "disclosure_id": "c"}},
            upsert=True,
        )
        await until(lambda: watcher.count("mine", {"a", "b", "c"}) == 2, time.monotonic() + 10)
        seen = dict(watcher.seen("mine"))
    finally:
        await watcher.stop()
        await client.drop_database(database.name)
        await client.close()
    assert set(seen) == {"a", "c"}
    assert all(at >= before - 1 for at in seen.values())  # the server's clock, to the millisecond


def _post(url: str, body: str, secret: str, message_id: str) -> int:
    headers = {
        "content-type": "application/cloudevents+json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": Webhook(secret).sign(message_id, datetime.now(UTC), body),
    }
    return httpx.post(url, content=body, headers=headers).status_code


def test_only_verified_webhooks_are_kept_with_their_arrival() -> None:
    hooks = Webhooks()
    hooks.receiver.start()
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    hooks.receiver.secret = secret
    event = {"tenantid": "mine", "correlationid": "d-1", "data": {}}
    try:
        before = time.time()
        assert _post(hooks.receiver.url, json.dumps(event), secret, "msg-1") == 204
        assert _post(hooks.receiver.url, json.dumps(event), secret, "msg-1") == 204
        wrong = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        assert _post(hooks.receiver.url, json.dumps(event), wrong, "msg-2") == 401
    finally:
        hooks.receiver.stop()
    arrivals = hooks.arrivals()
    assert [(a.tenant_id, a.correlation_id, a.webhook_id) for a in arrivals] == [
        ("mine", "d-1", "msg-1")
    ] * 2
    assert hooks.first_by_disclosure() == {"d-1": arrivals[0].at}
    assert arrivals[0].at >= before
    assert hooks.rejected == 1
