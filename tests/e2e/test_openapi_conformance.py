"""Schemathesis against the running api over HTTP: whatever it sends, every answer has a status,
a content type and a body that /openapi.json declares for that operation, and none is a 5xx."""

import copy
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from laboursight_api.app import create_app
from laboursight_api.settings import ApiSettings
from tests.e2e.system import System
from tests.factories import CLEAN_SUPPLIER

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Fuzzed examples per operation, on top of the examples and coverage phases: about 1,400
# cases, 12 s on this machine.
FUZZED_EXAMPLES = 25
SUPPLIER_ID = CLEAN_SUPPLIER["supplier"]["supplier_id"]


@pytest.fixture(scope="module")
def conformance_keys(system: System) -> dict[str, str]:
    # Each in a tenant of its own: the subscriptions schemathesis creates point at made-up
    # URLs, so no disclosure may ever raise an alert in the analyst's tenant for notify to send.
    return {
        "submitter": system.stack.create_key("conformance-submitter", "submitter", [SUPPLIER_ID]),
        "analyst": system.stack.create_key("conformance-analyst", "analyst"),
    }


# The cases are generated from the api's own document built in-process at collection, since
# the servers start later, in fixtures (schemathesis.pytest.from_fixture, which would load it
# from them, fails on pytest 9.2: it sets Node._nodeid); ``served`` holds the running api to
# serve this same document.
DOCUMENT = create_app(ApiSettings()).openapi()


def _with_a_disclosure_to_accept(document: dict[str, Any]) -> dict[str, Any]:
    # Generated disclosures name suppliers no key is bound to (403); this example is the
    # submitter's own, so the 202 answer is checked too.
    copied = copy.deepcopy(document)
    body = copied["paths"]["/v1/disclosures"]["post"]["requestBody"]["content"]
    body["application/json"]["example"] = CLEAN_SUPPLIER
    return copied


schema = schemathesis.openapi.from_dict(
    _with_a_disclosure_to_accept(DOCUMENT),
    config=SchemathesisConfig.from_dict({"seed": 20261115}),
)


@pytest.fixture(scope="module")
def served(system: System) -> System:
    with httpx.Client(base_url=system.api) as client:
        assert client.get("/openapi.json").json() == DOCUMENT
    return system


@schema.parametrize()
@settings(max_examples=FUZZED_EXAMPLES, deadline=None)
def test_every_answer_is_as_declared(
    case: Case[Any], served: System, conformance_keys: dict[str, str]
) -> None:
    # The same request from each role: what one may do, the other is refused.
    for key in conformance_keys.values():
        case.call_and_validate(
            base_url=served.api, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS
        )
