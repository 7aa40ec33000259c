"""A POST body must be declared JSON (``application/json`` or ``application/*+json``): 415
otherwise, so a form or a CSV upload is never read as if it were a disclosure."""

from fastapi import Request

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
