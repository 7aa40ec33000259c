"""``Authorization: Bearer <key>``: who is calling, and whether their role may do this."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .context import Context, context
from .errors import ApiError
from .keys import Principal, Role, authenticate

_bearer = HTTPBearer(auto_error=False, description="An API key: `ls_<key id>.<secret>`")


async def principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ctx: Annotated[Context, Depends(context)],
) -> Principal:
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "send an API key: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = await authenticate(ctx.keys, credentials.credentials)
    if found is None:
        raise ApiError(
            401,
            "unauthorized",
            "the API key is invalid",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return found


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if caller.role not in roles:
            raise ApiError(
                403,
                "forbidden",
                f"this needs a key with role {' or '.join(roles)}; this key's role is {caller.role}",
            )
        return caller

    return check
