"""Built-in queries across images: the diff of two (:mod:`anchore.query.diff`), base images
and the many-image queries (:mod:`anchore.query.fleet`), registered through the
``anchore_queries`` hook like a plugin's."""

from __future__ import annotations

from collections.abc import Sequence

from anchore.plugins import hookimpl
from anchore.query import diff as _diff
from anchore.query import fleet
from anchore.query.filters import VersionRange, name_matcher
from anchore.query.model import Param, Query

__all__ = ["QUERIES"]

_KIND = Param(
    "kind",
    f"only these kinds of change, comma-separated: {', '.join(_diff.KINDS)} (default: all)",
    parse=_diff.parse_kinds,
)

QUERIES = (
    Query(
        "diff",
        "what changed from the first image to the second: packages (with version "
        "direction), files, setuid/setgid bits, config",
        _diff.diff,
        row=_diff.DiffRow,
        images="two",
        params=(_KIND,),
    ),
    Query(
        "base",
        "each image's base among those given: the longest proper prefix of its layers",
        fleet.base,
        row=fleet.BaseRow,
        images="many",
    ),
    Query(
        "base-diff",
        "for each image with a base among those given, what it added on top of it",
        fleet.base_diff,
        row=fleet.BaseDiffRow,
        images="many",
        params=(_KIND,),
    ),
    Query(
        "common-packages",
        "packages (type and name) every image given carries, with each one's versions",
        fleet.common_packages,
        row=fleet.CommonPackageRow,
        images="many",
    ),
    Query(
        "who-has",
        "which images carry a package, which version, in which layer and at which path",
        fleet.who_has,
        row=fleet.WhoHasRow,
        images="many",
        params=(
            Param(
                "name",
                "package name: a glob, or re:REGEX (PyPI names compared normalised)",
                parse=name_matcher,
                required=True,
            ),
            Param("type", "only packages of this type (deb, python, npm...)"),
            Param(
                "version",
                "a version range, like >=7.0,<8 (in the package ecosystem's ordering)",
                parse=VersionRange.parse,
            ),
        ),
    ),
    Query(
        "advisory",
        "which images carry a package an advisory affects (and which could not be checked)",
        fleet.advisory,
        row=fleet.AdvisoryRow,
        images="many",
        params=(
            Param(
                "id", "the advisory's id or an alias: CVE-..., GHSA-..., PYSEC-...", required=True
            ),
        ),
        needs_store=True,
    ),
    Query(
        "distros",
        "images binned by distro id and version",
        fleet.distros,
        row=fleet.DistroRow,
        images="many",
    ),
    Query(
        "sizes",
        "images binned by size (their layers' uncompressed bytes)",
        fleet.sizes,
        row=fleet.SizeRow,
        images="many",
        params=(
            Param(
                "bins",
                "the bins' boundaries, increasing: 10MB,100MB,1GB (the default)",
                parse=fleet.parse_sizes,
            ),
        ),
    ),
)


@hookimpl
def anchore_queries() -> Sequence[Query]:
    return QUERIES
