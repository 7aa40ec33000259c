"""Every failure answers one problem details body (see ``problems``), whoever raised it."""

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException

from laboursight_runtime.failures import is_transient

from .problems import PROBLEM_JSON, TYPE_PREFIX, FieldError, Problem
from .validation import request_field_errors

log = logging.getLogger(__name__)


class ApiError(Exception):
    """``title`` defaults to the status phrase; a code of its own may say more."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem = Problem(
            type=TYPE_PREFIX + code,
            title=title or HTTPStatus(status).phrase,
            status=status,
            detail=detail,
            code=code,
            errors=None if errors is None else [FieldError(**error) for error in errors],
        )
        self.headers = headers

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.problem.model_dump(mode="json", exclude_none=True),
            status_code=self.problem.status,
            headers=self.headers,
            media_type=PROBLEM_JSON,
        )


def http_error(status: int, detail: str, headers: Mapping[str, str] | None = None) -> ApiError:
    """An error named after its status, e.g. 404 → ``not_found``."""
    code = HTTPStatus(status).phrase.lower().replace(" ", "_")
    return ApiError(status, code, detail, headers=headers)


def unavailable(detail: str, retry_after_s: int) -> ApiError:
    return ApiError(503, "unavailable", detail, headers={"Retry-After": str(retry_after_s)})


def invalid_fields(errors: list[dict[str, str]]) -> ApiError:
    return ApiError(
        422,
        "validation_failed",
        "the request has invalid fields",
        title="Invalid fields",
        errors=errors,
    )


def invalid_json(problem: str) -> ApiError:
    return ApiError(
        400,
        "invalid_json",
        f"the body is not valid JSON: {problem}",
        title="Not JSON",
        errors=[{"field": "$", "message": problem}],
    )


def install(app: FastAPI, retry_after_s: int) -> None:
    async def on_api_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error.response()

    async def on_invalid_request(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = error.errors()
        for problem in errors:
            if problem["type"] == "json_invalid":
                return invalid_json(
                    str(problem.get("ctx", {}).get("error", problem["msg"]))
                ).response()
        return invalid_fields(request_field_errors(errors)).response()

    async def on_http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        return http_error(error.status_code, str(error.detail), error.headers).response()

    async def on_database_error(_: Request, error: Exception) -> JSONResponse:
        if is_transient(error):
            log.warning("database unreachable", extra={"error": repr(error)})
            return unavailable("the database is unreachable; retry later", retry_after_s).response()
        return await on_bug(_, error)

    async def on_bug(_: Request, error: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=error)
        return ApiError(500, "internal_error", "an unexpected error occurred").response()

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(PyMongoError, on_database_error)
    app.add_exception_handler(Exception, on_bug)
