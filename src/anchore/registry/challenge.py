"""``WWW-Authenticate`` challenges (RFC 7235): the scheme and its auth-params.

One header may hold several challenges (``Basic realm="r", Bearer realm="t"``) and a
quoted value may hold commas (``scope="repository:a:pull,push"``), so the header is
scanned, not split on commas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

__all__ = ["Challenge", "parse_challenges"]

#: RFC 7230 ``tchar``: what a token (a scheme or a parameter name) is made of
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: RFC 7235 ``token68`` (``Negotiate abc==``): the whole challenge after the scheme
_TOKEN68_RE = re.compile(r"([A-Za-z0-9\-._~+/]+=*)[ \t]*(?=,|$)")


@attrs.frozen
class Challenge:
    """One challenge: ``scheme`` lowercased (``bearer``, ``basic``), parameter names
    lowercased, values unquoted."""

    scheme: str
    params: Mapping[str, str] = attrs.field(factory=dict)
    #: the token68 form (``Negotiate abc==``), when the challenge has one instead of params
    token68: str | None = None


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.peek() and self.peek() in " \t":
            self.pos += 1

    def skip_separators(self) -> None:
        while self.peek() and self.peek() in " \t,":
            self.pos += 1

    def token(self) -> str:
        start = self.pos
        while self.peek() and self.peek() in _TCHAR:
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str | None:
        """A quoted-string after its opening quote; None when it never closes."""
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
            elif ch == '"':
                return "".join(out)
            else:
                out.append(ch)
        return None


def _params(scan: _Scanner) -> tuple[dict[str, str], str | None] | None:
    """The auth-params (or token68) after a scheme; None when malformed. Stops before
    the next challenge's scheme."""
    params: dict[str, str] = {}
    scan.skip_space()
    token68 = _TOKEN68_RE.match(scan.text, scan.pos)
    if token68:
        scan.pos = token68.end()
        return params, token68.group(1)
    while True:
        scan.skip_separators()
        if not scan.peek():
            return params, None
        start = scan.pos
        name = scan.token()
        scan.skip_space()
        if not name or scan.peek() != "=":
            # the next challenge's scheme (or garbage, which the caller sees)
            scan.pos = start
            return params, None
        scan.pos += 1
        scan.skip_space()
        if scan.peek() == '"':
            scan.pos += 1
            value = scan.quoted()
            if value is None:
                return None
        else:
            value = scan.token()
            if not value:
                return None
        params[name.lower()] = value
        scan.skip_space()
        if scan.peek() not in ("", ","):
            return None


def parse_challenges(values: Iterable[str]) -> list[Challenge] | None:
    """Every challenge in the ``WWW-Authenticate`` header values; None when one is
    malformed (an unclosed quote, a parameter without a value)."""
    found: list[Challenge] = []
    for value in values:
        scan = _Scanner(value)
        while True:
            scan.skip_separators()
            if not scan.peek():
                break
            scheme = scan.token()
            if not scheme:
                return None
            parsed = _params(scan)
            if parsed is None:
                return None
            params, token68 = parsed
            found.append(Challenge(scheme.lower(), params, token68))
    return found
