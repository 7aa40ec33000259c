"""The risk service: findings in, entity risk and alerts out."""

from faststream.asgi import AsgiFastStream

from laboursight_runtime import logs
from laboursight_runtime.kafka import KafkaPublisher, make_broker
from laboursight_runtime.mongo import make_client
from laboursight_runtime.service import consumer_app, serve, subscribe
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import FindingsEvent

from .handlers import RecordFindings
from .store import MongoRiskStore

GROUP = "risk"


def bootstrap(settings: Settings) -> AsgiFastStream:
    broker = make_broker(settings, client_id="risk")
    client = make_client(settings)
    store = MongoRiskStore(client, settings.mongodb_database)
    handle = RecordFindings(store, KafkaPublisher(broker))
    consumer = subscribe(
        broker, settings, topics.FINDINGS, group_id=GROUP, event_type=FindingsEvent, handle=handle
    )
    return consumer_app(
        broker, consumers=[consumer], mongo=client, on_startup=[store.create_indexes]
    )


def main() -> None:
    settings = Settings()
    logs.configure("risk", settings.log_level)
    serve(bootstrap(settings), settings)
