"""MongoDB collection names: the read side of one service is the write side of another.

Every document carries ``tenant_id`` and every query filters on it (DESIGN.md, MongoDB contract).
A replay writes none of these: only its own databases (``laboursight_schemas.replay``).
Owners create their collections' indexes at start-up.

| collection        | owner (writes)  | readers   | key                                          |
|-------------------|-----------------|-----------|----------------------------------------------|
| api_keys          | api             | api       | _id = key id; secret stored as SHA-256 only   |
| idempotency_keys  | api             | api       | (tenant_id, key_id, idempotency_key), TTL     |
| disclosures       | api             | api       | _id = disclosure id: submission, outbox, status |
| disclosure_batches| api             | api       | _id = batch id: an upload and its progress;    |
|                   |                 |           | _id = batch id/first line: its line results, TTL |
| subscriptions     | api             | notify    | _id = subscription id                        |
| cases             | api             | api       | _id = case id: state, history, outbox; or    |
|                   |                 |           | tenant/alert id/dismissal; unique (tenant_id, |
|                   |                 |           | alert_ids): one case or dismissal per alert  |
| case_settings     | api             | api       | _id = tenant id: due days by risk level       |
| retention_policies| api             | api, risk,| _id = tenant id: years kept (retention.py)    |
|                   |                 | notify    |                                              |
| legal_holds       | api             | api, risk,| _id = hold id: a tenant's or an entity's hold;|
|                   |                 | notify    | released ones kept (retention.py)            |
| findings          | risk            | api       | _id = disclosure id + rule set + ref. edition; |
|                   |                 |           | also risk's idempotency record                |
| entities          | risk            | api       | _id = tenant/kind/entity id: own judgement,   |
|                   |                 |           | recruitment-chain links and inherited risk,   |
|                   |                 |           | name and country                              |
| alerts            | risk            | api       | _id = alert id; unique (tenant_id, dedupe_key |
|                   |                 |           | = tenant/kind/entity id/alert type): status,  |
|                   |                 |           | revision, latest revision; also risk's outbox |
|                   |                 |           | (revisions, published_revision, pending_at)   |
| deliveries        | notify          | api       | _id = event id (an alert's, a test-send's) +  |
|                   |                 |           | subscription id: the work queue (pending,     |
|                   |                 |           | due_at, lease) and log; the api asks notify   |
|                   |                 |           | for changes on deliveries.requests.v1         |
| ledger            | ledger          | api       | _id = tenant id/seq: one hash-chain entry per |
|                   |                 |           | event (laboursight_schemas.ledger)            |
| ledger_heads      | ledger          | api       | _id = tenant id: the chain's last seq, hash   |
| ledger_checkpoints| ledger          | api       | _id = tenant id/day: the head, signed, daily  |
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
CASES: Final = "cases"
CASE_SETTINGS: Final = "case_settings"
RETENTION_POLICIES: Final = "retention_policies"
LEGAL_HOLDS: Final = "legal_holds"
LEDGER: Final = "ledger"
LEDGER_HEADS: Final = "ledger_heads"
LEDGER_CHECKPOINTS: Final = "ledger_checkpoints"


def entity_key(tenant_id: str, entity_kind: str, entity_id: str) -> str:
    """The ``_id`` of an entity's risk profile in ``entities``: written by risk, read by api."""
    return f"{tenant_id}/{entity_kind}/{entity_id}"
