"""A delivery connects to the address its check saw, over TLS checked against the URL's name.

The server runs in this test's Trio run, so a resolver set here with Trio's own hook answers its
lookups: names under ``.test`` (which no real DNS answers) resolve as each test says, one way to
the check and another a moment later, as a DNS server rebinding a name would. The receivers are
real HTTPS servers on loopback with certificates from a test CA the server is told to trust
(``SSL_CERT_FILE``, which httpx reads when the deliverer makes its client).
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trustme

from balto.webhooks.address import pinned, via_proxy
from balto.webhooks.deliverer import BAD_CERTIFICATE, CONNECT_FAILED
from tests.admin_seed import seed
from tests.conftest import ADMIN, start_server
from tests.webhook_api import PRIVATE, log_until, make_hook
from tests.webhook_receiver import receiver

PUBLIC = "1.1.1.1"  # a public address: the check lets it through (nothing here reaches it)


class Rebinding(trio.abc.HostnameResolver):
    """Answers each name in `answers` with its next list of addresses (the last one repeats);
    any other name as the system does."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.asked: Counter[str] = Counter()

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        if name in self.answers:
            self.asked[name] += 1
            rounds = self.answers[name]
            addresses = rounds[min(self.asked[name], len(rounds)) - 1]
            number = int(port or 0)
            return [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, number))
                for a in addresses
            ]
        return await trio.to_thread.run_sync(
            socket.getaddrinfo, host, port, family, type, proto, flags
        )

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        return await trio.to_thread.run_sync(socket.getnameinfo, sockaddr, flags)


@contextmanager
def resolving(answers: dict[str, list[list[str]]]) -> Iterator[Rebinding]:
    """Trio's lookups answered by a `Rebinding` for the block."""
    resolver = Rebinding(answers)
    before = trio.socket.set_custom_hostname_resolver(resolver)
    try:
        yield resolver
    finally:
        trio.socket.set_custom_hostname_resolver(before)


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A test CA the server's deliverer trusts (and nothing else)."""
    authority = trustme.CA()
    pem = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    return authority


async def test_a_name_rebound_inside_after_the_check_is_not_followed(
    nursery: trio.Nursery, database_url: str, ca: trustme.CA
) -> None:
    # the name answers a public address to the delivery's check and this machine afterwards:
    # a sender that looked the name up again to connect would deliver to the receiver here
    with (
        receiver(ca, "rebind.test") as inside,
        resolving({"rebind.test": [[PUBLIC], ["127.0.0.1"]]}) as dns,
    ):
        running = await start_server(
            nursery, database_url, BALTO_WEBHOOK_RETRY_S="60", BALTO_WEBHOOK_TIMEOUT_S="3"
        )
        ids = seed(database_url)
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            hook = await make_hook(http, ids["c1"], inside.url)
            sent = await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
            assert sent.status_code == 202, sent.text
            [entry] = await log_until(
                http, hook["id"], lambda log: log[0]["ultimo_erro"] or log[0]["entregue_em"]
            )
        assert entry["ultimo_erro"] in (CONNECT_FAILED, "sem resposta no tempo limite")
        assert entry["entregue_em"] is None
        assert inside.arrived == 0
        assert dns.asked["rebind.test"] == 1  # looked up once, for the check, and connected there


async def test_tls_is_checked_against_the_urls_name_at_the_address_it_resolved_to(
    nursery: trio.Nursery, database_url: str, ca: trustme.CA
) -> None:
    answers = {
        # the check's answer is loopback (allowed here); later lookups point at nothing
        "hook.test": [["127.0.0.1"], ["127.0.0.2"]],
        # the first address refuses the connection: the next one the check saw is tried
        "two.test": [["127.0.0.3", "127.0.0.1"]],
        "wrong.test": [["127.0.0.1"]],
    }
    other_ca = trustme.CA()  # a certificate the server does not trust
    with (
        receiver(ca, "hook.test") as hook_test,
        receiver(ca, "two.test") as two_test,
        receiver(other_ca, "wrong.test") as untrusted,
        receiver(ca, "outro.test") as misnamed,
        resolving(answers) as dns,
    ):
        running = await start_server(nursery, database_url, BALTO_WEBHOOK_RETRY_S="60", **PRIVATE)
        ids = seed(database_url)
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            good = await make_hook(http, ids["c1"], hook_test.url)
            second = await make_hook(http, ids["c1"], two_test.url)
            bad = await make_hook(http, ids["c1"], untrusted.url)
            # outro.test's certificate served under the name wrong.test resolves to: misnamed
            port = misnamed.url.split(":")[2].split("/")[0]
            named_wrong = await make_hook(http, ids["c1"], f"https://wrong.test:{port}/balto")
            for hook in (good, second, bad, named_wrong):
                sent = await http.post(f"/admin/webhooks/{hook['id']}/teste", headers=ADMIN)
                assert sent.status_code == 202, sent.text
            [arrived] = await hook_test.wait_for(1)
            [also] = await two_test.wait_for(1)
            for hook in (bad, named_wrong):
                [entry] = await log_until(http, hook["id"], lambda log: log[0]["ultimo_erro"])
                assert entry["ultimo_erro"] == BAD_CERTIFICATE, entry
        assert arrived.headers["Host"] == hook_test.url.split("/")[2]
        assert also.headers["Host"] == two_test.url.split("/")[2]
        assert arrived.json()["evento"] == "teste"
        assert dns.asked["hook.test"] == 1 and dns.asked["two.test"] == 1
        assert untrusted.received == [] and misnamed.received == []


def test_the_pinned_request_names_the_urls_host_in_ascii_and_brackets_ipv6() -> None:
    url = httpx.URL("https://Farmácia.example:8443/ganchos?x=1")
    target, headers, extensions = pinned(url, "2001:4860::8888")
    assert str(target) == "https://[2001:4860::8888]:8443/ganchos?x=1"
    assert headers == {"Host": "xn--farmcia-kwa.example:8443"}
    assert extensions == {"sni_hostname": "xn--farmcia-kwa.example"}
    literal = httpx.URL("https://203.0.114.7/x")
    assert pinned(literal, "203.0.114.7") == (literal, {"Host": "203.0.114.7"}, {})


def test_a_request_through_a_proxy_is_not_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    # the proxy resolves and connects: an address in the URL would break its TLS check
    url = httpx.URL("https://hook.example/x")
    for scheme in ("https", "all", "http"):
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)
    assert not via_proxy(url)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.local:3128")
    assert not via_proxy(url)  # for http:// only
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.local:3128")
    assert via_proxy(url)
