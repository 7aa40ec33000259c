"""The notify service: alerts in, signed webhooks out, every outcome kept in ``deliveries``."""

import argparse
from collections.abc import Sequence
from functools import partial

from faststream.asgi import AsgiFastStream

from laboursight_runtime import logs
from laboursight_runtime.kafka import make_broker
from laboursight_runtime.mongo import make_client
from laboursight_runtime.service import consumer_app, serve, subscribe
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import AlertEvent

from .handlers import Notifier
from .stores import (
    DeliveryLog,
    MongoDeliveryLog,
    MongoSubscriptions,
    SubscriptionStore,
    create_indexes,
)
from .webhooks import SignedWebhookSender, WebhookSender, http_client

GROUP_ID = "notify"


def bootstrap(
    settings: Settings,
    *,
    subscriptions: SubscriptionStore | None = None,
    deliveries: DeliveryLog | None = None,
    sender: WebhookSender | None = None,
) -> AsgiFastStream:
    """Wire the service; tests pass fakes for the ports, production takes the defaults."""
    broker = make_broker(settings, client_id="notify")
    mongo = make_client(settings)
    db = mongo[settings.mongodb_database]
    http = http_client()
    notifier = Notifier(
        subscriptions if subscriptions is not None else MongoSubscriptions(db),
        deliveries if deliveries is not None else MongoDeliveryLog(db),
        sender if sender is not None else SignedWebhookSender(http),
    )
    consumer = subscribe(
        broker,
        settings,
        topics.ALERTS,
        group_id=GROUP_ID,
        event_type=AlertEvent,
        handle=notifier,
    )
    app = consumer_app(
        broker, consumers=[consumer], mongo=mongo, on_startup=[partial(create_indexes, db)]
    )
    # After the broker stopped, so no handler is still posting.
    app.after_shutdown(http.aclose)
    return app


DESCRIPTION = (
    "Run the notify service: read alerts and deliver them to the tenants' webhook subscriptions, "
    "signed, every delivery kept in MongoDB. It takes no arguments; it is configured by the "
    "environment (see the README): KAFKA_BOOTSTRAP_SERVERS, KAFKA_IDEMPOTENT_PRODUCER, "
    "KAFKA_FETCH_MAX_WAIT_MS, KAFKA_SESSION_TIMEOUT_MS, KAFKA_HEARTBEAT_INTERVAL_MS, MONGODB_URI, "
    "MONGODB_DATABASE, HTTP_HOST/HTTP_PORT (health and metrics) and LOG_LEVEL."
)


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(prog="laboursight-notify", description=DESCRIPTION).parse_args(argv)
    settings = Settings()
    logs.configure("notify", settings.log_level)
    serve(bootstrap(settings), settings)
