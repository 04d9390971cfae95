"""The plugin registry: which analyzers, gates, feed readers, queries and SBOM formats exist.

A :class:`Registry` wraps one pluggy manager. ``analyze``, ``evaluate``, the
bundle parser and the feed loader each take one (``registry=``) and otherwise
use :func:`default_registry`: our built-ins, installed entry point plugins and
executable analyzers, loaded once on first use.

Our built-ins are plugins like any other: each module named in
:data:`DEFAULT_PLUGINS` carries its own ``@hookimpl`` functions and is imported
by name when a registry is loaded, so this package imports none of them (it sits
below every other subpackage; see tests/test_import_layers.py).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from anchore.errors import AnalyzerNotFoundError, AnchoreError
from anchore.plugins import hookspecs
from anchore.plugins.markers import PROJECT

if TYPE_CHECKING:
    from anchore.analysis.analyzer import Analyzer
    from anchore.policy.gate import Gate
    from anchore.query.model import Query
    from anchore.sbom.format import SbomFormat
    from anchore.vulns.load import Feed

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginError",
    "PluginInfo",
    "Registry",
    "default_registry",
    "list_plugins",
    "reset",
]

#: the entry point group installed plugin packages declare themselves in
ENTRY_POINT_GROUP = "anchore"

#: our built-in plugins, one module each, registered under these names in this
#: order (which is the order analyzers run and are listed in)
DEFAULT_PLUGINS: tuple[str, ...] = (
    "anchore.analyzers.distro",
    "anchore.analyzers.dpkg",
    "anchore.analyzers.apk",
    "anchore.analyzers.rpm",
    "anchore.analyzers.python",
    "anchore.analyzers.npm",
    "anchore.analyzers.golang",
    "anchore.analyzers.java",
    "anchore.analyzers.ecosystems",
    "anchore.analyzers.files",
    "anchore.analyzers.secrets",
    "anchore.analyzers.system",
    "anchore.analyzers.executables",
    "anchore.analyzers.retrieve",
    "anchore.policy.gates",
    "anchore.vulns.load",
    "anchore.query.image",
    "anchore.query.layers",
    "anchore.query.compare",
    "anchore.sbom.anchore_json",
    "anchore.sbom.cyclonedx",
    "anchore.sbom.spdx",
    "anchore.sbom.syft_json",
)

BUILTIN = "builtin"

#: the hook names (hookspecs.py), for messages
HOOKS: tuple[str, ...] = tuple(n for n in hookspecs.__all__ if n.startswith("anchore_"))

#: the hooks whose results the registry collects, with the PluginInfo field of each
_COLLECTED = {
    "anchore_analyzers": "analyzers",
    "anchore_gates": "gates",
    "anchore_vulnerability_feeds": "vulnerability_feeds",
    "anchore_queries": "queries",
    "anchore_sbom_formats": "sbom_formats",
}


class PluginError(AnchoreError):
    """A plugin that cannot be used: one that fails to import, a hook that does not
    exist, a name taken (a plugin's, or an analyzer's, gate's or feed reader's name
    another plugin gives too), or a hook returning something that lacks what its
    protocol requires."""


@attrs.frozen
class PluginInfo:
    """A registered plugin: its name, where it came from, and what it provides."""

    name: str
    #: ``builtin``, ``entry point <dist> <version>``, ``executable <path>`` or
    #: ``registered`` (given to :meth:`Registry.register`)
    source: str
    analyzers: tuple[str, ...] = ()
    gates: tuple[str, ...] = ()
    vulnerability_feeds: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    sbom_formats: tuple[str, ...] = ()


def _problem(kind: str, value: Any) -> str | None:
    """Why ``value`` is not a member of this kind (see ``hookspecs.REQUIRED_MEMBERS``)."""
    if kind == "str":
        return None if isinstance(value, str) and value else "must be a non-empty string"
    if kind == "method":
        return None if callable(value) else "must be callable"
    if not isinstance(value, Collection) or isinstance(value, str | bytes):
        return "must be a collection (a tuple or list)"
    if kind == "strings" and not all(isinstance(v, str) for v in value):
        return "must hold strings only"
    return None


class Registry:
    """The plugins an analysis, an evaluation or a feed load draws from.

    ``Registry()`` is empty; :meth:`load` fills one as the default registry is
    filled. Give one to ``analyze(..., registry=)`` and the other entry points
    to use plugins of your own without touching the process-wide default.
    """

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._sources: dict[str, str] = {}

    @classmethod
    def load(
        cls,
        plugins: Iterable[str] = DEFAULT_PLUGINS,
        *,
        entry_points: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> Registry:
        """A registry of the modules named in ``plugins`` (ours by default), the
        installed entry point plugins, and the plugins those bring
        (``anchore_plugins``: executable analyzers from ``ANCHORE_PLUGIN_PATH``)."""
        registry = cls()
        for module_name in plugins:
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # whatever its import raises, say which plugin it was
                raise PluginError(
                    f"plugin module {module_name!r} cannot be imported: {_cause(exc)}"
                ) from exc
            registry.register(module, module_name, source=BUILTIN)
        if entry_points:
            registry._load_entry_points()
        environ = os.environ if environ is None else environ
        for found in registry._collect("anchore_plugins", environ=environ):
            registry.register(found, getattr(found, "plugin_name", None))
        return registry

    def _load_entry_points(self) -> None:
        """Register the installed distributions' ``anchore`` entry points, each under
        its entry point name; one that fails to load is a :class:`PluginError` naming
        it and its distribution (the cause chained), not a bare exception from
        somewhere in the plugin's imports."""
        seen: set[tuple[str, str]] = set()
        for dist in importlib.metadata.distributions():
            for ep in dist.entry_points:
                if ep.group != ENTRY_POINT_GROUP or (ep.name, ep.value) in seen:
                    continue  # another group, or a distribution found twice on sys.path
                seen.add((ep.name, ep.value))
                if self._pm.is_blocked(ep.name):
                    continue
                where = f"{dist.metadata['Name']} {dist.version}"
                try:
                    plugin = ep.load()
                except Exception as exc:  # ImportError, SyntaxError, a missing attribute...
                    raise PluginError(
                        f"entry point {ep.name!r} ({ep.value}) of {where} cannot be "
                        f"loaded: {_cause(exc)}"
                    ) from exc
                self.register(plugin, ep.name, source=f"entry point {where}")

    @property
    def manager(self) -> pluggy.PluginManager:
        """The pluggy manager underneath, for what this class does not offer."""
        return self._pm

    def register(
        self, plugin: object, name: str | None = None, *, source: str | None = None
    ) -> str:
        """Register a plugin (a module or object with ``hookimpl`` functions); its name.

        ``name`` defaults to pluggy's (a module's name); ``source`` to the plugin's
        ``plugin_source`` attribute, else ``registered``. A name already taken, a
        hook implementation with the wrong parameters, or one whose name is no
        hook (a misspelling would never be called) is a :class:`PluginError`.
        """
        label = name or getattr(plugin, "__name__", None) or repr(plugin)
        try:
            registered = self._pm.register(plugin, name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin {label!r}: {exc}") from None
        if registered is None:  # pluggy's answer for a name blocked with set_blocked
            raise PluginError(f"plugin {label!r} is blocked")
        self._check_hooks(plugin, registered)
        self._sources[registered] = source or str(getattr(plugin, "plugin_source", "registered"))
        return registered

    def _check_hooks(self, plugin: object, name: str) -> None:
        for hook in self._pm.get_hookcallers(plugin) or ():
            problem = None
            if not hook.has_spec():
                hint = difflib.get_close_matches(hook.name, HOOKS, n=1)
                problem = (
                    f"implements {hook.name!r}, which is not an anchore hook"
                    + (f" (did you mean {hint[0]!r}?)" if hint else "")
                    + f"; the hooks are: {', '.join(HOOKS)}"
                )
            elif any(
                i.hookwrapper or i.wrapper for i in hook.get_hookimpls() if i.plugin is plugin
            ):
                problem = f"wraps {hook.name!r}: anchore hooks collect lists, they take no wrappers"
            if problem:
                self._pm.unregister(plugin)
                raise PluginError(f"plugin {name!r} {problem}")

    def _collect(self, hook: str, only: object = None, **kwargs: Any) -> list[Any]:
        """What every plugin (or only ``only``) returns from ``hook``, checked, ours first.

        Analyzers, gates and feed readers are chosen by name, so a name two of them
        share is a :class:`PluginError` naming both plugins: keeping either would
        silently replace the other (a plugin's ``python`` analyzer for ours).
        """
        found: list[Any] = []
        givers: dict[str, str] = {}  # item name -> the plugin that gave it
        for impl in getattr(self._pm.hook, hook).get_hookimpls():
            if only is None or impl.plugin is only:
                returned = impl.function(*(kwargs[arg] for arg in impl.argnames))
                batch = _batch(hook, impl.plugin_name, returned)
                if hook in _COLLECTED:
                    _unique_names(hook, impl.plugin_name, batch, givers)
                found.extend(batch)
        return found

    def analyzers(self) -> list[Analyzer]:
        """Every registered analyzer, ours first."""
        return self._collect("anchore_analyzers")

    def gates(self) -> list[Gate]:
        """Every registered policy gate, ours first."""
        return self._collect("anchore_gates")

    def feeds(self) -> list[Feed]:
        """Every registered vulnerability feed reader, ours first."""
        return self._collect("anchore_vulnerability_feeds")

    def queries(self) -> list[Query]:
        """Every registered query, ours first."""
        return self._collect("anchore_queries")

    def sbom_formats(self) -> list[SbomFormat]:
        """Every registered SBOM format, ours first."""
        return self._collect("anchore_sbom_formats")

    def select_analyzers(self, chosen: Sequence[Analyzer | str] | str | None) -> list[Analyzer]:
        """Analyzers by name (from this registry) or as objects; all of them for None.

        An unknown name is an :class:`AnalyzerNotFoundError` naming the closest one;
        an object lacking what an analyzer must have is a :class:`PluginError`.
        """
        if chosen is None:
            return self.analyzers()
        if isinstance(chosen, str):  # one name, not its letters
            chosen = [chosen]
        by_name: dict[str, Analyzer] | None = None
        out: list[Analyzer] = []
        for item in chosen:
            if not isinstance(item, str):
                _check("anchore_analyzers", "the analyzers given to analyze()", item)
                out.append(item)
                continue
            if by_name is None:
                by_name = {a.name: a for a in self.analyzers()}
            if item not in by_name:
                close = difflib.get_close_matches(item, list(by_name), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise AnalyzerNotFoundError(
                    f"no analyzer named {item!r}{hint}; available: {', '.join(sorted(by_name))}"
                )
            out.append(by_name[item])
        names = [a.name for a in out]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # both would run, and their timings and Analysis.analyzers entries collide
            raise PluginError(
                f"two analyzers chosen are named {twice[0]!r}; an analysis runs each name once"
            )
        return out

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin, in registration order, and what it provides."""
        infos = []
        for name, plugin in self._pm.list_name_plugin():
            if plugin is None:
                continue
            provided = {
                field: tuple(str(item.name) for item in self._collect(hook, only=plugin))
                for hook, field in _COLLECTED.items()
            }
            infos.append(PluginInfo(name, self._sources.get(name, "registered"), **provided))
        return infos


def _batch(hook: str, plugin_name: str, returned: Any) -> list[Any]:
    """One plugin's answer to a hook, refused (naming the plugin) unless each item
    has what the hook's protocol requires."""
    if returned is None:
        return []
    if not isinstance(returned, Iterable) or isinstance(returned, str | bytes):
        raise PluginError(
            f"plugin {plugin_name!r}: {hook}() must return a list, not {type(returned).__name__}"
        )
    items = list(returned)
    for item in items:
        _check(hook, f"plugin {plugin_name!r}", item)
    return items


#: what each collected hook's items are called, for messages: (with an article, plural)
_KINDS = {
    "anchore_analyzers": ("an analyzer", "analyzer names"),
    "anchore_gates": ("a gate", "gate names"),
    "anchore_vulnerability_feeds": ("a feed reader", "feed reader names"),
    "anchore_queries": ("a query", "query names"),
    "anchore_sbom_formats": ("an SBOM format", "SBOM format names"),
}


def _unique_names(hook: str, plugin_name: str, batch: list[Any], givers: dict[str, str]) -> None:
    """Record which plugin gave each item of ``batch``; a name given before is a
    :class:`PluginError` naming both plugins."""
    kind, names = _KINDS[hook]
    for item in batch:
        first = givers.get(item.name)
        if first is not None:
            also = "twice" if first == plugin_name else f"and so does plugin {first!r}"
            raise PluginError(
                f"plugin {plugin_name!r} gives {kind} named {item.name!r} {also}: one "
                f"would silently replace the other; {names} must be unique (rename one, "
                "or leave one plugin out)"
            )
        givers[item.name] = plugin_name


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _check(hook: str, who: str, item: object) -> None:
    for member, kind in hookspecs.REQUIRED_MEMBERS.get(hook, {}).items():
        if not hasattr(item, member):
            why = "is missing"
        else:
            why = _problem(kind, getattr(item, member)) or ""
        if why:
            raise PluginError(
                f"{who}: {hook}() gave {type(item).__name__} {item!r} whose {member!r} {why}; "
                f"it needs {', '.join(hookspecs.REQUIRED_MEMBERS[hook])} "
                "(see docs/plugins.md)"
            )


_lock = threading.Lock()
_default: Registry | None = None


def default_registry() -> Registry:
    """The registry used when none is given: ``Registry.load()``, built once, on first use.

    Thread-safe. :func:`reset` forgets it, so the next use loads it again (after
    installing a plugin, or changing ``ANCHORE_PLUGIN_PATH``).
    """
    global _default
    registry = _default
    if registry is None:
        with _lock:
            if _default is None:
                _default = Registry.load()
            registry = _default
    return registry


def reset() -> None:
    """Forget the default registry; the next :func:`default_registry` loads a new one."""
    global _default
    with _lock:
        _default = None


def list_plugins() -> list[PluginInfo]:
    """The default registry's plugins and where they came from."""
    return default_registry().plugins()
