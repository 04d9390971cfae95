"""RPM versions: ``[epoch:]version[-release]``, as rpm's ``rpmvercmp``/``labelCompare`` order them.

A missing epoch counts as 0 (rpm's own rule, and what advisories that omit it mean).
"""

from __future__ import annotations

import re

from anchore.versions.errors import bad, parser

__all__ = ["compare", "evr", "parse", "rpmvercmp"]

_EPOCH = re.compile(r"^([0-9]+):")  # ASCII digits, as rpm's risdigit


def evr(epoch: int | str | None, version: str, release: str | None = None) -> str:
    """``[epoch:]version[-release]``, as rpm prints a package's version: no epoch when it
    is absent or 0 (``None``, ``""``, ``0``, ``"0"``), no release when there is none.

    The one spelling the rpm analyzer and the per-layer package changes share, so the
    two always name a package's version alike."""
    full = f"{version}-{release}" if release else version
    return full if epoch in (None, "", 0, "0") else f"{epoch}:{full}"


@parser("rpm")
def parse(version: str) -> tuple[int, str, str | None]:
    """(epoch, version, release) as rpm's parseEVR splits them.

    An epoch is leading digits followed by ``:`` (``a:1`` has none: its version
    is ``a:1``); a missing epoch is 0, the convention of dnf and of advisories.
    The release follows the last ``-``; without one it is None, which sorts
    before any release, as rpm's ``labelCompare`` has it.
    """
    if not version:
        raise bad("rpm", version, "empty")
    epoch_match = _EPOCH.match(version)
    epoch = int(epoch_match.group(1)) if epoch_match else 0
    rest = version[epoch_match.end() :] if epoch_match else version
    ver, sep, release = rest.rpartition("-")
    if not sep:
        return epoch, rest, None
    return epoch, ver, release


def _isalnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def rpmvercmp(a: str, b: str) -> int:
    """rpm's segment comparison, ``~`` and ``^`` included (rpm 4.15+)."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not _isalnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < len(b) and not _isalnum(b[j]) and b[j] not in "~^":
            j += 1
        ca = a[i] if i < len(a) else ""
        cb = b[j] if j < len(b) else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        si, sj = i, j
        if ca.isdigit():
            while i < len(a) and a[i].isdigit():
                i += 1
            while j < len(b) and b[j].isdigit():
                j += 1
            isnum = True
        else:
            while i < len(a) and a[i].isascii() and a[i].isalpha():
                i += 1
            while j < len(b) and b[j].isascii() and b[j].isalpha():
                j += 1
            isnum = False
        sa, sb = a[si:i], b[sj:j]
        if not sb:
            return 1 if isnum else -1
        if isnum:
            sa, sb = sa.lstrip("0"), sb.lstrip("0")
            if len(sa) != len(sb):
                return 1 if len(sa) > len(sb) else -1
        if sa != sb:
            return 1 if sa > sb else -1
    ra = a[i:] if i < len(a) else ""
    rb = b[j:] if j < len(b) else ""
    if not ra and not rb:
        return 0
    return -1 if not ra else 1


def compare(a: str, b: str) -> int:
    """labelCompare: epoch, then version, then release (when both have one)."""
    ea, va, ra = parse(a)
    eb, vb, rb = parse(b)
    if ea != eb:
        return -1 if ea < eb else 1
    result = rpmvercmp(va, vb)
    if result:
        return result
    if ra is None or rb is None:  # labelCompare: a missing release sorts first
        return 0 if ra is rb else (-1 if ra is None else 1)
    return rpmvercmp(ra, rb)
