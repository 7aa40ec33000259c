"""A POST body must be declared as what its route reads: JSON (``application/json`` or
``application/*+json``), or for an upload of many disclosures JSON Lines or CSV; 415 otherwise,
so a form or a CSV upload is never read as if it were a disclosure."""

from fastapi import Request

from .batch_upload import Format
from .errors import ApiError


def is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def json_body(request: Request) -> None:
    declared = request.headers.get("content-type", "")
    if not is_json(declared):
        sent = f"Content-Type {declared!r}" if declared else "no Content-Type"
        raise ApiError(
            415,
            "unsupported_media_type",
            f"the body must be sent as application/json; this request has {sent}",
        )


JSON_LINES = ("application/x-ndjson", "application/jsonl")
CSV = "text/csv"


async def upload_body(request: Request) -> Format:
    """The upload's format, from its declared media type; 415 for any other."""
    declared = request.headers.get("content-type", "")
    media = declared.partition(";")[0].strip().lower()
    if media in JSON_LINES:
        return "jsonl"
    if media == CSV:
        return "csv"
    sent = f"Content-Type {declared!r}" if declared else "no Content-Type"
    raise ApiError(
        415,
        "unsupported_media_type",
        f"an upload must be sent as {', '.join(JSON_LINES)} (one disclosure a line) or {CSV}; "
        f"this request has {sent}",
    )
