"""What the OS package database analyzers (dpkg, apk, rpm) share: identities in plain words.

A database record is the image's to write: a name of ``/`` or a version of
spaces is as possible as ``musl``. Such a record must cost only itself, with an
error entry that says what was wrong with it, never the analyzer's other
packages (see :meth:`anchore.analysis.analyzer.FileInput.each`).
"""

from __future__ import annotations

from collections.abc import Mapping

from anchore.analyzers.common import package_purl

__all__ = ["os_purl"]


def os_purl(
    package_type: str,
    name: str,
    version: str | None,
    *,
    namespace: str | None = None,
    qualifiers: Mapping[str, str | None] | None = None,
) -> str:
    """The package URL of a database record, or a ``ValueError`` saying why it has none.

    packageurl raises ``TypeError`` or ``ValueError`` in its own words for a
    name such as ``/`` (nothing is left once the slashes are taken as
    namespace separators); the record's error entry says it as a fact.
    """
    try:
        return package_purl(package_type, name, version, namespace=namespace, qualifiers=qualifiers)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"name {name!r} version {version!r} make no valid package URL ({exc})"
        ) from None
