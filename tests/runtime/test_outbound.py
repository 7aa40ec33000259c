"""The outbound policy: which webhook targets may be sent to, judged by their resolved addresses."""

from ipaddress import ip_network

import pytest

from laboursight_runtime import outbound
from laboursight_runtime.outbound import OutboundPolicy
from laboursight_runtime.settings import Settings

STRICT = OutboundPolicy()
LOOPBACK = OutboundPolicy(allow_loopback=True)
OFFICE = OutboundPolicy(allowed_networks=(ip_network("10.1.0.0/16"), ip_network("fd12::/48")))

URL = "https://hooks.example.com/alerts"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "resolves to 127.0.0.1, a loopback address"),
        ("127.45.0.9", "resolves to 127.45.0.9, a loopback address"),
        ("::1", "resolves to ::1, a loopback address"),
        ("0.0.0.0", "resolves to 0.0.0.0, the unspecified address"),
        ("::", "resolves to ::, the unspecified address"),
        ("169.254.169.254", "resolves to 169.254.169.254, a cloud metadata address"),
        ("169.254.170.2", "resolves to 169.254.170.2, a cloud metadata address"),
        ("100.100.100.200", "resolves to 100.100.100.200, a cloud metadata address"),
        ("fd00:ec2::254", "resolves to fd00:ec2::254, a cloud metadata address"),
        ("169.254.1.1", "resolves to 169.254.1.1, a link-local address"),
        ("fe80::1", "resolves to fe80::1, a link-local address"),
        ("10.0.0.5", "resolves to 10.0.0.5, a private address"),
        ("172.16.3.4", "resolves to 172.16.3.4, a private address"),
        ("172.31.255.255", "resolves to 172.31.255.255, a private address"),
        ("192.168.1.1", "resolves to 192.168.1.1, a private address"),
        ("fc00::1", "resolves to fc00::1, a private address"),
        ("fdab:1::1", "resolves to fdab:1::1, a private address"),
        ("100.64.0.1", "resolves to 100.64.0.1, a carrier-grade NAT address"),
        ("100.127.255.254", "resolves to 100.127.255.254, a carrier-grade NAT address"),
        ("224.0.0.1", "resolves to 224.0.0.1, a multicast address"),
        ("ff02::1", "resolves to ff02::1, a multicast address"),
        ("240.0.0.1", "resolves to 240.0.0.1, a reserved address"),
        ("192.0.2.10", "resolves to 192.0.2.10, a private address"),
        (
            "::ffff:127.0.0.1",
            "resolves to ::ffff:127.0.0.1, which carries 127.0.0.1, a loopback address",
        ),
        (
            "::ffff:169.254.169.254",
            "resolves to ::ffff:169.254.169.254, which carries 169.254.169.254, a cloud metadata address",
        ),
        (
            "::ffff:10.1.2.3",
            "resolves to ::ffff:10.1.2.3, which carries 10.1.2.3, a private address",
        ),
        (
            "64:ff9b::a9fe:a9fe",
            "resolves to 64:ff9b::a9fe:a9fe, which carries 169.254.169.254, "
            "a cloud metadata address",
        ),
        (
            "2002:c0a8:101::1",
            "resolves to 2002:c0a8:101::1, which carries 192.168.1.1, a private address",
        ),
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    assert outbound.refusal(URL, [address], STRICT) == reason


@pytest.mark.parametrize(
    "addresses",
    [["93.184.215.14"], ["8.8.8.8", "1.1.1.1"], ["2606:4700::1111"], ["::ffff:8.8.8.8"]],
)
def test_public_addresses_are_allowed(addresses: list[str]) -> None:
    assert outbound.refusal(URL, addresses, STRICT) is None


def test_one_refused_address_among_public_ones_refuses_the_host() -> None:
    reason = outbound.refusal(URL, ["93.184.215.14", "10.0.0.1", "8.8.8.8"], STRICT)

    assert reason == "resolves to 10.0.0.1, a private address"


def test_a_host_with_no_address_is_refused() -> None:
    assert outbound.refusal(URL, [], STRICT) == "resolves to no address"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "has the scheme 'ftp'; only http and https are allowed"),
        ("file:///etc/passwd", "has the scheme 'file'; only http and https are allowed"),
        ("gopher://example.com", "has the scheme 'gopher'; only http and https are allowed"),
        ("//example.com/x", "has the scheme 'none'; only http and https are allowed"),
        ("http:///x", "has no host"),
        ("http://example.com:99999/", "is not a valid URL: Port out of range 0-65535"),
    ],
)
def test_only_http_and_https_urls_with_a_host(url: str, reason: str) -> None:
    assert outbound.refusal(url, ["93.184.215.14"], STRICT) == reason


