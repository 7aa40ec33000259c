"""The notify service: alerts and delivery requests in, deliveries recorded, signed webhooks sent
by the dispatcher."""

import argparse
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from faststream.asgi import AsgiFastStream

from laboursight_runtime import logs, retention, tracing
from laboursight_runtime.kafka import make_broker
from laboursight_runtime.mongo import make_client
from laboursight_runtime.pipeline import subscribe_batch
from laboursight_runtime.service import consumer_app, serve
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import (
    AlertEvent,
    AlertUpdatedEvent,
    RedeliveryRequestedEvent,
    SubscriptionTestRequestedEvent,
)
from laboursight_schemas.upcasting import Readable

from .dispatcher import Dispatcher
from .handlers import CarryOutRequests, RecordDeliveries, RequestEvent
from .model import AnyAlertEvent
from .purge import TARGETS as purge_targets
from .settings import NotifySettings
from .stores import (
    DeliveryQueue,
    MongoDeliveryQueue,
    MongoSubscriptions,
    SubscriptionStore,
    create_indexes,
)
from .webhooks import SignedWebhookSender, WebhookSender

GROUP_ID = "notify"
REQUESTS_GROUP_ID = "notify-requests"
ALERT_EVENTS: Readable[AnyAlertEvent] = (AlertEvent, AlertUpdatedEvent)
REQUEST_EVENTS: Readable[RequestEvent] = (RedeliveryRequestedEvent, SubscriptionTestRequestedEvent)


def bootstrap(
    settings: Settings,
    notify: NotifySettings | None = None,
    *,
    subscriptions: SubscriptionStore | None = None,
    deliveries: DeliveryQueue | None = None,
    sender: WebhookSender | None = None,
) -> AsgiFastStream:
    """Wire the service; tests pass fakes for the ports, production takes the defaults.

    Two consumers: the alerts (``alerts.v1``, both event types) and the api's delivery
    requests (``deliveries.requests.v1``), in groups of their own, both handing over to the one
    dispatcher. The dispatcher starts after the broker and stops before it, so no webhook is
    sent by a process that is not consuming, and none is in flight when the clients close. The
    webhook sender's HTTP session opens at startup, in the loop that serves the app.
    """
    notify = notify if notify is not None else NotifySettings()
    broker = make_broker(settings, client_id="notify")
    mongo = make_client(settings)
    db = mongo[settings.mongodb_database]
    subscriptions = subscriptions if subscriptions is not None else MongoSubscriptions(db)
    deliveries = deliveries if deliveries is not None else MongoDeliveryQueue(db)
    signed: SignedWebhookSender | None = None
    if sender is None:
        sender = signed = SignedWebhookSender(notify.concurrency, policy=settings.outbound_policy())
    dispatcher = Dispatcher(
        deliveries,
        subscriptions,
        sender,
        policy=notify.retry_policy(),
        circuits=notify.circuits(),
        concurrency=notify.concurrency,
        attempt_timeout=timedelta(seconds=notify.attempt_timeout_s),
        lease=timedelta(seconds=notify.lease_s),
        poll_interval=timedelta(seconds=notify.poll_interval_s),
    )
    alerts = subscribe_batch(
        broker,
        settings,
        topics.ALERTS,
        group_id=GROUP_ID,
        event_type=ALERT_EVENTS,
        handle=RecordDeliveries(
            subscriptions, deliveries, horizon=notify.retry_horizon, dispatch=dispatcher
        ),
    )
    requests = subscribe_batch(
        broker,
        settings,
        topics.DELIVERY_REQUESTS,
        group_id=REQUESTS_GROUP_ID,
        event_type=REQUEST_EVENTS,
        handle=CarryOutRequests(
            subscriptions, deliveries, horizon=notify.retry_horizon, dispatch=dispatcher
        ),
    )
    app = consumer_app(
        broker,
        consumers=[alerts, requests],
        mongo=mongo,
        on_startup=[partial(create_indexes, db)],
    )
    if signed is not None:
        app.on_startup(signed.open)
        app.after_shutdown(signed.close)
    app.after_startup(dispatcher.start)
    app.on_shutdown(dispatcher.stop)
    return app


DESCRIPTION = (
    "Run the notify service: read alerts, record a delivery for each of the tenant's webhook "
    "subscriptions it reaches, and send them signed, retried with backoff and kept in MongoDB; "
    "carry out the redeliveries and test-sends the api asks for; `purge` deletes the deliveries "
    "past the tenants' retention instead. Configured by the environment (see the README): "
    "KAFKA_BOOTSTRAP_SERVERS, KAFKA_IDEMPOTENT_PRODUCER, KAFKA_FETCH_MAX_WAIT_MS, "
    "KAFKA_SESSION_TIMEOUT_MS, KAFKA_HEARTBEAT_INTERVAL_MS, MONGODB_URI, MONGODB_DATABASE, "
    "HTTP_HOST/HTTP_PORT (health and metrics), LOG_LEVEL, OUTBOUND_ALLOW_LOOPBACK, "
    "OUTBOUND_ALLOWED_NETWORKS, and NOTIFY_RETRY_HORIZON_S, "
    "NOTIFY_RETRY_FIRST_WAIT_S, NOTIFY_RETRY_MAX_WAIT_S, NOTIFY_CIRCUIT_FAILURES, "
    "NOTIFY_CIRCUIT_COOLDOWN_S, NOTIFY_CONCURRENCY, NOTIFY_ENDPOINT_CONCURRENCY, "
    "NOTIFY_ATTEMPT_TIMEOUT_S, NOTIFY_LEASE_S and NOTIFY_POLL_INTERVAL_S."
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="laboursight-notify", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command")
    retention.add_purge_command(commands, "notify", purge_targets)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    settings = Settings()
    if arguments.command == "purge":
        retention.run_purge("laboursight-notify", settings, purge_targets, arguments.dry_run)
        return
    notify = NotifySettings()
    logs.configure("notify", settings.log_level)
    tracing.configure("notify", settings)
    serve(bootstrap(settings, notify), settings)
