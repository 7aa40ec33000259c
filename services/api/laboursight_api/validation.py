"""Request bodies to models, and pydantic's error locations to JSON paths a submitter can read."""

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final, get_args

from pydantic import TypeAdapter, ValidationError

from laboursight_schemas.disclosure import Disclosure, EntityKind

DISCLOSURE: Final = TypeAdapter[Disclosure](Disclosure)
DISCLOSURE_KINDS: Final = frozenset(get_args(EntityKind))

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TAG_ERRORS: Final = frozenset({"union_tag_not_found", "union_tag_invalid"})
_KIND_MESSAGE: Final = "kind must be one of: " + ", ".join(sorted(DISCLOSURE_KINDS))


class InvalidJson(ValueError):
    pass


class InvalidBody(ValueError):
    def __init__(self, errors: list[dict[str, str]], kind: str = "unknown") -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors
        self.kind = kind


def json_path(loc: Iterable[int | str]) -> str:
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _NAME.fullmatch(part):
            path += f".{part}"
        else:
            path += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def field_errors(
    errors: Iterable[Mapping[str, Any]], *, tags: Collection[str] = ()
) -> list[dict[str, str]]:
    """One ``{field, message}`` per error; ``tags`` are a tagged union's values to drop from locs.

    Pydantic puts the union member's tag first in the location of every error inside it
    (``('supplier', 'working_time', ...)``); the submitter's document has no such level.
    """
    result = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] in _TAG_ERRORS:
            result.append({"field": "$.kind", "message": _KIND_MESSAGE})
            continue
        if loc and loc[0] in tags:
            loc = loc[1:]
        message = error["msg"].removeprefix("Value error, ")
        result.append({"field": json_path(loc), "message": message})
    return result


def parse_disclosure(body: bytes, *, strict: bool = True) -> Disclosure:
    """The disclosure in ``body``; raises InvalidJson or InvalidBody, nothing else.

    Strict by default: a submitter's JSON carries each field's own type (``1`` is no ``true``,
    ``"48"`` no number), as the JSON Schema says; a reader of a recorded event stays lax, so
    what was accepted before stays readable."""
    try:
        return DISCLOSURE.validate_json(body, strict=strict)
    except ValidationError as error:
        details = error.errors(include_url=False, include_input=False)
        if any(detail["type"] == "json_invalid" for detail in details):
            problem = details[0]
            raise InvalidJson(str(problem.get("ctx", {}).get("error", problem["msg"]))) from None
        kinds = {str(d["loc"][0]) for d in details if d["loc"] and d["loc"][0] in DISCLOSURE_KINDS}
        raise InvalidBody(
            field_errors(details, tags=DISCLOSURE_KINDS), kinds.pop() if kinds else "unknown"
        ) from None


def request_field_errors(errors: Iterable[Any]) -> list[dict[str, str]]:
    """FastAPI's request errors: body locations become JSON paths, others keep their source."""
    result = []
    for error in errors:
        source, *rest = error["loc"]
        if source == "body":
            result.extend(field_errors([{**error, "loc": tuple(rest)}]))
        else:
            name = ".".join(str(part) for part in rest)
            result.append({"field": f"{source}:{name}", "message": error["msg"]})
    return result
