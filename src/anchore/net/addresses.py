"""Which hosts a URL may reach: loopback for plain HTTP, public for what servers hand us.

Kept apart from the client so the registry's token-realm check and the client's
redirect check use one definition of "loopback" and "public".
"""

from __future__ import annotations

import ipaddress
import socket

__all__ = ["host_key", "is_loopback_host", "is_public_address"]


def host_key(host: str) -> str:
    """``host`` as compared: lower-cased, without IPv6 brackets or a trailing dot."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host_key(host).split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1, judged by the name alone (no DNS): where plain
    HTTP cannot be read or changed on the way."""
    key = host_key(host)
    if key == "localhost":
        return True
    address = _ip(key)
    return address is not None and address.is_loopback


def _is_public_ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def is_public_address(host: str) -> bool:
    """Whether ``host`` (a name is resolved) is a public address: not loopback, link-local
    (169.254/16, fe80::/10: cloud metadata), private (10/8, 172.16/12, 192.168/16, fc00::/7),
    unspecified, multicast or reserved. Every address a name resolves to must be public.

    A name that does not resolve is not public (fail closed); an IP literal is judged
    without DNS."""
    address = _ip(host)
    if address is not None:
        return _is_public_ip(address)
    key = host_key(host)
    if not key or key == "localhost" or key.endswith(".localhost"):
        return False
    try:
        infos = socket.getaddrinfo(key, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    found = [_ip(str(info[4][0])) for info in infos]
    return bool(found) and all(a is not None and _is_public_ip(a) for a in found)
