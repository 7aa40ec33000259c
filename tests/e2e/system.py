"""The running system as the end-to-end tests drive it: an HTTP client and a webhook receiver."""

import time
from typing import Any

import httpx

from laboursight_runtime.local.receiver import WebhookReceiver
from laboursight_runtime.local.stack import Stack

ALERT_WITHIN_S = 60.0
TENANT = "tenant-e2e"

# The suppliers the submitter key may disclose for: a bonded one per test that expects the
# first alert of its entity (the pipeline's, batch ingest's, the inbox's), and a clean one.
SUBMITTER_ENTITIES = (
    "SUP-666",
    "SUP-001",
    "SUP-667",
    "SUP-668",
    "SUP-669",
)


class System:
    def __init__(self, stack: Stack, receiver: WebhookReceiver) -> None:
        self.stack = stack
        self.receiver = receiver
        self.api = stack.url("api")

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.api, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )


def wait_for_status(client: httpx.Client, disclosure_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + ALERT_WITHIN_S
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/disclosures/{disclosure_id}").json()
        if body.get("status") == status:
            return body
        time.sleep(0.2)
    raise AssertionError(f"disclosure {disclosure_id} never reached {status}: {body}")
