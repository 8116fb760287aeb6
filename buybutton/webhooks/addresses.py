"""Where a merchant webhook may be sent: the SSRF checks.

Targets on loopback, private or link-local addresses, including IPv6 forms that embed such an
IPv4 address (:func:`embedded_ipv4`), are refused at creation (:func:`check_target`) and again at
each delivery (DNS can change), unless ``BUYBUTTON_WEBHOOK_ALLOW_PRIVATE=1``. A delivery resolves
the host once (:func:`resolve_host`), checks every answer (:func:`check_public_addresses`) and
connects to the checked address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from ..errors import AddressNotAllowed

#: Maps ``(host, port)`` to the host's IP addresses; injectable so tests resolve what they like.
Resolver = Callable[[str, int], Sequence[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every IP address ``host`` resolves to (``socket.getaddrinfo``); ``OSError`` if none."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# IPv6 prefixes that carry an IPv4 address in their last 32 bits, and reach it: the kernel
# (IPv4-mapped, handled by ``ipv4_mapped``), a translator (SIIT, NAT64) or a tunnel
# (IPv4-compatible). 6to4 and Teredo embed theirs elsewhere (``sixtofour``, ``teredo``).
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291, deprecated: ::a.b.c.d
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 SIIT: ::ffff:0:a.b.c.d
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: 64:ff9b::a.b.c.d
# RFC 8215 local-use NAT64: the operator chooses where the IPv4 address sits, so no embedded
# address can be read off it; it is never a public target.
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped, IPv4-compatible, IPv4-translated,
    6to4 (``2002::/16``), NAT64 (``64:ff9b::/96``) and Teredo (``2001::/32``: the server and the
    client, whose address is stored XOR 0xffffffff). Empty for a plain IPv6 address."""
    found = []
    last32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _IPV4_COMPATIBLE or ip in _IPV4_TRANSLATED or ip in _NAT64_WELL_KNOWN:
        found.append(last32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def _is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


def address_problem(address: str) -> str | None:
    """Why ``address`` (an IP literal, optionally with a ``%zone``) is not a public unicast
    target, or ``None`` if it is. An IPv6 address that embeds an IPv4 one is judged by what it
    embeds (every one of them), since that is where the packets end up."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:
            return f"{address} is a local-use NAT64 address"
        inner = embedded_ipv4(ip)
        if inner:
            private = [str(v4) for v4 in inner if not _is_public_ip(v4)]
            return f"{address} embeds {', '.join(private)}" if private else None
    return None if _is_public_ip(ip) else address


def check_public_addresses(host: str, addresses: Iterable[str]) -> None:
    """Raise :class:`AddressNotAllowed` unless every address is a public unicast one: a single
    private answer is enough to refuse, as the connection could use any of them."""
    for address in addresses:
        problem = address_problem(address)
        if problem is not None:
            raise AddressNotAllowed(
                f"The webhook URL's host {host!r} is a loopback, private or link-local address "
                f"({problem}); set BUYBUTTON_WEBHOOK_ALLOW_PRIVATE=1 to allow it.",
                param="url",
            )


def _literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_target(url: str, *, allow_private: bool, resolver: Resolver) -> None:
    """Refuse a URL whose host is private now. A name that does not resolve yet is accepted:
    every delivery checks again, and fails (then retries) while it does not resolve."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        check_public_addresses(host, ["127.0.0.1"])
    if _literal_ip(host):
        check_public_addresses(host, [host])
        return
    try:
        addresses = resolver(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        return
    check_public_addresses(host, addresses)
