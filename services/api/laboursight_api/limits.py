"""Refuse a body above the limit before anything parses it: by its declared Content-Length at
once, and, when it streams without one (or lies), as soon as the bytes read exceed the limit.
An upload route may have a larger limit of its own (``per_path``: path → limit and the setting
that holds it, which the error names)."""

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import http_error


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        per_path: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        self.app = app
        self.default = (max_body_bytes, "API_MAX_BODY_BYTES")
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.per_path.get(scope["path"], self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = http_error(413, _message(f"{declared} bytes", limit, setting)).response()
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                # Raised inside the route that reads the body, where the error handlers answer.
                raise HTTPException(413, _message(f"more than {limit} bytes", limit, setting))
            return message

        await self.app(scope, counting_receive, send)


def _message(size: str, limit: int, setting: str) -> str:
    return f"the body is {size}; the limit is {limit} bytes ({setting})"
