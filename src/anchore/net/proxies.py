"""The proxy a URL goes through, from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``.

urllib3 reads no environment, so the client asks here. The rules follow curl and Go
(the registry tools' behaviour users know): the upper-case name first, then the
lower-case one; a proxy without a scheme is ``http://``; ``NO_PROXY`` is a comma list
of ``*``, host names (also matching their subdomains, with or without a leading dot),
``host:port``, IP addresses and CIDR ranges. Loopback hosts are never proxied.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from anchore.net.addresses import host_key, is_loopback_host
from anchore.net.backoff import parse_decimal

__all__ = ["proxy_for"]

_VARIABLES = {"https": "HTTPS_PROXY", "http": "HTTP_PROXY"}


def _variable(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if value is None:
        value = environ.get(name.lower())
    return (value or "").strip()


def _bypassed(entry: str, host: str, port: int) -> bool:
    entry = entry.strip().lower()
    if not entry:
        return False
    if entry == "*":
        return True
    try:
        network = ipaddress.ip_network(host_key(entry), strict=False)
    except ValueError:
        network = None
    if network is not None:
        try:
            return ipaddress.ip_address(host) in network
        except ValueError:
            return False
    entry_port: int | None = None
    if entry.startswith("["):  # [v6]:port
        closing = entry.find("]")
        if entry[closing + 1 : closing + 2] == ":":
            entry_port = parse_decimal(entry[closing + 2 :])
        entry = entry[: closing + 1]
    elif entry.count(":") == 1:
        name, _, digits = entry.partition(":")
        entry_port = parse_decimal(digits)
        if entry_port is not None:
            entry = name
    if entry_port is not None and entry_port != port:
        return False
    domain = host_key(entry).lstrip("*").lstrip(".")
    return bool(domain) and (host == domain or host.endswith("." + domain))


def proxy_for(scheme: str, host: str, port: int, environ: Mapping[str, str]) -> str | None:
    """The proxy URL for ``scheme://host:port`` under ``environ``, or None to go direct."""
    variable = _VARIABLES.get(scheme)
    if variable is None:
        return None
    proxy = _variable(environ, variable)
    if not proxy:
        return None
    host = host_key(host)
    if is_loopback_host(host):
        return None
    no_proxy = _variable(environ, "NO_PROXY")
    if any(_bypassed(entry, host, port) for entry in no_proxy.replace(" ", ",").split(",")):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    return proxy
