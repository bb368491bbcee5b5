"""Which addresses a webhook may call: a public HTTPS URL, unless private ones are allowed.

A webhook makes Balto's servers send requests where a chain says, so a URL naming the servers'
own network (loopback, private ranges, link-local such as a cloud's metadata service) would let
a chain's gestor probe it. The URL is checked when the webhook is made (its form, an IP literal)
and again before every delivery (what its name resolves to then, `resolve`), and the delivery
connects to an address that check saw (`pinned`). ``BALTO_WEBHOOKS_ALLOW_PRIVATE`` lifts both
rules and allows plain HTTP: for a receiver on the same network, and for tests.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

import httpx
import trio

MAX_URL = 500


class AddressRefused(ValueError):
    """The URL may not be called; the message says why, in Portuguese."""


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # what the resolver also takes for an IPv4 address: "127.1", "2130706433", "0x7f.0.0.1"
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, allow_private: bool) -> httpx.URL:
    """The URL as the deliverer sends to it, when a webhook may call it.

    Raises:
        AddressRefused: Not an absolute http(s) URL, credentials in it, plain HTTP or a
            non-public address while private ones are not allowed.
    """
    if len(url) > MAX_URL:
        raise AddressRefused(f"a URL excede {MAX_URL} caracteres")
    try:
        parts = urlsplit(url)
        port = parts.port
        parsed = httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise AddressRefused("a URL não é válida") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("use uma URL completa, começando por https://")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("não coloque usuário e senha na URL: confira a assinatura")
    if parts.fragment:
        raise AddressRefused("a URL não pode ter fragmento (#)")
    if port == 0:
        raise AddressRefused("a porta da URL é inválida")
    if allow_private:
        return parsed
    if parts.scheme != "https":
        raise AddressRefused("use uma URL https://")
    literal = _literal(parts.hostname)
    named_local = parts.hostname == "localhost" or parts.hostname.endswith(".localhost")
    if named_local or (literal is not None and not public(literal)):
        raise AddressRefused("endereços da rede interna não são permitidos")
    return parsed


async def resolve(url: httpx.URL, allow_private: bool) -> list[str]:
    """The addresses a delivery may connect to, in the resolver's order, each checked now.

    The connection is then made to one of these (`pinned`), never to a second lookup of the
    name: a DNS server that answers a public address to the check and a private one a moment
    later (DNS rebinding) cannot point the request inside.

    Raises:
        AddressRefused: The name does not resolve, or resolves to a non-public address while
            private ones are not allowed.
    """
    host = url.raw_host.decode("ascii")
    literal = _literal(host)
    if literal is not None:
        if not allow_private and not public(literal):
            raise AddressRefused("endereços da rede interna não são permitidos")
        return [str(literal)]
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        found = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise AddressRefused("o nome do servidor não foi encontrado") from None
    addresses: list[str] = []
    for *_, sockaddr in found:
        # a scoped (link-local) IPv6 address cannot be named in a URL; it is never public
        address, _, scope = str(sockaddr[0]).partition("%")
        if not allow_private and not public(ipaddress.ip_address(address)):
            raise AddressRefused("o nome aponta para a rede interna; entrega recusada")
        if not scope and address not in addresses:
            addresses.append(address)
    if not addresses:
        raise AddressRefused("o nome do servidor não foi encontrado")
    return addresses


def via_proxy(url: httpx.URL) -> bool:
    """Whether the environment names a proxy for `url`'s scheme (``HTTPS_PROXY``, ``ALL_PROXY``).

    httpx then sends through it, the proxy resolving the name and connecting, so the request
    is not pinned (the proxy's own rules keep it off the internal network). ``NO_PROXY`` is not
    weighed: a receiver it exempts is sent to by name, as before pinning.
    """
    proxies = urllib.request.getproxies_environment()
    return url.scheme in proxies or "all" in proxies


def pinned(url: httpx.URL, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The request's URL that connects to `address`, its headers and its httpx extensions.

    The headers and extensions keep the request addressed to the URL's own host: ``Host``, and
    the TLS server name (SNI) the receiver's certificate is checked against.
    """
    headers = {"Host": url.netloc.decode("ascii")}
    if _literal(url.raw_host.decode("ascii")) is not None:
        return url, headers, {}
    return url.copy_with(host=address), headers, {"sni_hostname": url.raw_host.decode("ascii")}
