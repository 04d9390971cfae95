"""Small helpers every analyzer needs: purls, CPEs, parsing guards.

``normalize_python_name`` lives in :mod:`anchore.ecosystems` (PyPI's name rule is an
ecosystem fact); it is re-exported here for the analyzers and plugins that import it here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from packageurl import PackageURL

from anchore.ecosystems import ecosystem, normalize_python_name
from anchore.purls import PurlError

__all__ = [
    "PurlError",
    "make_cpe",
    "make_purl",
    "normalize_python_name",
    "package_purl",
]


def make_purl(
    ptype: str,
    name: str,
    version: str | None,
    *,
    namespace: str | None = None,
    qualifiers: Mapping[str, str | None] | None = None,
    subpath: str | None = None,
) -> str:
    """A package URL string (packageurl-python does the escaping).

    Raises :class:`anchore.purls.PurlError` naming the package when its fields make
    none (a name ``/``, an empty name, a field that is not text): with
    ``FileInput.each`` it costs only that package's record.
    """
    try:
        clean = {k: v for k, v in (qualifiers or {}).items() if v}
        return str(
            PackageURL(
                type=ptype,
                namespace=namespace or None,
                name=name,
                version=version or None,
                qualifiers=clean or None,
                subpath=subpath,
            ).to_string()
        )
    except Exception as exc:  # packageurl raises TypeError/ValueError/AttributeError
        raise PurlError(
            f"{ptype} package {name!r} version {version!r} makes no package URL ({_reason(exc)})"
        ) from exc


def _reason(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, ValueError) and text.startswith("Invalid purl: "):
        return text[len("Invalid purl: ") :].rstrip(".")
    return "a field it cannot spell"


def package_purl(
    package_type: str,
    name: str,
    version: str | None,
    *,
    namespace: str | None = None,
    qualifiers: Mapping[str, str | None] | None = None,
    subpath: str | None = None,
) -> str:
    """The purl of a package of ``package_type``, of the purl type its ecosystem row
    gives (``python`` packages are ``pkg:pypi/...``): no analyzer spells that mapping."""
    return make_purl(
        ecosystem(package_type).purl_type,
        name,
        version,
        namespace=namespace,
        qualifiers=qualifiers,
        subpath=subpath,
    )


_CPE_ESCAPE = re.compile(r"([^A-Za-z0-9._\-~])")


def _cpe_part(value: str) -> str:
    return _CPE_ESCAPE.sub(r"\\\1", value.lower().replace(" ", "_"))


def make_cpe(vendor: str, product: str, version: str, part: str = "a") -> str:
    """A CPE 2.3 name. We only make these from facts, never by guessing vendors."""
    fields = ":".join(_cpe_part(x) for x in (vendor, product, version))
    return f"cpe:2.3:{part}:{fields}:*:*:*:*:*:*:*"
