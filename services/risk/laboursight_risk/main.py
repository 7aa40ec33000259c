"""The risk service: findings in, entity risk and alerts out."""

import argparse
from collections.abc import Sequence

from faststream.asgi import AsgiFastStream

from laboursight_runtime import logs
from laboursight_runtime.kafka import KafkaPublisher, make_broker
from laboursight_runtime.mongo import make_client
from laboursight_runtime.pipeline import subscribe_batch
from laboursight_runtime.service import consumer_app, serve
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import FindingsEvent

from .broker_log import KafkaAlertLog
from .handlers import RecordFindings
from .relay import OutboxRelay
from .store import MongoRiskStore

GROUP = "risk"


def bootstrap(settings: Settings) -> AsgiFastStream:
    broker = make_broker(settings, client_id="risk")
    client = make_client(settings)
    store = MongoRiskStore(client, settings.mongodb_database)
    publisher = KafkaPublisher(broker)
    consumer = subscribe_batch(
        broker,
        settings,
        topics.FINDINGS,
        group_id=GROUP,
        event_type=FindingsEvent,
        handle=RecordFindings(store, publisher),
    )
    app = consumer_app(
        broker, consumers=[consumer], mongo=client, on_startup=[store.create_indexes]
    )
    relay = OutboxRelay(store.outbox, publisher, KafkaAlertLog(settings.kafka_bootstrap_servers))
    # Once the broker is connected, and stopped before it disconnects.
    app.after_startup(relay.start)
    app.on_shutdown(relay.stop)
    return app


DESCRIPTION = (
    "Run the risk service: read findings, keep each entity's risk profile in MongoDB and raise "
    "alerts. It takes no arguments; it is configured by the environment (see the README): "
    "KAFKA_BOOTSTRAP_SERVERS, KAFKA_IDEMPOTENT_PRODUCER, KAFKA_FETCH_MAX_WAIT_MS, "
    "KAFKA_SESSION_TIMEOUT_MS, KAFKA_HEARTBEAT_INTERVAL_MS, MONGODB_URI, MONGODB_DATABASE, "
    "HTTP_HOST/HTTP_PORT (health and metrics) and LOG_LEVEL."
)


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(prog="laboursight-risk", description=DESCRIPTION).parse_args(argv)
    settings = Settings()
    logs.configure("risk", settings.log_level)
    serve(bootstrap(settings), settings)
