"""Alpine versions, ordered as apk-tools 2 orders them (what Alpine images ship).

A version is digits separated by dots, an optional letter, suffixes
(``_alpha`` ``_beta`` ``_pre`` ``_rc`` before the release; ``_cvs`` ``_svn``
``_git`` ``_hg`` ``_p`` after it) each with an optional number, and ``-rN``.
This is a token-by-token port of apk-tools 2's ``apk_version_compare``, with C's
``isdigit``/``islower`` (ASCII only) and each digit run converted once.
"""

from __future__ import annotations

from anchore.versions.errors import bad, bounded

__all__ = ["compare", "validate"]

INVALID, DIGIT_OR_ZERO, DIGIT, LETTER, SUFFIX, SUFFIX_NO, REVISION_NO, END = range(-1, 7)
_PRE = ("alpha", "beta", "pre", "rc")
_POST = ("cvs", "svn", "git", "hg", "p")
_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


class _Cursor:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def left(self) -> int:
        return len(self.s) - self.i


def _next_token(kind: int, c: _Cursor) -> int:
    n = INVALID
    if c.left() <= 0 or c.s[c.i] == "\0":
        n = END
    elif kind in (DIGIT, DIGIT_OR_ZERO) and c.s[c.i] in _LOWER:
        n = LETTER
    elif kind == LETTER and c.s[c.i] in _DIGITS:
        n = DIGIT
    elif kind == SUFFIX and c.s[c.i] in _DIGITS:
        n = SUFFIX_NO
    else:
        ch = c.s[c.i]
        if ch == ".":
            n = DIGIT_OR_ZERO
        elif ch == "_":
            n = SUFFIX
        elif ch == "-":
            if c.left() > 1 and c.s[c.i + 1] == "r":
                n = REVISION_NO
                c.i += 1
            else:
                n = INVALID
        c.i += 1
    if n < kind and not (
        (n == DIGIT_OR_ZERO and kind == DIGIT)
        or (n == SUFFIX and kind == SUFFIX_NO)
        or (n == DIGIT and kind == LETTER)
    ):
        n = INVALID
    return n


def _get_token(kind: int, c: _Cursor) -> tuple[int, int]:
    """(value, next kind)."""
    if c.left() <= 0:
        return 0, END
    v = 0
    i = 0
    s, start = c.s, c.i
    nt = INVALID
    if kind == DIGIT_OR_ZERO and s[start] == "0":
        while i < c.left() and s[start + i] == "0":  # leading zeros sort before digits
            i += 1
        nt = DIGIT
        v = -i
    elif kind in (DIGIT_OR_ZERO, DIGIT, SUFFIX_NO, REVISION_NO):
        while i < c.left() and s[start + i] in _DIGITS:
            i += 1
        v = int(s[start : start + i]) if i else 0
    elif kind == LETTER:
        v = ord(s[start])
        i = 1
    elif kind == SUFFIX:
        for n, name in enumerate(_PRE):
            if s.startswith(name, start):
                v, i = n - len(_PRE), len(name)
                break
        else:
            for n, name in enumerate(_POST):
                if s.startswith(name, start):
                    v, i = n, len(name)
                    break
            else:
                return 0, INVALID
    else:
        return 0, INVALID
    c.i += i
    if c.left() <= 0:
        return v, END
    if nt != INVALID:
        return v, nt
    return v, _next_token(kind, c)


def validate(version: str) -> None:
    """A :class:`VersionError` unless ``version`` is an apk version."""
    bounded("apk", version)
    kind = DIGIT
    c = _Cursor(version)
    while kind not in (END, INVALID):
        _, kind = _get_token(kind, c)
    if kind == INVALID or not version:
        raise bad("apk", version, "not an apk version")


def compare(a: str, b: str) -> int:
    validate(a)
    validate(b)
    at = bt = DIGIT
    av = bv = 0
    ca, cb = _Cursor(a), _Cursor(b)
    while at == bt and at not in (END, INVALID) and av == bv:
        av, at = _get_token(at, ca)
        bv, bt = _get_token(bt, cb)
    if av < bv:
        return -1
    if av > bv:
        return 1
    if at == bt:
        return 0
    # equal so far: the longer one is greater, unless what follows is a pre-release suffix
    if at == SUFFIX and _get_token(at, _Cursor(ca.s[ca.i :]))[0] < 0:
        return -1
    if bt == SUFFIX and _get_token(bt, _Cursor(cb.s[cb.i :]))[0] < 0:
        return 1
    if at > bt:
        return -1
    if bt > at:
        return 1
    return 0
