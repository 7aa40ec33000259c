"""CSRF tokens: every form carries one, and a POST without the right one is refused.

Signed in, a form's token is derived from the session token (``Sessions.derived``), so it is
the same on every page of a session and useless in any other. Before sign-in there is no
session: the sign-in page sets a random value in a cookie of its own and the form carries the
token derived from it (a signed double-submit cookie). Both cookies are SameSite=Strict, so a
cross-site form post carries neither.
"""

import hmac
import secrets
from typing import Final

from .session import Sessions

FIELD: Final = "csrf_token"
SIGN_IN_COOKIE: Final = "laboursight_signin"


def session_token(sessions: Sessions, session: str) -> str:
    return sessions.derived("csrf", session)


def sign_in_nonce() -> str:
    return secrets.token_urlsafe(16)


def sign_in_token(sessions: Sessions, nonce: str) -> str:
    return sessions.derived("csrf-sign-in", nonce)


def matches(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
