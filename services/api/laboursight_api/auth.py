"""``Authorization: Bearer <key>``: who is calling, and whether their role may do this."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .context import context
from .errors import ApiError
from .keys import Principal, Role, authenticate

BEARER = HTTPBearer(auto_error=False, description="An API key: `ls_<key id>.<secret>`")
"""The security scheme: a route that depends on it answers 401 and 403, 429 past the caller's
rate limit (``rate_limits``), and 503 when MongoDB (where the keys are) is unreachable."""

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def require(
    *roles: Role,
) -> Callable[[Request, HTTPAuthorizationCredentials | None], Awaitable[Principal]]:
    """The caller, when their key is active and has one of ``roles``: those of the route's
    operation in ``rights.RIGHTS``, the access policy."""

    # One dependency for both checks: FastAPI's cost is per dependency, on every request.
    async def principal(request: Request, credentials: Credentials) -> Principal:
        if credentials is None:
            raise ApiError(
                401,
                "unauthorized",
                "send an API key: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        ctx = await context(request)
        caller = await authenticate(ctx.keys, credentials.credentials)
        if caller is None:
            raise ApiError(
                401,
                "unauthorized",
                "the API key is unknown, revoked or expired",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if caller.role not in roles:
            raise ApiError(
                403,
                "forbidden",
                f"this needs a key with role {' or '.join(roles)}; this key's role is {caller.role}",
            )
        wait = ctx.limits.retry_after(caller)
        if wait is not None:
            raise ApiError(
                429,
                "too_many_requests",
                f"this key or its tenant sent more requests than its limit; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        return caller

    return principal
