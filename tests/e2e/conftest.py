"""One running system for every end-to-end test: four service processes on real servers.

Package-scoped, so the services (and their consumer groups) are gone before other packages'
integration tests run their own consumers in the same groups.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from laboursight_runtime.local.receiver import WebhookReceiver
from laboursight_runtime.local.stack import Stack
from tests.e2e.system import SUBMITTER_ENTITIES, TENANT, System


@pytest.fixture(scope="package")
def system(infra: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    receiver = WebhookReceiver()
    receiver.start()
    logs = tmp_path_factory.mktemp("services")
    with Stack(infra.environment(), Path(logs)) as stack:
        yield System(stack, receiver)
        pids = stack.pids()
    receiver.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.fixture(scope="package")
def keys(system: System) -> dict[str, str]:
    stack = system.stack
    made = {
        "submitter": stack.create_key(TENANT, "submitter", list(SUBMITTER_ENTITIES)),
        "analyst": stack.create_key(TENANT, "analyst"),
        "other_analyst": stack.create_key("tenant-other", "analyst"),
    }
    with system.client(made["analyst"]) as analyst:
        response = analyst.post(
            "/v1/subscriptions", json={"url": system.receiver.url, "min_risk_level": "high"}
        )
    assert response.status_code == 201, response.text
    system.receiver.secret = response.json()["secret"]
    return made
