"""What ``/openapi.json`` says beyond what FastAPI infers: every problem answer a route can
give, as ``application/problem+json``, and the disclosure body the route parses itself."""

from collections.abc import Mapping
from typing import Any, Final

from .problems import PROBLEM_JSON, Problem
from .validation import DISCLOSURE

REF_TEMPLATE: Final = "#/components/schemas/{model}"
PROBLEM_REF: Final = REF_TEMPLATE.format(model="Problem")
# FastAPI's own 422 body (loc/msg/type), which this api never sends.
FASTAPI_VALIDATION: Final = REF_TEMPLATE.format(model="HTTPValidationError")

Responses = dict[int | str, dict[str, Any]]


def problem(description: str, headers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if headers:
        response["headers"] = dict(headers)
    return response


RETRY_AFTER: Final = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 1},
    }
}
WWW_AUTHENTICATE: Final = {
    "WWW-Authenticate": {"description": "The Bearer scheme", "schema": {"type": "string"}}
}

# Whatever reads MongoDB answers 503 while it is unreachable.
DATABASE: Final[Responses] = {
    503: problem("MongoDB is unreachable; retry after Retry-After seconds", RETRY_AFTER)
}
AUTHENTICATED: Final[Responses] = {
    401: problem("No API key, or an invalid one", WWW_AUTHENTICATE),
    403: problem("This key's role may not do this"),
    429: problem("Past the key's or its tenant's rate limit; `Retry-After` says when to retry"),
    **DATABASE,
}
JSON_BODY: Final[Responses] = {
    400: problem("The body is not JSON"),
    415: problem("The body is not declared as JSON (Content-Type: application/json)"),
    422: problem("Invalid fields; `errors` names each by its JSON path"),
}
# The body limit and the last-resort handler stand in front of every route.
EVERY_ROUTE: Final[Responses] = {
    413: problem("The body is above the limit"),
    500: problem("An unexpected error"),
}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` as FastAPI made it, with the schemas and answers it cannot know."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    disclosure = DISCLOSURE.json_schema(ref_template=REF_TEMPLATE)
    problems = Problem.model_json_schema(ref_template=REF_TEMPLATE)
    schemas.update(disclosure.pop("$defs"), Disclosure=disclosure)
    schemas.update(problems.pop("$defs"), Problem=problems)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path in document["paths"].values():
        for operation in path.values():
            responses = operation["responses"]
            if _schema_ref(responses.get("422")) == FASTAPI_VALIDATION:
                del responses["422"]
            for status, response in EVERY_ROUTE.items():
                responses.setdefault(str(status), response)
    return document


def _schema_ref(response: dict[str, Any] | None) -> str | None:
    if response is None:
        return None
    ref: str | None = (
        response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    )
    return ref
