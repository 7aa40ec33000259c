"""MongoDB collection names: the read side of one service is the write side of another.

Every document carries ``tenant_id`` and every query filters on it (DESIGN.md, MongoDB contract).
Owners create their collections' indexes at start-up.

| collection        | owner (writes)  | readers   | key                                          |
|-------------------|-----------------|-----------|----------------------------------------------|
| api_keys          | api             | api       | _id = key id; secret stored as SHA-256 only   |
| idempotency_keys  | api             | api       | (tenant_id, key_id, idempotency_key), TTL     |
| disclosures       | api             | api       | _id = disclosure id: submission, outbox, status |
| disclosure_batches| api             | api       | _id = batch id: an upload and its progress;    |
|                   |                 |           | _id = batch id/first line: its line results, TTL |
| subscriptions     | api             | notify    | _id = subscription id                        |
| findings          | risk            | api       | _id = disclosure id + rule set + ref. edition; |
|                   |                 |           | also risk's idempotency record                |
| entities          | risk            | api       | _id = tenant/kind/entity id: own judgement,   |
|                   |                 |           | recruitment-chain links and inherited risk    |
| alerts            | risk            | api       | _id = alert id; unique (tenant_id, dedupe_key); |
|                   |                 |           | also risk's outbox (published, raised_at)      |
| deliveries        | notify          | api       | _id = alert event id + subscription id: the   |
|                   |                 |           | work queue (pending, due_at, lease) and log   |
"""

from typing import Final

API_KEYS: Final = "api_keys"
IDEMPOTENCY_KEYS: Final = "idempotency_keys"
DISCLOSURES: Final = "disclosures"
DISCLOSURE_BATCHES: Final = "disclosure_batches"
SUBSCRIPTIONS: Final = "subscriptions"
FINDINGS: Final = "findings"
ENTITIES: Final = "entities"
ALERTS: Final = "alerts"
DELIVERIES: Final = "deliveries"


def entity_key(tenant_id: str, entity_kind: str, entity_id: str) -> str:
    """The ``_id`` of an entity's risk profile in ``entities``: written by risk, read by api."""
    return f"{tenant_id}/{entity_kind}/{entity_id}"
