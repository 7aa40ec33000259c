"""``laboursight-api``: serve the api (the default), or create an API key."""

import argparse
import asyncio
import json
import sys

from laboursight_runtime import logs
from laboursight_runtime.mongo import make_client
from laboursight_runtime.service import serve

from .app import create_app
from .keys import ROLES, create_api_key, parse_key
from .settings import ApiSettings


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="laboursight-api", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP api (the default)")
    create_key = commands.add_parser("create-key", help="create an API key and print it")
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
    return parser.parse_args(argv)


async def _create_key(settings: ApiSettings, args: argparse.Namespace) -> str:
    client = make_client(settings)
    try:
        return await create_api_key(
            client[settings.mongodb_database], args.tenant, args.role, args.entity, args.label
        )
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    settings = ApiSettings()
    if args.command == "create-key":
        try:
            key = asyncio.run(_create_key(settings, args))
        except ValueError as error:
            sys.exit(f"laboursight-api create-key: {error}")
        if args.json:
            parsed = parse_key(key)
            assert parsed is not None
            print(
                json.dumps(
                    {"key": key, "key_id": parsed[0], "tenant_id": args.tenant, "role": args.role}
                )
            )
        else:
            print(key)
        return
    logs.configure("api", settings.log_level)
    serve(create_app(settings), settings)
