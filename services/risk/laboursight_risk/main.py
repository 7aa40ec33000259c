"""The risk service: findings in, entity risk and alerts out; the analysts' case events in,
alert status out."""

import argparse
from collections.abc import Sequence

from faststream.asgi import AsgiFastStream

from laboursight_runtime import logs, retention, tracing
from laboursight_runtime.kafka import KafkaPublisher, make_broker
from laboursight_runtime.mongo import make_client
from laboursight_runtime.pipeline import BACKLOG_FETCH, subscribe_batch
from laboursight_runtime.service import consumer_app, serve
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import FindingsEvent

from .broker_log import KafkaAlertLog
from .case_events import CASE_EVENTS, RecordCaseEvents
from .handlers import RecordFindings
from .purge import TARGETS as purge_targets
from .relay import OutboxRelay
from .store import MongoRiskStore

GROUP = "risk"
CASES_GROUP = "risk-cases"
# Under a backlog the batch binds as well as the fetch (BACKLOG_FETCH): 500 decoded findings
# with their profiles, alerts and bulk writes at once took risk's peak to ~176 MB; 250 kept it
# at ~154 MB with no fewer findings/s (10,000 events straight to Kafka, tansu).
FINDINGS_MAX_RECORDS = 250


def bootstrap(settings: Settings) -> AsgiFastStream:
    broker = make_broker(settings, client_id="risk")
    client = make_client(settings)
    store = MongoRiskStore(client, settings.mongodb_database)
    publisher = KafkaPublisher(broker)
    findings = subscribe_batch(
        broker,
        settings,
        topics.FINDINGS,
        group_id=GROUP,
        event_type=FindingsEvent,
        handle=RecordFindings(store, publisher),
        fetch_bytes=BACKLOG_FETCH,
        max_records=FINDINGS_MAX_RECORDS,
    )
    # A group of its own: a rebalance or a halt of one stream never pauses the other.
    cases = subscribe_batch(
        broker,
        settings,
        topics.CASES,
        group_id=CASES_GROUP,
        event_type=CASE_EVENTS,
        handle=RecordCaseEvents(store, publisher),
    )
    app = consumer_app(
        broker, consumers=[findings, cases], mongo=client, on_startup=[store.create_indexes]
    )
    relay = OutboxRelay(store.outbox, publisher, KafkaAlertLog(settings.kafka_bootstrap_servers))
    # Once the broker is connected, and stopped before it disconnects.
    app.after_startup(relay.start)
    app.on_shutdown(relay.stop)
    return app


DESCRIPTION = (
    "Run the risk service: read findings, keep each entity's risk profile in MongoDB, raise and "
    "update alerts, and follow the analysts' case events to set each alert's status; `purge` "
    "deletes the findings past the tenants' retention instead. Configured by the environment "
    "(see the README): "
    "KAFKA_BOOTSTRAP_SERVERS, KAFKA_IDEMPOTENT_PRODUCER, KAFKA_FETCH_MAX_WAIT_MS, "
    "KAFKA_SESSION_TIMEOUT_MS, KAFKA_HEARTBEAT_INTERVAL_MS, MONGODB_URI, MONGODB_DATABASE, "
    "HTTP_HOST/HTTP_PORT (health and metrics) and LOG_LEVEL."
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="laboursight-risk", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command")
    retention.add_purge_command(commands, "risk", purge_targets)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    settings = Settings()
    if arguments.command == "purge":
        retention.run_purge("laboursight-risk", settings, purge_targets, arguments.dry_run)
        return
    logs.configure("risk", settings.log_level)
    tracing.configure("risk", settings)
    serve(bootstrap(settings), settings)
