"""The ledger service, and ``laboursight-ledger verify`` for auditors."""

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from faststream.asgi import AsgiFastStream

from laboursight_runtime import logs, tracing
from laboursight_runtime.kafka import make_broker
from laboursight_runtime.mongo import make_client
from laboursight_runtime.pipeline import FetchBytes, subscribe_records
from laboursight_runtime.service import consumer_app, serve
from laboursight_runtime.settings import Settings
from laboursight_schemas import topology
from laboursight_schemas.envelope import now

from .checkpoints import Checkpoints
from .handlers import AppendEvents
from .reading import read_envelope
from .settings import LedgerSettings
from .signing import Signer, new_private_key
from .store import MongoLedger
from .verification import verify_tenants

# The ledger reads every partition of every topic, and aiokafka prefetches up to a fetch's
# limit for each: with its defaults that prefetch, not the appends, is most of the ledger's
# memory under a backlog (issue 8: ≤ 150 MB). Smaller fetches cost some catch-up rate.
FETCH_BYTES = FetchBytes(total=1024 * 1024, per_partition=256 * 1024)


def bootstrap(settings: Settings, ledger_settings: LedgerSettings) -> AsgiFastStream:
    broker = make_broker(settings, client_id="ledger")
    client = make_client(settings)
    ledger = MongoLedger(client, settings.mongodb_database)
    handle = AppendEvents(ledger)
    consumers = [
        subscribe_records(
            broker,
            settings,
            topic.name,
            group_id=topology.ledger_group(topic.name),
            event_type=read_envelope,
            handle=handle,
            fetch_bytes=FETCH_BYTES,
        )
        for topic in topology.TOPICS
    ]
    app = consumer_app(
        broker, consumers=consumers, mongo=client, on_startup=[ledger.create_indexes]
    )
    key = ledger_settings.signing_key
    checkpoints = Checkpoints(
        client[settings.mongodb_database],
        None if key is None else Signer(key.get_secret_value()),
        now,
        ledger_settings.checkpoint_interval_s,
    )
    app.after_startup(checkpoints.periodic.start)
    app.on_shutdown(checkpoints.periodic.stop)
    return app


DESCRIPTION = (
    "Run the ledger service: append every event on every topic to its tenant's hash chain in "
    "MongoDB. Configured by the environment (see the README): KAFKA_BOOTSTRAP_SERVERS, "
    "MONGODB_URI, MONGODB_DATABASE, HTTP_HOST/HTTP_PORT (health and metrics) and LOG_LEVEL. "
    "`verify` walks the chains instead and exits 1 if any is broken."
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="laboursight-ledger", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser(
        "verify", help="walk the tenants' chains and report intact or the first broken entry"
    )
    check.add_argument(
        "--tenant", action="append", default=[], help="a tenant id (repeat; default: every one)"
    )
    check.add_argument("--json", action="store_true", help="one JSON object per tenant")
    check.add_argument(
        "--public-key",
        help="base64 Ed25519 public key the checkpoints must be signed with (printed by new-key)",
    )
    commands.add_parser(
        "new-key", help="print a new LEDGER_SIGNING_KEY and the public key to publish for it"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    if arguments.command == "new-key":
        private = new_private_key()
        print(f"LEDGER_SIGNING_KEY={private}")
        print(f"public key: {Signer(private).public_key}")
        return
    settings = Settings()
    if arguments.command != "verify":
        logs.configure("ledger", settings.log_level)
        tracing.configure("ledger", settings)
        serve(bootstrap(settings, LedgerSettings()), settings)
        return
    try:
        verdicts = asyncio.run(verify_tenants(settings, arguments.tenant, arguments.public_key))
    except Exception as error:
        sys.exit(f"laboursight-ledger: cannot read the ledger at {settings.mongodb_uri}: {error}")
    for verdict in verdicts:
        if arguments.json:
            print(
                json.dumps(
                    {
                        "tenant_id": verdict.tenant_id,
                        "intact": verdict.intact,
                        "entries": verdict.entries,
                        "head_hash": verdict.head_hash,
                        "broken_at": verdict.broken_at,
                        "reason": verdict.reason,
                    }
                )
            )
        else:
            print(f"{verdict.tenant_id}: {verdict}")
    sys.exit(0 if all(v.intact for v in verdicts) else 1)
