"""MongoDB wiring: every service talks to the replica set with majority write concern."""

import re
from typing import Any

from pymongo import AsyncMongoClient

from .settings import Settings


def make_client(
    settings: Settings, *, server_selection_timeout_ms: int = 5_000, **options: Any
) -> AsyncMongoClient[dict[str, Any]]:
    """``server_selection_timeout_ms``: how long an operation waits for a usable server."""
    return AsyncMongoClient(
        settings.mongodb_uri,
        w="majority",
        tz_aware=True,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        **options,
    )


def redacted(uri: str) -> str:
    """The URI without its credentials, fit for an error message."""
    return re.sub(r"//[^@/]*@", "//", uri)
