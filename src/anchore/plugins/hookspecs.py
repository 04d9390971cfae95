"""Hook specifications: the plugin author's reference.

A plugin is a module or object with functions marked ``@anchore.plugins.hookimpl``
whose names are the hooks below. Installed packages register one through the
``anchore`` entry point group::

    # pyproject.toml of your plugin package
    [project.entry-points.anchore]
    mycompany = "mycompany_anchore.plugin"

    # mycompany_anchore/plugin.py
    from anchore.plugins import hookimpl

    @hookimpl
    def anchore_analyzers():
        return [MyAnalyzer()]

A plugin implements only the hooks it needs. Each hook returns a sequence; the
:class:`~anchore.plugins.Registry` collects the sequences of every plugin, ours
first (each of our built-in modules is a plugin, see ``DEFAULT_PLUGINS``), and
refuses an item that lacks a member its protocol requires (``REQUIRED_MEMBERS``)
with a :class:`~anchore.plugins.PluginError` naming the plugin, and an analyzer,
gate or feed reader whose name another one has (naming both plugins): either
would silently replace the other. A function marked ``hookimpl`` whose name is
not a hook below is refused too: a misspelt hook would otherwise never be
called. So is an entry point that fails to load, naming it and the cause.

``docs/plugins.md`` renders this module (``python -m anchore.plugins.reference``);
a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from anchore.plugins.markers import hookspec

if TYPE_CHECKING:  # annotations only: the plugin layer imports none of these at runtime
    from anchore.analysis.analyzer import Analyzer
    from anchore.policy.gate import Gate
    from anchore.query.model import Query
    from anchore.sbom.format import SbomFormat
    from anchore.vulns.load import Feed

__all__ = [
    "REQUIRED_MEMBERS",
    "anchore_analyzers",
    "anchore_gates",
    "anchore_plugins",
    "anchore_queries",
    "anchore_sbom_formats",
    "anchore_vulnerability_feeds",
]

#: What each item a hook returns must have, checked as the registry collects it:
#: ``str`` a non-empty string, ``strings`` a collection of strings (not one string),
#: ``collection`` any collection, ``method`` something callable.
REQUIRED_MEMBERS: dict[str, dict[str, str]] = {
    "anchore_analyzers": {"name": "str", "patterns": "strings", "analyze": "method"},
    "anchore_gates": {
        "name": "str",
        "description": "str",
        "triggers": "collection",
        "trigger": "method",
    },
    "anchore_vulnerability_feeds": {"name": "str", "detect": "method", "read": "method"},
    "anchore_queries": {"name": "str", "description": "str", "function": "method"},
    "anchore_sbom_formats": {
        "name": "str",
        "description": "str",
        "write": "method",
        "detect": "method",
        "read": "method",
    },
}


@hookspec
def anchore_analyzers() -> Sequence[Analyzer]:
    """Return the analyzers this plugin provides.

    Called when an analysis starts (``anchore.analyze``, through
    ``Registry.select_analyzers``), and when plugins are listed (``anchore plugins``).
    An analyzer runs when the caller asks for all of them, or for it by name.

    Returns: objects following ``anchore.analysis.analyzer.Analyzer``:

    - ``name`` (str): unique among analyzers, ours included, e.g. ``dpkg`` or
      ``mycompany-licenses``; what ``analyze(analyzers=[...])`` and ``--analyzers`` take.
    - ``patterns`` (strings): which files it wants. Without ``/`` a glob over
      basenames (``*.jar``, ``package.json``); with ``/`` over absolute paths,
      ``**`` standing for any number of directories (``/var/lib/dpkg/status.d/*``).
      The engine offers only matching regular files; an analyzer never walks the tree.
    - ``analyze(files, context)``: yields ``Package``, ``Finding``, ``Distro``,
      ``Dataset`` or ``AnalyzerError`` values for the offered ``FileInput`` files.
      It may run in a worker thread. An exception it raises becomes an
      ``AnalyzerError`` entry for it; the rest of the analysis completes. Any
      ``AnalyzerError`` it reports (a file it could not read) makes its evidence
      incomplete: policy rules that need it are not evaluated (``MissingEvidenceError``).
    - optional ``prefetch`` (bool, default True): False leaves its files out of the
      shared read pass (for analyzers that read only a part of large files).
    - optional ``needs_files`` (bool, default True): False has ``analyze`` called
      even when no file matched (with none), to record what it looked for: the
      secrets analyzer records the rules it ran, which policy rules check. An
      analyzer with no ``patterns`` is always called.
    """
    raise NotImplementedError


@hookspec
def anchore_gates() -> Sequence[Gate]:
    """Return the policy gates this plugin provides.

    Called when a policy bundle is validated (``load_bundle``, ``parse_bundle``),
    when one is evaluated (``anchore.evaluate``), and when the bundle JSON Schema is
    generated (``anchore.policy.schema``). A bundle rule names a gate and one of
    its triggers (``gate: packages``, ``trigger: blacklisted``); a rule naming a
    gate no plugin provides is a ``BundleError``.

    Returns: ``anchore.policy.gate.Gate`` values:

    - ``name`` (str): what bundle rules call it; unique among gates, ours included.
    - ``description`` (str): one line, shown in the JSON Schema.
    - ``triggers``: ``Trigger`` values, each with a name, a description, declared
      ``Param`` parameters (validated before anything runs), the evidence it reads
      (``Need``: the analyzer that collects it) and ``check(context, params)``
      yielding ``Hit`` values.
    - ``trigger(name)``: the trigger of that name, or None.
    """
    raise NotImplementedError


@hookspec
def anchore_vulnerability_feeds() -> Sequence[Feed]:
    """Return the vulnerability feed readers this plugin provides.

    Called when a feed is loaded into the advisory store (``anchore.vulns.load``,
    ``anchore db load``). The reader named by ``feed=`` (``--feed``) is used;
    otherwise the first whose ``detect`` accepts the path, distro feeds before OSV.

    Returns: objects following ``anchore.vulns.load.Feed``:

    - ``name`` (str): what ``feed=`` and ``--feed`` take, unique among feed readers;
      recorded with each advisory as its source.
    - ``detect(path) -> bool``: whether the file or directory ``path`` is in this
      reader's format; read no more than its head.
    - ``read(path, report) -> Iterable[Advisory]``: the advisories in ``path``.
      Add to ``report.covered`` the ecosystems the path is a whole feed for (only
      those count as checked when matching) and to ``report.skipped`` a
      ``(file, why)`` pair for each record it cannot read.

    A feed ``anchore db update`` (``anchore.vulns.update``) downloads also has:

    - ``base_url`` (str): where it is published, e.g.
      ``https://osv-vulnerabilities.storage.googleapis.com``.
    - ``mirror_env`` (str): the environment variable that points it at a mirror with
      the same layout (``ANCHORE_FEED_OSV_URL``); ``--mirror NAME=URL`` does too.
    - ``files(base_url, fetch) -> Sequence[FeedFile]``: the files to download
      (``anchore.vulns.update.FeedFile``: ``url``; ``name``, a relative path of plain
      names, the file's place in the download folder (anything else is refused);
      ``required``, False when a 404 means the publisher has none; ``default``,
      False to fetch it only when named, ``NAME:PART`` by the name's first
      directory; ``max_bytes``, the largest body accepted, 1 GiB when None).
      ``fetch(url) -> bytes`` reads a published index first when the list is not
      fixed. Each file that changed is given to ``read`` on its own, so an advisory
      must come from one file only: ids that two files share replace each other
      (ours are per file, ``ALPINE-v3.18-main-CVE-…``).

    A URL-based feed is one row: ``anchore.vulns.update.UrlFeed(name, url, reader)``
    downloads ``url`` and reads it with the reader named ``reader``.
    """
    raise NotImplementedError


@hookspec
def anchore_queries() -> Sequence[Query]:
    """Return the named queries this plugin provides.

    Called when a query is run or listed (``anchore.query.run``, ``anchore.query.queries``,
    ``anchore query NAME IMAGE...``, ``anchore query --list``). Our own queries
    (``packages``, ``files``, ``diff``, ``efficiency``...) come this way too.

    Returns: ``anchore.query.Query`` values:

    - ``name`` (str): what ``run(name, ...)`` and ``anchore query NAME`` take; unique
      among queries, ours included.
    - ``description`` (str): one line, shown by ``--list``.
    - ``function``: a plain function answering it, called as ``function(analysis,
      **params)`` for a query over one image (``images="one"``), ``function(a, b,
      **params)`` over two, ``function(analyses, **params)`` over many; with
      ``store=`` too when ``needs_store``. It returns rows: attrs values of the
      query's ``row`` class, whose fields are the documented columns.
    - ``row``: the attrs class of its rows.
    - ``params``: ``Param`` values, each with a name, a description and how a
      command line's text becomes its value; a parameter not declared is refused.
    """
    raise NotImplementedError


@hookspec
def anchore_sbom_formats() -> Sequence[SbomFormat]:
    """Return the SBOM formats this plugin writes and reads.

    Called when an SBOM is written (``anchore.sbom.write``, ``anchore sbom -o NAME``)
    or read (``anchore.sbom.read``, and every command given an SBOM file in place of
    an image). Reading sniffs the file: the first format whose ``detect`` accepts it
    reads it.

    Returns: objects following ``anchore.sbom.format.SbomFormat``:

    - ``name`` (str): what ``-o`` takes (``cyclonedx-json``), unique among formats.
    - ``description`` (str): one line.
    - ``media_type`` (str) and ``extension`` (str, ``.cdx.json``): for files and HTTP.
    - ``write(analysis, fp)``: write the analysis to the binary file ``fp``.
    - ``detect(head) -> bool``: whether a file starting with the bytes ``head``
      (up to 1 MiB) is in this format.
    - ``read(path, fp, limits) -> Analysis``: the analysis the SBOM in the binary
      file ``fp`` (read from ``path``, for messages) describes; a malformed one is an
      ``SbomFormatError`` naming the file and the place.
    """
    raise NotImplementedError


@hookspec
def anchore_plugins(environ: Mapping[str, str]) -> Sequence[object]:
    """Return further plugins to register, found at load time.

    Called once when a registry is loaded (``Registry.load``, the default registry
    on first use), after the built-in and entry point plugins are registered. Each
    object returned is registered after them, under its ``plugin_name`` attribute
    (if it has one) and shown by ``anchore plugins`` with its ``plugin_source``;
    its own ``anchore_plugins`` is not called. Our executable analyzers
    (``ANCHORE_PLUGIN_PATH``) come this way.

    Parameters: ``environ``, the environment to read settings from
    (``os.environ`` unless the registry was loaded with another).

    Returns: plugins: modules or objects with ``hookimpl`` functions.
    """
    raise NotImplementedError
