"""Content digests as the registry side reads them: ``sha256:<hex>`` (also sha384 and
sha512), lowercase hex of the exact length. One parser for the cache, the client and
the registry source, so a digest from a hostile manifest is judged the same everywhere
(and a cache path built from it cannot leave the cache)."""

from __future__ import annotations

import hashlib
import re

__all__ = ["ALGORITHMS", "algorithm_of", "digest_of", "is_digest", "parse_digest"]

#: the digest algorithms read, with the length of their hex
ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}
_DIGEST = re.compile(r"(sha256|sha384|sha512):([0-9a-f]+)")


def parse_digest(digest: object) -> tuple[str, str]:
    """``(algorithm, hex)`` of ``digest``; ValueError for anything else."""
    match = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
    if not match or len(match.group(2)) != ALGORITHMS[match.group(1)]:
        raise ValueError(f"{digest!r} is not a sha256, sha384 or sha512 digest")
    return match.group(1), match.group(2)


def is_digest(text: object) -> bool:
    """Whether :func:`parse_digest` takes ``text``."""
    try:
        parse_digest(text)
    except ValueError:
        return False
    return True


def algorithm_of(digest: str) -> str:
    """The algorithm ``digest`` names, sha256 when it names none we know (the digest
    then fails to match, as it should)."""
    algorithm = digest.split(":", 1)[0]
    return algorithm if algorithm in ALGORITHMS else "sha256"


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """``algorithm:<hex>`` of ``data``."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
