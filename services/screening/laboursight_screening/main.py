"""The screening service: both disclosure topics in, findings out. Stateless."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from faststream.asgi import AsgiFastStream
from pydantic_settings import BaseSettings, SettingsConfigDict

from laboursight_runtime import logs, tracing
from laboursight_runtime.kafka import KafkaPublisher, make_broker
from laboursight_runtime.pipeline import BACKLOG_FETCH, subscribe_batch
from laboursight_runtime.service import consumer_app, serve
from laboursight_runtime.settings import Settings
from laboursight_schemas import topics
from laboursight_schemas.envelope import RecruiterDisclosureEvent, SupplierDisclosureEvent
from laboursight_schemas.reference import load_reference

from .engine import SHIPPED, SHIPPED_FOLDER, Catalogue
from .handlers import Screener
from .watchlists.loading import load_watchlists

INPUTS = (
    (topics.SUPPLIER_DISCLOSURES, SupplierDisclosureEvent, "screening-supplier"),
    (topics.RECRUITER_DISCLOSURES, RecruiterDisclosureEvent, "screening-recruiter"),
)


class ScreeningSettings(BaseSettings):
    """Which rule set and reference edition to screen with; the newest by default.

    ``rule_sets_dir`` adds a folder of operator-published rule sets to the shipped ones;
    ``watchlists_dir`` is the folder of watchlist editions to screen against in place of the
    shipped fictional one (watchlists/editions/README.md).
    """

    model_config = SettingsConfigDict(env_prefix="SCREENING_", extra="ignore")

    rule_set: str | None = None
    rule_sets_dir: Path | None = None
    reference_edition: str | None = None
    watchlists_dir: Path | None = None

    def catalogue(self) -> Catalogue:
        return (
            SHIPPED if self.rule_sets_dir is None else Catalogue(SHIPPED_FOLDER, self.rule_sets_dir)
        )


def bootstrap(settings: Settings, screening: ScreeningSettings) -> AsgiFastStream:
    # Loaded before the broker starts: an unknown version stops the service at once.
    catalogue = screening.catalogue()
    rules = catalogue.compiled(screening.rule_set or catalogue.current_version())
    # An empty variable means the default, as an unset one does.
    reference = load_reference(screening.reference_edition or None)
    watchlists = load_watchlists(screening.watchlists_dir)
    broker = make_broker(settings, client_id="screening")
    screener = Screener(KafkaPublisher(broker), rules, reference, watchlists)
    consumers = [
        subscribe_batch(
            broker,
            settings,
            topic,
            group_id=group,
            event_type=event_type,
            handle=screener,
            fetch_bytes=BACKLOG_FETCH,
        )
        for topic, event_type, group in INPUTS
    ]
    return consumer_app(broker, consumers=consumers)


DESCRIPTION = (
    "Run the screening service: read both disclosure topics, screen each disclosure under a rule "
    "set and a reference-data edition, publish its findings. It takes no arguments; it is "
    "configured by the environment (see the README): KAFKA_BOOTSTRAP_SERVERS, "
    "KAFKA_IDEMPOTENT_PRODUCER, KAFKA_FETCH_MAX_WAIT_MS, KAFKA_SESSION_TIMEOUT_MS, "
    "KAFKA_HEARTBEAT_INTERVAL_MS, HTTP_HOST/HTTP_PORT (health and metrics), LOG_LEVEL, and "
    "SCREENING_RULE_SET, SCREENING_RULE_SETS_DIR, SCREENING_REFERENCE_EDITION, "
    "SCREENING_WATCHLISTS_DIR."
)


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(prog="laboursight-screening", description=DESCRIPTION).parse_args(argv)
    settings = Settings()
    logs.configure("screening", settings.log_level)
    tracing.configure("screening", settings)
    serve(bootstrap(settings, ScreeningSettings()), settings)
