"""The api's settings for a test, on the session's servers, with a database and dead-letter
group of its own; and that database, dropped when the test is done."""

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

from pymongo.asynchronous.database import AsyncDatabase

from laboursight_api.settings import ApiSettings
from laboursight_runtime.mongo import make_client
from tests.infra import Infra

# The api's background work, each run when a test says so (its ``run_once``) and never behind
# its back.
QUIET: Final[Mapping[str, float]] = {
    "api_relay_interval_s": 3600,
    "api_sweep_interval_s": 3600,
    "api_case_relay_interval_s": 3600,
    "api_case_overdue_interval_s": 3600,
}


def api_settings(infra: Infra, prefix: str, **overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {name.lower(): value for name, value in infra.environment().items()}
    unique = f"{prefix}-{uuid.uuid4().hex[:12]}"
    return ApiSettings(
        **{**values, "mongodb_database": unique, "api_dead_letter_group": unique, **overrides}
    )


@asynccontextmanager
async def own_database(settings: ApiSettings) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client = make_client(settings)
    try:
        yield client[settings.mongodb_database]
    finally:
        await client.drop_database(settings.mongodb_database)
        await client.close()
