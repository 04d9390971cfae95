"""Hook specifications: the plugin author's reference.

A plugin is a module or object with functions marked ``@anchore.plugins.hookimpl``
whose names are the hooks below, registered through the ``anchore`` entry
point group::

    # pyproject.toml of your plugin package
    [project.entry-points.anchore]
    mycompany = "mycompany_anchore.plugin"

    # mycompany_anchore/plugin.py
    from anchore.plugins import hookimpl

    @hookimpl
    def anchore_analyzers():
        return [MyAnalyzer()]

Every hook returns a list; anchore collects the lists of all plugins. Our own
analyzers are registered through these same hooks (``anchore.plugins.builtin``).
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("anchore")


@hookspec
def anchore_analyzers() -> list[Any]:
    """Return analyzers: objects with ``name``, ``patterns`` and ``analyze(files, context)``.

    See :class:`anchore.analysis.analyzer.Analyzer`. ``patterns`` says which
    files the analyzer wants: basename globs (``*.jar``) or absolute path globs
    with ``**`` (``/var/lib/dpkg/status.d/*``). The engine offers only matching
    files, each as a :class:`~anchore.analysis.analyzer.FileInput` whose
    ``read()`` is cached and shared. ``analyze`` yields ``Package``, ``Finding``,
    ``Distro`` or ``AnalyzerError`` values. Optional attribute ``prefetch``
    (default True): read matching small files in the shared pass.
    """


@hookspec
def anchore_gates() -> list[Any]:
    """Return policy gates: objects with ``name``, ``triggers`` and ``evaluate``.

    Gates are evaluated by the policy engine against an analysis; their
    triggers are what bundle rules refer to (``gate: packages``,
    ``trigger: blacklisted``). The exact protocol is documented with the
    policy engine.
    """


@hookspec
def anchore_queries() -> list[Any]:
    """Return queries: objects with ``name``, ``description`` and ``run(analyses, **params)``."""


@hookspec
def anchore_sbom_formats() -> list[Any]:
    """Return SBOM formats: objects with ``name``, ``media_type``, ``write`` and/or ``read``."""


@hookspec
def anchore_vulnerability_feeds() -> list[Any]:
    """Return feed readers: objects with ``name`` and ``read(path)`` yielding advisories."""
