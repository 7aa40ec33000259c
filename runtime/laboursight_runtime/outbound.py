"""Where the system may send a request a tenant asked for (webhooks), so a tenant cannot aim it
at the servers' own network or at a cloud metadata service (server-side request forgery).

A target is allowed when its scheme is http or https and every address its host resolves to is a
public one. Loopback, link-local, private, unique-local, carrier-grade NAT, unspecified,
multicast, reserved and otherwise non-global addresses are refused, as are those same addresses
inside IPv6 (IPv4-mapped, NAT64, 6to4), unless the policy allows them: ``allow_loopback`` for
loopback, ``allowed_networks`` for any network named. Cloud metadata addresses are refused
whatever the policy says. ``refusal`` is the pure decision; ``resolve`` the resolution it judges.
"""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Final
from urllib.parse import urlsplit

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

SCHEMES: Final = frozenset({"http", "https"})
DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# AWS, GCP, Azure, OpenStack and Oracle (169.254.169.254), AWS ECS tasks (169.254.170.2),
# Alibaba (100.100.100.200) and AWS over IPv6 (fd00:ec2::254).
METADATA: Final = frozenset(
    ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
CARRIER_GRADE_NAT: Final = IPv4Network("100.64.0.0/10")
NAT64: Final = IPv6Network("64:ff9b::/96")
RESOLVE_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class OutboundPolicy:
    """What is allowed besides public addresses; the default allows nothing more."""

    allow_loopback: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    def permits(self, address: IPAddress) -> bool:
        if self.allow_loopback and address.is_loopback:
            return True
        return any(
            address.version == net.version and address in net for net in self.allowed_networks
        )


class Unresolvable(Exception):
    """The host has no address, or none in time; the message names the host, worded as
    ``url_refusal``'s are ("has the host …, which does not resolve").
    """


def url_refusal(url: str) -> str | None:
    """Why ``url`` cannot be a target whatever its host resolves to, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — a port out of range or not a number raises here
    except ValueError as error:
        return f"is not a valid URL: {error}"
    if parts.scheme.lower() not in SCHEMES:
        return f"has the scheme {parts.scheme or 'none'!r}; only http and https are allowed"
    if not parts.hostname:
        return "has no host"
    return None


def literal_address(url: str) -> str | None:
    """The URL's host when it is an IP address, which is sent to without being resolved."""
    try:
        host = urlsplit(url).hostname
        return None if host is None else str(ip_address(host))
    except ValueError:  # not a URL (``url_refusal`` says why), or a name
        return None


def address_refusal(addresses: Iterable[str], policy: OutboundPolicy) -> str | None:
    """Why a host that resolves to ``addresses`` is refused, naming the first refused one, or
    None. No address at all is a refusal: there is nothing to judge.
    """
    seen = False
    for text in addresses:
        seen = True
        address = ip_address(text)
        kind = _refused_kind(address, policy)
        if kind is not None:
            return f"resolves to {text}, {kind}"
    return None if seen else "resolves to no address"


def refusal(url: str, addresses: Iterable[str], policy: OutboundPolicy) -> str | None:
    """Why ``url``, whose host resolves to ``addresses``, may not be sent to, or None."""
    return url_refusal(url) or address_refusal(addresses, policy)


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), in the resolver's order, once each.

    Raises Unresolvable when it has none, or none within ``RESOLVE_TIMEOUT_S``.
    """
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as error:
        raise Unresolvable(
            f"has the host {host}, which did not resolve within {RESOLVE_TIMEOUT_S:g} s"
        ) from error
    except (OSError, UnicodeError) as error:
        raise Unresolvable(f"has the host {host}, which does not resolve ({error})") from error
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


async def check(url: str, policy: OutboundPolicy, resolver: Resolver = resolve) -> str | None:
    """Why ``url`` may not be sent to now, by the addresses ``resolver`` gives its host, or None.

    The answer holds for this resolution only: a sender checks again when it connects.
    """
    reason = url_refusal(url)
    if reason is not None:
        return reason
    literal = literal_address(url)
    if literal is not None:
        return address_refusal([literal], policy)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = await resolver(host, parts.port or DEFAULT_PORTS[parts.scheme.lower()])
    except Unresolvable as error:
        return str(error)
    return address_refusal(addresses, policy)


def _refused_kind(address: IPAddress, policy: OutboundPolicy) -> str | None:
    if address in METADATA:
        return "a cloud metadata address"
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = _refused_kind(embedded, policy)
        return None if inner is None else f"which carries {embedded}, {inner}"
    if policy.permits(address):
        return None
    return _kind(address)


def _kind(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, IPv4Address) and address in CARRIER_GRADE_NAT:
        return "a carrier-grade NAT address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: IPv4-mapped, NAT64 (well-known prefix) or 6to4."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour
