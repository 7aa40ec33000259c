"""The sender's outbound policy on real loopback servers: a refused target never gets a request."""

import socket

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from laboursight_notify.webhooks import PolicyResolver, Refused, SignedWebhookSender
from laboursight_runtime.outbound import OutboundPolicy

from .fakes import subscription
from .test_webhooks import serving, status

STRICT = OutboundPolicy()
LOOPBACK = OutboundPolicy(allow_loopback=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_loopback_is_refused_and_nothing_is_sent(host: str) -> None:
    async with serving(status(204)) as (server, http), SignedWebhookSender() as sender:
        url = f"http://{host}:{http.port}/hook"
        attempt = await sender.send(subscription(url=url), "evt-1:sub-1", "{}")

    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("refused: ")
    assert "a loopback address" in attempt.error
    assert (attempt.refused, attempt.retryable) == (True, False)
    assert server.seen == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_loopback_is_sent_to_when_allowed(host: str) -> None:
    async with (
        serving(status(204)) as (server, http),
        SignedWebhookSender(policy=LOOPBACK) as sender,
    ):
        url = f"http://{host}:{http.port}/hook"
        attempt = await sender.send(subscription(url=url), "evt-1:sub-1", "{}")

    assert attempt.succeeded
    assert [seen.path for seen in server.seen] == ["/hook"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "http://169.254.169.254/latest/meta-data",
            "refused: http://169.254.169.254/latest/meta-data resolves to 169.254.169.254, "
            "a cloud metadata address",
        ),
        (
            "http://10.0.0.1:8080/hook",
            "refused: http://10.0.0.1:8080/hook resolves to 10.0.0.1, a private address",
        ),
    ],
)
async def test_a_refused_address_fails_before_connecting(url: str, reason: str) -> None:
    # Neither address answers here: an attempt to connect would end in a connect error instead.
    async with SignedWebhookSender(policy=LOOPBACK) as sender:
        attempt = await sender.send(subscription(url=url), "evt-1:sub-1", "{}")

    assert attempt == type(attempt)(error=reason, refused=True)
    assert not attempt.retryable


class Answers(AbstractResolver):
    """A hand-written resolver giving each name the next address of its list: a rebinding DNS."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.answers[host].pop(0)
        return [
            ResolveResult(
                hostname=host, host=address, port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        pass


async def test_a_name_that_rebinds_to_loopback_is_refused_when_resolved_again() -> None:
    resolver = PolicyResolver(STRICT, Answers({"hooks.example": ["93.184.215.14", "127.0.0.1"]}))

    first = await resolver.resolve("hooks.example", 443)
    with pytest.raises(
        Refused, match=r"hooks\.example resolves to 127\.0\.0\.1, a loopback address"
    ):
        await resolver.resolve("hooks.example", 443)

    assert [result["host"] for result in first] == ["93.184.215.14"]


@pytest.mark.parametrize(("policy", "reached"), [(STRICT, False), (LOOPBACK, True)])
async def test_the_connection_goes_where_the_policy_looked(
    policy: OutboundPolicy, reached: bool
) -> None:
    """A public-looking name resolving to loopback: the check and the connect share the answer."""
    async with serving(status(204)) as (server, http):
        resolver = PolicyResolver(policy, Answers({"hooks.example": ["127.0.0.1"]}))
        connector = aiohttp.TCPConnector(resolver=resolver)
        async with aiohttp.ClientSession(connector=connector) as session:
            try:
                async with session.post(f"http://hooks.example:{http.port}/hook") as answer:
                    outcome: object = answer.status
            except aiohttp.ClientConnectorError as error:
                outcome = error.os_error

    assert (outcome == 204) is reached
    assert isinstance(outcome, Refused) is not reached
    assert len(server.seen) == int(reached)
