"""Dashboard sessions: an API key exchanged for a signed cookie.

A session token is ``<key id>.<expiry>.<nonce>.<mac>``: the MAC is an HMAC-SHA256, under the
server's session secret, of the first three parts and the stored digest of the key's secret. So
a token cannot be made or altered without the secret, and it holds only while the key it was
made from is unchanged: every request reads the key (through the api's ``KeyCache``), and a key
revoked, expired or rotated ends its sessions (within the cache's ``API_KEY_CACHE_S`` on other
api processes, at once on this one). The key itself is never kept in the cookie. Signing out
clears the cookie; a copy of it taken before works until its expiry or the key's revocation.
"""

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from laboursight_api.keys import KeyCache, Principal, is_active, principal_of

COOKIE: Final = "laboursight_session"
PATH: Final = "/dashboard"
_TOKEN: Final = re.compile(r"(?P<key_id>[0-9a-f]{12})\.(?P<expires>[0-9]{1,12})\.[A-Za-z0-9_-]{22}")


@dataclass(frozen=True)
class Session:
    principal: Principal
    token: str


class Sessions:
    """Makes and checks session tokens with one secret; ``clock`` gives Unix seconds."""

    def __init__(
        self, secret: bytes, lifetime_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret
        self._lifetime_s = lifetime_s
        self._clock = clock

    @property
    def lifetime_s(self) -> int:
        return int(self._lifetime_s)

    def issue(self, key: Mapping[str, Any]) -> str:
        """A new session of the stored key ``key`` (already verified by the caller)."""
        expires = int(self._clock() + self._lifetime_s)
        body = f"{key['_id']}.{expires}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._mac(body, key)}"

    async def resume(self, keys: KeyCache, token: str | None) -> Session | None:
        """The session ``token`` names while it is sound, unexpired and its key unchanged."""
        if token is None:
            return None
        body, _, mac = token.rpartition(".")
        match = _TOKEN.fullmatch(body)
        if match is None or int(match["expires"]) <= self._clock():
            return None
        key = keys.kept(match["key_id"])
        if key is None or not self._holds(body, mac, key):
            # Not kept, or kept from before a rotation this process has not seen.
            key = await keys.load(match["key_id"])
        if key is None or not self._holds(body, mac, key) or not is_active(key):
            return None
        principal = principal_of(key)
        keys.used(principal)
        return Session(principal, token)

    def derived(self, purpose: str, value: str) -> str:
        """A value bound to ``value`` for ``purpose`` that only the secret's holder can make
        (the CSRF tokens)."""
        digest = hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _holds(self, body: str, mac: str, key: Mapping[str, Any]) -> bool:
        return hmac.compare_digest(mac, self._mac(body, key))

    def _mac(self, body: str, key: Mapping[str, Any]) -> str:
        return self.derived("session", f"{body}.{key['secret_sha256']}")


def secret_of(configured: str | None) -> bytes:
    """The configured session secret, or a random one for this process."""
    return configured.encode() if configured else secrets.token_bytes(32)
