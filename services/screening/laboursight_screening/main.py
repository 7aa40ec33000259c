"""The screening service: both disclosure topics in, findings out. Stateless."""

from faststream.asgi import AsgiFastStream

from laboursight_runtime import logs
from laboursight_runtime.kafka import KafkaPublisher, make_broker
from laboursight_runtime.service import consumer_app, serve, subscribe
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import RecruiterDisclosureEvent, SupplierDisclosureEvent

from .handlers import Screener

INPUTS = (
    (topics.SUPPLIER_DISCLOSURES, SupplierDisclosureEvent, "screening-supplier"),
    (topics.RECRUITER_DISCLOSURES, RecruiterDisclosureEvent, "screening-recruiter"),
)


def bootstrap(settings: Settings) -> AsgiFastStream:
    broker = make_broker(settings, client_id="screening")
    screener = Screener(KafkaPublisher(broker))
    consumers = [
        subscribe(broker, settings, topic, group_id=group, event_type=event_type, handle=screener)
        for topic, event_type, group in INPUTS
    ]
    return consumer_app(broker, consumers=consumers)


def main() -> None:
    settings = Settings()
    logs.configure("screening", settings.log_level)
    serve(bootstrap(settings), settings)