@pytest.mark.parametrize(
    ("policy", "address", "allowed"),
    [
        (LOOPBACK, "127.0.0.1", True),
        (LOOPBACK, "127.8.9.10", True),
        (LOOPBACK, "::1", True),
        (LOOPBACK, "::ffff:127.0.0.1", True),
        (LOOPBACK, "10.0.0.1", False),
        (LOOPBACK, "169.254.1.1", False),
        (LOOPBACK, "0.0.0.0", False),
        (OFFICE, "10.1.200.3", True),
        (OFFICE, "::ffff:10.1.200.3", True),
        (OFFICE, "fd12::9", True),
        (OFFICE, "10.2.0.1", False),
        (OFFICE, "127.0.0.1", False),
        (OutboundPolicy(allowed_networks=(ip_network("169.254.0.0/16"),)), "169.254.1.1", True),
        # Never a metadata address, whatever the allow-list.
        (
            OutboundPolicy(allowed_networks=(ip_network("169.254.0.0/16"),)),
            "169.254.169.254",
            False,
        ),
        (OutboundPolicy(allowed_networks=(ip_network("100.64.0.0/10"),)), "100.100.100.200", False),
    ],
)
def test_the_allow_list(policy: OutboundPolicy, address: str, allowed: bool) -> None:
    assert (outbound.refusal(URL, [address], policy) is None) is allowed


@pytest.mark.parametrize(
    ("url", "literal"),
    [
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://[::1]:8080/x", "::1"),
        ("http://[::FFFF:127.0.0.1]/", "::ffff:7f00:1"),
        ("https://hooks.example.com/", None),
        ("http:///x", None),
    ],
)
def test_a_literal_address_is_the_host(url: str, literal: str | None) -> None:
    assert outbound.literal_address(url) == literal


class Resolutions:
    """A hand-written resolver: a table of names, each with its addresses."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        if host not in self.table:
            raise outbound.Unresolvable(f"has the host {host}, which does not resolve (test)")
        return self.table[host]


async def test_check_resolves_names_and_judges_literals_as_they_are() -> None:
    names = Resolutions({"hooks.example.com": ["93.184.215.14"], "rebound.example": ["10.0.0.1"]})

    assert await outbound.check("https://hooks.example.com/a", STRICT, names) is None
    assert await outbound.check("http://rebound.example:8080/", STRICT, names) == (
        "resolves to 10.0.0.1, a private address"
    )
    assert await outbound.check("http://nowhere.example/", STRICT, names) == (
        "has the host nowhere.example, which does not resolve (test)"
    )
    assert await outbound.check("http://169.254.169.254/", STRICT, names) == (
        "resolves to 169.254.169.254, a cloud metadata address"
    )
    assert await outbound.check("ftp://hooks.example.com/", STRICT, names) == (
        "has the scheme 'ftp'; only http and https are allowed"
    )
    assert names.asked == [
        ("hooks.example.com", 443),
        ("rebound.example", 8080),
        ("nowhere.example", 80),
    ]


async def test_the_real_resolver_gives_every_address_once() -> None:
    # localhost is in every /etc/hosts; whatever else it maps to, it is loopback.
    addresses = await outbound.resolve("localhost", 80)

    assert addresses
    assert len(set(addresses)) == len(addresses)
    assert outbound.address_refusal(addresses, LOOPBACK) is None
    assert outbound.address_refusal(addresses, STRICT) is not None


async def test_the_real_resolver_says_which_host_does_not_resolve() -> None:
    with pytest.raises(outbound.Unresolvable, match=r"has the host nowhere\.invalid, which"):
        await outbound.resolve("nowhere.invalid", 80)


@pytest.mark.parametrize(
    ("environment", "policy"),
    [
        ({}, STRICT),
        ({"OUTBOUND_ALLOW_LOOPBACK": "true"}, LOOPBACK),
        ({"OUTBOUND_ALLOWED_NETWORKS": "10.1.0.0/16, fd12::/48"}, OFFICE),
        ({"OUTBOUND_ALLOWED_NETWORKS": ""}, STRICT),
    ],
)
def test_the_policy_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], policy: OutboundPolicy
) -> None:
    for name in ("OUTBOUND_ALLOW_LOOPBACK", "OUTBOUND_ALLOWED_NETWORKS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert Settings().outbound_policy() == policy


def test_a_network_with_host_bits_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTBOUND_ALLOWED_NETWORKS", "10.1.2.3/16")

    with pytest.raises(ValueError, match="outbound_allowed_networks"):
        Settings()
