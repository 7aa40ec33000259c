"""MongoDB wiring: every service talks to the replica set with majority write concern."""

from typing import Any

from pymongo import AsyncMongoClient

from .settings import Settings


def make_client(settings: Settings, **options: Any) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(
        settings.mongodb_uri,
        w="majority",
        tz_aware=True,
        serverSelectionTimeoutMS=5_000,
        **options,
    )
