"""Debian versions: ``[epoch:]upstream[-revision]``, as ``dpkg --compare-versions`` orders them."""

from __future__ import annotations

import re

from anchore.versions.errors import bad, parser

__all__ = ["compare", "parse"]

_UPSTREAM = re.compile(r"^[0-9A-Za-z.+~:-]*$")


@parser("dpkg")
def parse(version: str) -> tuple[int, str, str]:
    """(epoch, upstream, revision); dpkg's rules, errors where dpkg errors."""
    text = version.strip()
    if not text:
        raise bad("dpkg", version, "empty")
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not (head.isascii() and head.isdigit()):  # '²'.isdigit(), but int('²') fails
            raise bad("dpkg", version, "epoch is not a number")
        epoch = int(head)
    upstream, sep, revision = text.rpartition("-")
    if not sep:
        upstream, revision = text, ""
    if not upstream:
        raise bad("dpkg", version, "nothing before the revision")
    if not upstream[0].isdigit():
        raise bad("dpkg", version, "upstream version must start with a digit")
    if not _UPSTREAM.match(upstream) or not re.match(r"^[0-9A-Za-z.+~]*$", revision):
        raise bad("dpkg", version, "invalid character")
    return epoch, upstream, revision


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return -1 if first_diff < 0 else 1
    return 0


def compare(a: str, b: str) -> int:
    ea, ua, ra = parse(a)
    eb, ub, rb = parse(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)
