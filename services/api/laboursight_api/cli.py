"""``laboursight-api``: serve the api (the default), or create an API key."""

import argparse
import asyncio
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI
from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from laboursight_runtime import logs, retention, tracing
from laboursight_runtime.mongo import make_client, redacted
from laboursight_runtime.service import serve, worker_process

from . import evidence_command, uploader
from .app import create_app
from .keys import ROLES, create_api_key, parse_key
from .purge import TARGETS as purge_targets
from .settings import ApiSettings

DESCRIPTION = """\
Serve the laboursight HTTP api (the default, or `serve`), create an API key (`create-key`),
upload a file of disclosures to a running api (`upload`), or delete what is past the tenants'
retention (`purge`).

Configured by the environment (see the README): KAFKA_BOOTSTRAP_SERVERS, \
KAFKA_IDEMPOTENT_PRODUCER, MONGODB_URI, MONGODB_DATABASE, HTTP_HOST, HTTP_PORT, LOG_LEVEL and \
the API_* limits. `create-key` and `purge` need MongoDB only.
"""


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="laboursight-api", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP api (the default)", description=DESCRIPTION)
    create_key = commands.add_parser(
        "create-key",
        help="create an API key and print it",
        description="Store a new API key for a tenant in MongoDB (MONGODB_URI, MONGODB_DATABASE) "
        "and print it; this is the only time the key is shown. A tenant's first admin key is "
        "made so; its admins then manage its keys through the api (/v1/keys).",
    )
    create_key.add_argument("--tenant", required=True)
    create_key.add_argument("--role", required=True, choices=ROLES)
    create_key.add_argument(
        "--entity",
        action="append",
        default=[],
        help="a supplier or recruiter id a submitter key may submit for (repeatable)",
    )
    create_key.add_argument("--label", default="")
    create_key.add_argument("--json", action="store_true", help="print JSON with the key id")
    create_key.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for a MongoDB server to answer (default: 5)",
    )
    upload = commands.add_parser(
        "upload",
        help="upload a file of disclosures and follow it",
        description="Send FILE (JSON Lines, one disclosure a line, or CSV with dotted column "
        "names) to POST /v1/disclosures:batch, show its progress until every line is judged, "
        "and print each rejected line. Exits 1 when any line was rejected. Sending the same "
        "file again is safe: it is the same batch.",
    )
    upload.add_argument("file", type=Path, metavar="FILE")
    upload.add_argument("--url", required=True, help="the api, e.g. http://127.0.0.1:8000")
    upload.add_argument("--key", required=True, help="a submitter API key")
    upload.add_argument("--format", choices=sorted(uploader.MEDIA), help="default: by extension")
    upload.add_argument("--idempotency-key", help="default: the file's content identifies it")
    upload.add_argument(
        "--poll", type=_positive_seconds, default=0.5, metavar="SECONDS", help="default: 0.5"
    )
    upload.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="how long one HTTP request may take (default: 30)",
    )
    retention.add_purge_command(commands, "api", purge_targets)
    evidence = commands.add_parser(
        "evidence",
        help="write an entity's evidence pack",
        description="Build an entity's evidence pack from the tenant's ledger in MongoDB "
        "(MONGODB_URI, MONGODB_DATABASE), as GET /v1/entities/{id}/evidence does, and write it "
        "to FILE (a zip; pack.json alone with --json). Prints the ledger's verdict; exits 1 when "
        "the chain is broken, 2 when nothing is recorded about the entity.",
    )
    evidence.add_argument("--tenant", required=True)
    evidence.add_argument("--entity", required=True, help="the supplier or recruiter id")
    evidence.add_argument(
        "--kind", choices=("supplier", "recruiter"), help="when the id names both"
    )
    evidence.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    evidence.add_argument("--json", action="store_true", help="write pack.json only")
    return parser.parse_args(argv)


async def _create_key(settings: ApiSettings, args: argparse.Namespace) -> str:
    client = make_client(settings, server_selection_timeout_ms=round(args.timeout * 1000))
    try:
        return await create_api_key(
            client[settings.mongodb_database], args.tenant, args.role, args.entity, args.label
        )
    finally:
        await client.close()


def _run_create_key(settings: ApiSettings, args: argparse.Namespace) -> None:
    where = redacted(settings.mongodb_uri)
    try:
        key = asyncio.run(_create_key(settings, args))
    except ValueError as error:
        sys.exit(f"laboursight-api create-key: {error}")
    except ConfigurationError as error:
        sys.exit(f"laboursight-api create-key: invalid MONGODB_URI {where}: {error}")
    except ConnectionFailure:
        sys.exit(
            f"laboursight-api create-key: cannot reach MongoDB at {where} "
            f"(no server answered within {args.timeout:g} s)"
        )
    except PyMongoError as error:
        sys.exit(f"laboursight-api create-key: MongoDB at {where} refused: {error}")
    if args.json:
        parsed = parse_key(key)
        assert parsed is not None
        key_id = parsed[0]
        print(
            json.dumps({"key": key, "key_id": key_id, "tenant_id": args.tenant, "role": args.role})
        )
    else:
        print(key)


def _run_upload(args: argparse.Namespace) -> None:
    send = uploader.http(args.url, args.key, args.timeout)
    try:
        status = uploader.upload(
            send,
            args.file,
            uploader.media_type(args.file, args.format),
            args.idempotency_key,
            args.poll,
        )
    except OSError as error:
        sys.exit(f"laboursight-api upload: cannot read {args.file}: {error.strerror}")
    except uploader.UploadFailed as error:
        sys.exit(f"laboursight-api upload: {error}")
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    if args.command == "upload":
        _run_upload(args)
    settings = ApiSettings()
    if args.command == "create-key":
        _run_create_key(settings, args)
        return
    if args.command == "evidence":
        sys.exit(evidence_command.run(settings, args))
    if args.command == "purge":
        retention.run_purge("laboursight-api", settings, purge_targets, args.dry_run)
        return
    logs.configure("api", settings.log_level)
    if settings.api_workers == 1:
        tracing.configure("api", settings)
        serve(create_app(settings), settings)
    else:
        serve(f"{__name__}:{worker_app.__name__}", settings, workers=settings.api_workers)


def worker_app() -> FastAPI:
    """The api of one worker process when API_WORKERS > 1 (``serve`` calls it in each)."""
    worker_process()
    settings = ApiSettings()
    logs.configure("api", settings.log_level)
    tracing.configure("api", settings)
    return create_app(settings)
