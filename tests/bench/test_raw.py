"""The raw-limit probes on the real servers: they finish, report every figure, leave nothing."""

from typing import Any

import pytest
from pymongo import AsyncMongoClient

from laboursight_runtime.settings import Settings
from tests.bench.raw import KafkaSizes, MongoSizes, kafka_limits, mongo_limits
from tests.infra import Infra

pytestmark = pytest.mark.integration


def _settings(infra: Infra) -> Settings:
    values: dict[str, Any] = {name.lower(): value for name, value in infra.environment().items()}
    return Settings(**values)


async def test_kafka_probes_report_every_figure(infra: Infra) -> None:
    settings = _settings(infra)
    figures = await kafka_limits(
        settings.kafka_bootstrap_servers,
        b"x" * 500,
        KafkaSizes(batched=200, acked_in_series=5, concurrent_clients=4, concurrent_each=3),
        idempotent=settings.kafka_idempotent_producer,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )
    assert figures["value_bytes"] == 500
    assert figures["acked_produce_ms"].count == 5
    for name in ("batched_produce_per_s", "consume_per_s", "concurrent_acked_produces_per_s"):
        assert figures[name] > 0


async def test_mongodb_probes_use_journaled_majority_and_drop_their_database(
    infra: Infra,
) -> None:
    figures = await mongo_limits(
        infra.mongodb_uri, {"evidence": "y" * 500}, MongoSizes(batch=20, rounds=2, transactions=3)
    )
    assert figures["write_concern"] == "majority, j=true"
    for name in ("bulk_upsert_ops_per_s", "insert_many_docs_per_s", "transactions_per_s"):
        assert figures[name] > 0
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
    try:
        assert not [n for n in await client.list_database_names() if n.startswith("bench_raw_")]
    finally:
        await client.close()
