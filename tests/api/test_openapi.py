"""/openapi.json declares every status each route can answer, with the body it sends.

What a route can answer is read from the route itself (its dependencies and parameters), not
from the document, so a route that forgets to declare a status fails here.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from laboursight_api.app import create_app
from laboursight_api.auth import BEARER
from laboursight_api.content_type import json_body, upload_body
from laboursight_api.context import context
from laboursight_api.idempotency import HEADER
from laboursight_api.problems import PROBLEM_JSON
from laboursight_api.settings import ApiSettings

PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _app() -> FastAPI:
    # The document is built from the routes alone: nothing is connected.
    return create_app(ApiSettings())


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def _routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for found in iter_route_contexts(app.routes):
        route = found.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods or ()):
                yield method.lower(), route.path_format, route


def can_answer(route: APIRoute) -> set[int]:
    """The error statuses ``route`` can answer, from what it depends on."""
    tree = list(_dependants(route.dependant))
    calls = {dependant.call for dependant in tree}
    headers = {param.alias for dependant in tree for param in dependant.header_params}
    statuses = {413, 500}  # the body limit and the last-resort handler front every route
    if BEARER in calls:
        statuses |= {401, 403, 503}  # 503: MongoDB, which holds the keys, unreachable
    if context in calls:
        statuses.add(503)  # MongoDB unreachable (or, for /readyz, Kafka)
    if route.dependant.path_params:
        statuses.add(404)
    if route.dependant.query_params:
        statuses.add(422)
    if json_body in calls:
        statuses |= {400, 415, 422}
    if upload_body in calls:
        statuses |= {413, 415, 422}
    if HEADER in headers:
        statuses |= {400, 409, 422}
    return statuses


def _operations() -> list[Any]:
    return [pytest.param(*found, id=f"{found[0]} {found[1]}") for found in _routes(_app())]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return _app().openapi()


def test_every_route_is_in_the_document(document: dict[str, Any]) -> None:
    declared = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert declared == {(method, path) for method, path, _ in _routes(_app())}


@pytest.mark.parametrize(("method", "path", "route"), _operations())
def test_every_status_a_route_can_answer_is_declared(
    document: dict[str, Any], method: str, path: str, route: APIRoute
) -> None:
    declared = {int(status) for status in document["paths"][path][method]["responses"]}
    assert can_answer(route) <= declared


@pytest.mark.parametrize(("method", "path", "route"), _operations())
def test_a_post_body_must_be_declared_json_or_an_upload(
    method: str, path: str, route: APIRoute
) -> None:
    if method == "post":
        assert {json_body, upload_body} & {d.call for d in _dependants(route.dependant)}


def _responses(document: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                yield f"{method.upper()} {path}", int(status), response


def test_every_error_is_a_problem_document(document: dict[str, Any]) -> None:
    for operation, status, response in _responses(document):
        if status < 400 or (operation == "GET /readyz" and status == 503):
            continue
        assert response["content"] == PROBLEM, (operation, status)
        if status == 503:
            assert "Retry-After" in response["headers"], operation
        if status == 401:
            assert "WWW-Authenticate" in response["headers"], operation


def test_success_bodies_have_their_schema(document: dict[str, Any]) -> None:
    for operation, status, response in _responses(document):
        if 200 <= status < 300 and status != 204:
            assert response["content"]["application/json"]["schema"], (operation, status)
    readiness = document["paths"]["/readyz"]["get"]["responses"]["503"]
    assert readiness["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }


def test_fastapis_own_validation_body_is_gone(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert "HTTPValidationError" not in str(document["paths"])
    assert {"Problem", "FieldError"} <= set(schemas)
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "code"}
