"""RubyGems versions, ordered as ``Gem::Version#<=>`` orders them."""

from __future__ import annotations

import re

from anchore.versions.errors import bad, parser

__all__ = ["compare", "segments"]

_VALID = re.compile(r"^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$")


@parser("gem")
def segments(version: str) -> tuple[int | str, ...]:
    """Canonical segments: numbers and strings, trailing zeros of each group dropped."""
    text = version.strip()
    if not text:
        text = "0"
    if not _VALID.match(text):
        raise bad("gem", version, "not a RubyGems version")
    text = text.replace("-", ".pre.")
    parts: list[int | str] = [
        int(s) if s.isdigit() else s for s in re.findall(r"[0-9]+|[a-zA-Z]+", text)
    ]
    first_string = next((i for i, s in enumerate(parts) if isinstance(s, str)), len(parts))
    numeric, strings = parts[:first_string], parts[first_string:]
    while numeric and numeric[-1] == 0:
        numeric.pop()
    while strings and strings[-1] == 0:
        strings.pop()
    return tuple(numeric + strings)


def compare(a: str, b: str) -> int:
    sa, sb = segments(a), segments(b)
    for i in range(max(len(sa), len(sb))):
        x = sa[i] if i < len(sa) else 0
        y = sb[i] if i < len(sb) else 0
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, int):
            return -1
        if isinstance(x, int) and isinstance(y, str):
            return 1
        return -1 if x < y else 1  # type: ignore[operator]
    return 0
