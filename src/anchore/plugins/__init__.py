"""Plugins: pluggy hooks, discovered through the ``anchore`` entry point group.

``anchore.plugins.list()`` shows what is loaded and where it came from.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("anchore")

from anchore.plugins.manager import PluginInfo, list_plugins, plugin_manager, reset  # noqa: E402

list = list_plugins

__all__ = ["PluginInfo", "hookimpl", "list", "list_plugins", "plugin_manager", "reset"]
