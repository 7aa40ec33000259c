"""``laboursight-api``: serve the api (the default), or create an API key."""

import argparse
import asyncio
import json
import math
import re
import sys
from collections.abc import Sequence

from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from laboursight_runtime import logs
from laboursight_runtime.mongo import make_client
from laboursight_runtime.service import serve

from .app import create_app
from .keys import ROLES, create_api_key, parse_key
from .settings import ApiSettings

DESCRIPTION = """\
Serve the laboursight HTTP api (the default, or `serve`), or create an API key (`create-key`).

Configured by the environment (see the README): KAFKA_BOOTSTRAP_SERVERS, \
KAFKA_IDEMPOTENT_PRODUCER, MONGODB_URI, MONGODB_DATABASE, HTTP_HOST, HTTP_PORT, LOG_LEVEL and \
the API_* limits. `create-key` needs MongoDB only.
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
        "and print it; this is the only time the key is shown.",
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
    return parser.parse_args(argv)


def _redacted(uri: str) -> str:
    """The URI without its credentials, fit for an error message."""
    return re.sub(r"//[^@/]*@", "//", uri)


async def _create_key(settings: ApiSettings, args: argparse.Namespace) -> str:
    client = make_client(settings, server_selection_timeout_ms=round(args.timeout * 1000))
    try:
        return await create_api_key(
            client[settings.mongodb_database], args.tenant, args.role, args.entity, args.label
        )
    finally:
        await client.close()


def _run_create_key(settings: ApiSettings, args: argparse.Namespace) -> None:
    where = _redacted(settings.mongodb_uri)
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


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    settings = ApiSettings()
    if args.command == "create-key":
        _run_create_key(settings, args)
        return
    logs.configure("api", settings.log_level)
    serve(create_app(settings), settings)
