"""Built-in analyzers, one module per ecosystem or concern.

They are registered through the same plugin hook as anyone else's
(``anchore.plugins.builtin``).
"""
