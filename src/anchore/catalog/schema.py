"""The catalog's tables: one schema for SQLite and PostgreSQL (SQLAlchemy Core), versioned.

An image is keyed by :func:`image_key`: its manifest digest, or for a docker-save
archive (which records none) its config digest. Everything else hangs off that
key and goes when the image is removed (``ON DELETE CASCADE``). The full analysis
is stored once, as our own analysis JSON compressed with zstd; the rows beside it
(packages, layers, aliases, matches) are the indexed part that multi-image
questions read without loading any analysis.

Every string column is ``Text`` (no length): names, versions, purls and paths come from
the image, so an image with a long (or hostile) one stores on PostgreSQL as on SQLite,
which ignores lengths. (PostgreSQL still refuses an indexed value beyond its btree limit
of about 2.7 kB: a name, package name or digest that long.)

Times are ISO 8601 UTC text (``2026-11-24T09:30:00.123456Z``), which sorts as time
on both databases.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)

from anchore.analysis import many
from anchore.analysis.model import Analysis
from anchore.image.model import ImageInfo

__all__ = [
    "SCHEMA_VERSION",
    "aliases",
    "evaluations",
    "image_key",
    "images",
    "layers",
    "like_escape",
    "match_runs",
    "matches",
    "meta",
    "metadata",
    "packages",
]

#: the version of these tables; a catalog with an older one is migrated on open, a newer
#: one refused (:class:`~anchore.catalog.errors.CatalogSchemaError`)
SCHEMA_VERSION = 1

metadata = MetaData()

_KEY = Text
_CASCADE = "CASCADE"

#: ``schema_version``, ``created`` (when the catalog was made), ``application`` ("anchore")
meta = Table(
    "catalog_meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

images = Table(
    "images",
    metadata,
    Column("key", _KEY, primary_key=True),
    Column("manifest_digest", _KEY, nullable=True),
    Column("config_digest", _KEY, nullable=False),
    #: ``os/architecture[/variant]``
    Column("platform", Text, nullable=False),
    #: the distro as ``id:version_id`` ('' when none was found)
    Column("distro", Text, nullable=False),
    #: the image's own creation time (its config's), None when it records none
    Column("created", Text, nullable=True),
    #: uncompressed bytes of its layers (None when not known)
    Column("size", BigInteger, nullable=True),
    Column("layer_count", Integer, nullable=True),
    Column("package_count", Integer, nullable=False),
    #: when it was first and last added or seen (a re-scan that hit the catalog)
    Column("first_seen", Text, nullable=False),
    Column("last_seen", Text, nullable=False),
    #: the source it was last read from (a path, or a reference)
    Column("source", Text, nullable=False),
    #: how rows name it: :func:`anchore.query.diff.image_label` of its analysis (the same
    #: label a query over the analysis itself gives)
    Column("label", Text, nullable=False),
    #: ``image``, or ``sbom:FORMAT`` for an analysis read back from an SBOM
    Column("origin", Text, nullable=False),
    #: JSON lists: the analyzers that ran, and those that failed as a whole
    Column("analyzers", Text, nullable=False),
    Column("failed_analyzers", Text, nullable=False),
    #: the anchore version that analyzed it
    Column("anchore_version", Text, nullable=False),
    #: the analysis JSON (``Analysis.write_json``), zstd-compressed, and the JSON's sha256
    Column("analysis", LargeBinary, nullable=False),
    Column("analysis_sha256", Text, nullable=False),
    #: the same without its file inventory and layer changes (``codec.summary_of``): what
    #: a rematch reads, a tenth of the whole to parse
    Column("summary", LargeBinary, nullable=False),
    Column("summary_sha256", Text, nullable=False),
)

#: every name an image was seen as (its registry reference, its tags, names given), as a
#: chain of custody: one row per stretch of time a name pointed at one image; a tag that
#: moves to another digest starts a new row, one seen again on the same digest extends
#: the last row's ``last_seen``
aliases = Table(
    "aliases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("image_key", _KEY, ForeignKey("images.key", ondelete=_CASCADE), nullable=False),
    Column("first_seen", Text, nullable=False),
    Column("last_seen", Text, nullable=False),
    Index("aliases_by_name", "name", "first_seen", "id"),
    Index("aliases_by_image", "image_key"),
)

layers = Table(
    "layers",
    metadata,
    Column("image_key", _KEY, ForeignKey("images.key", ondelete=_CASCADE), primary_key=True),
    Column("position", Integer, primary_key=True),
    #: the blob's digest as the manifest names it, and the uncompressed diff_id
    Column("digest", _KEY, nullable=False),
    Column("diff_id", _KEY, nullable=False),
    Column("size", BigInteger, nullable=True),
    Index("layers_by_diff_id", "diff_id"),
)

packages = Table(
    "packages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("image_key", _KEY, ForeignKey("images.key", ondelete=_CASCADE), nullable=False),
    Column("type", Text, nullable=False),
    Column("name", Text, nullable=False),
    #: the name as its ecosystem compares names (PEP 503 for python: ``foo-bar``);
    #: ``ecosystems.find(type).name_key(name)``, the name itself for unknown types
    Column("name_key", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("purl", Text, nullable=False),
    #: the first location's layer and path (None when the package has no location)
    Column("layer_index", Integer, nullable=True),
    Column("layer_digest", _KEY, nullable=True),
    Column("path", Text, nullable=True),
    Column("declared", Boolean, nullable=False),
    Index("packages_by_name_key", "name_key"),
    Index("packages_by_name", "name"),
    Index("packages_by_image", "image_key"),
)

#: one matching of one image against an advisory store
match_runs = Table(
    "match_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("image_key", _KEY, ForeignKey("images.key", ondelete=_CASCADE), nullable=False),
    Column("matched_at", Text, nullable=False),
    #: JSON: the store's feeds as they were (name, when checked and changed, coverage)
    Column("feeds", Text, nullable=False),
    Column("checked", Integer, nullable=False),
    Column("unchecked", Integer, nullable=False),
    Column("declared", Integer, nullable=False),
    Index("match_runs_by_image", "image_key", "id"),
)

matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("match_runs.id", ondelete=_CASCADE), nullable=False),
    Column("image_key", _KEY, ForeignKey("images.key", ondelete=_CASCADE), nullable=False),
    Column("advisory_id", Text, nullable=False),
    #: JSON list of the advisory's aliases (CVE ids...)
    Column("aliases", Text, nullable=False),
    Column("package_type", Text, nullable=False),
    Column("package_name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("purl", Text, nullable=False),
    Column("fixed_in", Text, nullable=True),
    Column("rating", Text, nullable=False),
    Column("score", Float, nullable=True),
    Column("layer_index", Integer, nullable=True),
    #: the whole Match as JSON (``Match.to_dict()``)
    Column("match", Text, nullable=False),
    Index("matches_by_run", "run_id"),
    Index("matches_by_advisory", "advisory_id"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("image_key", _KEY, ForeignKey("images.key", ondelete=_CASCADE), nullable=False),
    Column("evaluated_at", Text, nullable=False),
    #: the bundle's id, and the sha256 of the canonical JSON of what the Evaluation says
    #: identifies it (bundle_id, mapping, policy_ids, allowlist_ids)
    Column("bundle", Text, nullable=False),
    Column("bundle_digest", Text, nullable=False),
    #: ``GO``, ``WARN`` or ``STOP`` (``Evaluation.final_action`` as it is)
    Column("final_action", Text, nullable=False),
    #: the Evaluation's JSON (``to_dict()``), zstd-compressed
    Column("evaluation", LargeBinary, nullable=False),
    Index("evaluations_by_image", "image_key", "id"),
)


def image_key(image: ImageInfo | Analysis) -> str:
    """The catalog's key of an image: :func:`anchore.analysis.many.image_key`'s (its
    manifest digest, or for a docker-save archive, which records none, its config
    digest), so a catalog's keys are what ``analyze_many(skip=...)`` compares."""
    return many.image_key(image.image if isinstance(image, Analysis) else image)


def like_escape(text: str) -> str:
    """``text`` matched literally in a LIKE pattern with ``ESCAPE '\\'``: its ``\\``,
    ``%`` and ``_`` escaped. The one escaper of the catalog's LIKE queries."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
