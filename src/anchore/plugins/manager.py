"""Loading plugins: our built-ins, entry points, and executable analyzers."""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Sequence
from typing import Any

import attrs
import pluggy

from anchore.plugins import hookspecs

__all__ = ["PluginInfo", "list_plugins", "plugin_manager", "reset", "select_analyzers"]

ENTRY_POINT_GROUP = "anchore"
#: directories (os.pathsep-separated) searched for executable analyzers
PLUGIN_PATH_ENV = "ANCHORE_PLUGIN_PATH"

_lock = threading.Lock()
_manager: pluggy.PluginManager | None = None


@attrs.frozen
class PluginInfo:
    """A loaded plugin: its name, where it came from, and what it provides."""

    name: str
    #: ``builtin``, ``entry point <dist> <version>`` or ``executable <path>``
    source: str
    analyzers: tuple[str, ...] = ()
    gates: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    sbom_formats: tuple[str, ...] = ()
    vulnerability_feeds: tuple[str, ...] = ()


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _manager
    with _lock:
        if _manager is None:
            pm = pluggy.PluginManager("anchore")
            pm.add_hookspecs(hookspecs)
            from anchore.plugins import builtin, external

            pm.register(builtin, name="anchore.builtin")
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
            for plugin in external.discover(os.environ.get(PLUGIN_PATH_ENV, "")):
                pm.register(plugin, name=plugin.plugin_name)
            _manager = pm
        return _manager


def reset() -> None:
    """Forget loaded plugins (after installing one, or changing ANCHORE_PLUGIN_PATH)."""
    global _manager
    with _lock:
        _manager = None


def _names(items: Sequence[Any]) -> tuple[str, ...]:
    return tuple(str(getattr(item, "name", item)) for item in items)


def list_plugins() -> list[PluginInfo]:
    """What is loaded and where from."""
    pm = plugin_manager()
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        if name == "anchore.builtin":
            source = "builtin"
        elif dist is not None:
            source = f"entry point {dist.project_name} {dist.version}"
        else:
            source = getattr(plugin, "plugin_source", "registered")

        def call(hook: str, plugin: Any = plugin) -> tuple[str, ...]:
            impl = getattr(plugin, hook, None)
            return _names(impl() or []) if callable(impl) else ()

        infos.append(
            PluginInfo(
                name=name,
                source=source,
                analyzers=call("anchore_analyzers"),
                gates=call("anchore_gates"),
                queries=call("anchore_queries"),
                sbom_formats=call("anchore_sbom_formats"),
                vulnerability_feeds=call("anchore_vulnerability_feeds"),
            )
        )
    return infos


def analyzers() -> list[Any]:
    """Every registered analyzer, built-ins first."""
    found: list[Any] = []
    for batch in reversed(plugin_manager().hook.anchore_analyzers()):
        found.extend(batch or [])
    return found


def gates() -> list[Any]:
    """Every registered policy gate, ours first."""
    found: list[Any] = []
    for batch in reversed(plugin_manager().hook.anchore_gates()):
        found.extend(batch or [])
    return found


def select_analyzers(chosen: Sequence[Any] | None) -> list[Any]:
    """Analyzers by name (from the registry) or as objects; all of them for None."""
    if chosen is None:
        return analyzers()
    if isinstance(chosen, str):  # one name, not its letters
        chosen = [chosen]
    registry = {a.name: a for a in analyzers()}
    out = []
    for item in chosen:
        if isinstance(item, str):
            if item not in registry:
                from anchore.errors import AnalyzerNotFoundError

                close = difflib.get_close_matches(item, list(registry), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise AnalyzerNotFoundError(
                    f"no analyzer named {item!r}{hint}; available: {', '.join(sorted(registry))}"
                )
            out.append(registry[item])
        else:
            out.append(item)
    return out
