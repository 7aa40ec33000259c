"""``laboursight-api create-key``: the key it prints authenticates as what was asked, and a
tenant's first admin key made so manages its other keys through the api."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from laboursight_api.cli import main
from laboursight_api.keys import KeyCache, Principal, authenticate
from laboursight_api.settings import ApiSettings
from laboursight_runtime.mongo import make_client
from tests.api.conftest import TENANT

pytestmark = pytest.mark.integration


@pytest.fixture
def environment(settings: ApiSettings) -> Iterator[dict[str, str]]:
    variables = {"MONGODB_URI": settings.mongodb_uri, "MONGODB_DATABASE": settings.mongodb_database}
    yield {**os.environ, **variables}
    client: MongoClient[dict[str, Any]] = MongoClient(settings.mongodb_uri)
    with client:
        client.drop_database(settings.mongodb_database)


def _authenticate(settings: ApiSettings, key: str) -> Principal | None:
    async def lookup() -> Principal | None:
        client = make_client(settings)
        try:
            return await authenticate(KeyCache(client[settings.mongodb_database], 0), key)
        finally:
            await client.close()

    return asyncio.run(lookup())


def test_the_console_script_prints_a_working_key(
    settings: ApiSettings, environment: dict[str, str]
) -> None:
    script = Path(sys.executable).parent / "laboursight-api"
    done = subprocess.run(
        [str(script), "create-key", "--tenant", "t-1", "--role", "submitter",
         "--entity", "SUP-1", "--entity", "REC-1", "--label", "ci", "--json"],
        env=environment, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    printed: dict[str, Any] = json.loads(done.stdout)

    principal = _authenticate(settings, printed["key"])
    assert principal == Principal(
        printed["key_id"], "t-1", "submitter", frozenset({"SUP-1", "REC-1"})
    )


def test_plain_output_is_the_key_alone(
    settings: ApiSettings,
    environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("MONGODB_URI", "MONGODB_DATABASE"):
        monkeypatch.setenv(name, environment[name])
    main(["create-key", "--tenant", "t-1", "--role", "analyst"])
    key = capsys.readouterr().out.strip()

    principal = _authenticate(settings, key)
    assert principal is not None
    assert principal.role == "analyst"


def test_a_submitter_without_entities_is_refused(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MONGODB_URI", "MONGODB_DATABASE"):
        monkeypatch.setenv(name, environment[name])
    with pytest.raises(SystemExit, match="submitter key needs"):
        main(["create-key", "--tenant", "t-1", "--role", "submitter"])


async def test_the_first_admin_key_manages_the_tenants_keys(
    api: httpx.AsyncClient, environment: dict[str, str]
) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "laboursight-api"), "create-key", "--tenant",
         TENANT, "--role", "admin", "--json"],
        env=environment, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    printed: dict[str, Any] = json.loads(done.stdout)
    admin = {"Authorization": f"Bearer {printed['key']}"}

    created = await api.post("/v1/keys", json={"role": "analyst"}, headers=admin)
    listed = (await api.get("/v1/keys", headers=admin)).json()["items"]

    assert created.status_code == 201, created.text
    assert {(k["key_id"], k["role"], k["created_by"]) for k in listed} == {
        (printed["key_id"], "admin", None),
        (created.json()["key_id"], "analyst", printed["key_id"]),
    }
