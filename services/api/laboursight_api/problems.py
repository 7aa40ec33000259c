"""The one error body of the api: problem details (RFC 9457) with a machine ``code``."""

from typing import Any, Final

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

PROBLEM_JSON: Final = "application/problem+json"
TYPE_PREFIX: Final = "urn:laboursight:problem:"


def _no_default(schema: dict[str, Any]) -> None:
    # The member is left out when there is nothing to say; it is never sent as null.
    schema.pop("default", None)


class FieldError(BaseModel):
    field: str = Field(
        description="A JSON path into the body (`$.working_time.avg_weekly_hours`), or "
        "`query:<name>` / `header:<name>` for a parameter"
    )
    message: str


class Problem(BaseModel):
    type: str = Field(
        description=f"`{TYPE_PREFIX}<code>`: one per kind of problem",
        json_schema_extra={"format": "uri-reference"},
    )
    title: str = Field(description="A short summary of the kind of problem; the same every time")
    status: int = Field(ge=400, le=599, description="The HTTP status of this answer")
    detail: str = Field(description="What went wrong this time, for a person")
    code: str = Field(
        description="A stable machine name, e.g. `validation_failed`, `not_found`, "
        "`invalid_json`, `unavailable`"
    )
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None,
        description="Each offending field, with 400 and 422 answers about fields",
        json_schema_extra=_no_default,
    )
