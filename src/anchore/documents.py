"""Reading the JSON-or-YAML files users write: ignore files, VEX documents, policy bundles.

One reader, so that every such file fails the same way: a missing file, a
directory, bytes that are not UTF-8, JSON or YAML that does not parse (with
the line), a key given twice (the first would be silently replaced), and an
empty or ``null`` document are each an error of the caller's class naming the
file and what it was meant to be. An unknown key is worded once too
(:func:`unknown_key_message`), with the closest valid key.

Which syntax: a ``.yaml``/``.yml`` file is YAML, a ``.json`` file is JSON, and
a file with any other name is read as JSON, then as YAML if it is not JSON.
YAML is read with PyYAML's safe loader (plain data, no objects; a date such as
``2026-06-30`` becomes a :class:`datetime.date`).

Bounded loading, for these files and every other JSON or YAML document anchore
reads (feeds from the network, lock files from images): :func:`load_yaml`,
:func:`load_yaml_all` and :func:`load_json` refuse a document nested deeper than
:data:`MAX_DEPTH` levels, and YAML whose aliases stand for more than
:data:`MAX_ALIAS_NODES` nodes or contain themselves, with the caller's error.
PyYAML's C composer recurses once per level (200 KB of ``[`` crashed the whole
process), so YAML's nesting and aliases are counted from the parser's events
(a loop) before it is composed; an alias is a shared reference, cheap to load,
but a walk over the document (a repr, a copy, a search) visits it once per
reference: nine levels of ten aliases are a billion nodes.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import yaml

from anchore.errors import AnchoreError, one_line

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "DuplicateKeyError",
    "did_you_mean",
    "load_json",
    "load_yaml",
    "load_yaml_all",
    "read_document",
    "unknown_key_message",
]

#: deepest nesting of arrays and objects (sequences and mappings) read in one JSON or
#: YAML document (``Limits.max_json_depth``'s default; real documents use under 10)
MAX_DEPTH = 64
#: most nodes the aliases of one YAML document may stand for, each alias counted as
#: the nodes it repeats (a walk visits them all): a second's walk, far past real use
MAX_ALIAS_NODES = 1_000_000

#: makes the caller's error from a problem (``"nested deeper than 64 levels (line 3)"``)
Fail = Callable[[str], Exception]

_SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_yaml(
    text: str | bytes, loader: type, fail: Fail, max_depth: int, max_alias: int
) -> None:
    """Raise ``fail(problem)`` if a document of ``text`` nests deeper than ``max_depth``
    or its aliases stand for more than ``max_alias`` nodes or contain themselves.

    One pass over the parser's events (no recursion): ``nodes`` counts the nodes of
    the document as a walk would meet them (an alias as all the nodes of its anchor's
    node), so an anchored node's size is ``nodes`` at its end less ``nodes`` at its start.
    """
    try:
        _walk_yaml_events(yaml.parse(text, Loader=loader), fail, max_depth, max_alias)
    except yaml.MarkedYAMLError as error:
        # libyaml 0.2.6 (PyYAML 6.0.4's wheels) stops at 1,000 open flow collections
        # while scanning ahead, before our walk has met the 65th: the same problem
        if error.problem and "maximum nesting depth" in error.problem:
            line = error.problem_mark.line + 1 if error.problem_mark else "?"
            raise fail(f"nested deeper than {max_depth} levels (line {line})") from None
        raise


def _walk_yaml_events(events: Iterator[Any], fail: Fail, max_depth: int, max_alias: int) -> None:
    """The walk of :func:`_check_yaml` over one stream's parser events."""
    stack: list[tuple[str | None, int]] = []  # (anchor, nodes before it) of each open node
    sizes: dict[str, int] = {}
    nodes = aliased = 0
    for event in events:
        if isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, _OPEN):
            if len(stack) >= max_depth:
                fail_at = event.start_mark.line + 1 if event.start_mark else "?"
                raise fail(f"nested deeper than {max_depth} levels (line {fail_at})")
            stack.append((event.anchor, nodes))
            nodes += 1
        elif isinstance(event, _CLOSE):
            anchor, start = stack.pop()
            if anchor is not None:
                sizes[anchor] = nodes - start
        elif isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor) if event.anchor is not None else None
            line = event.start_mark.line + 1 if event.start_mark else "?"
            if size is None and any(anchor == event.anchor for anchor, _ in stack):
                raise fail(f"the alias *{event.anchor} (line {line}) is inside the node it "
                           "names: a structure containing itself")  # fmt: skip
            nodes += size or 0  # an undefined alias: the loader reports it
            aliased += size or 0
            if aliased > max_alias:
                raise fail(f"its aliases stand for more than {max_alias} nodes (line {line})")
        elif isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()  # anchors are a document's own
            nodes = aliased = 0


def load_yaml_all(
    text: str | bytes,
    fail: Fail,
    *,
    loader: type | None = None,
    max_depth: int = MAX_DEPTH,
    max_alias_nodes: int = MAX_ALIAS_NODES,
) -> Iterator[Any]:
    """Every document of a YAML stream, once its nesting and aliases are within bounds
    (else ``fail(problem)`` is raised: the caller's error). ``loader`` is a PyYAML
    loader class (default: the safe loader, libyaml's when there is one); a syntax
    error is its :class:`yaml.YAMLError`, for the caller to word."""
    loader = loader or _SAFE_LOADER
    _check_yaml(text, loader, fail, max_depth, max_alias_nodes)
    yield from yaml.load_all(text, Loader=loader)


def load_yaml(
    text: str | bytes,
    fail: Fail,
    *,
    loader: type | None = None,
    max_depth: int = MAX_DEPTH,
    max_alias_nodes: int = MAX_ALIAS_NODES,
) -> Any:
    """The one document of a YAML stream (None for none), as :func:`load_yaml_all` reads it."""
    loader = loader or _SAFE_LOADER
    _check_yaml(text, loader, fail, max_depth, max_alias_nodes)
    return yaml.load(text, Loader=loader)


def load_json(
    text: str | bytes,
    fail: Fail,
    *,
    max_depth: int = MAX_DEPTH,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """A JSON document, once its nesting is within ``max_depth`` (else ``fail(problem)``).

    json's C decoder stops at the interpreter's recursion limit (a RecursionError, no
    crash); below it, the decoded containers are counted level by level (a loop over
    containers only, a fraction of the decoding). A syntax error is json's ValueError.
    """
    try:
        doc = json.loads(text, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise fail(f"nested deeper than {max_depth} levels") from None
    level = [doc] if isinstance(doc, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise fail(f"nested deeper than {max_depth} levels")
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
    return doc


class DuplicateKeyError(Exception):
    """Internal: a key given twice in one object (turned into the caller's error)."""

    def __init__(self, key: object, where: str) -> None:
        super().__init__(f"duplicate key {key!r}{where}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's ``object_pairs_hook``: a repeated key would silently replace the first."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            keys = ", ".join(dict.fromkeys(k for k, _ in pairs))
            raise DuplicateKeyError(key, f" (in the object with keys {keys})")
        out[key] = value
    return out


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that refuses a mapping key given twice, naming its line."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # unhashable: SafeLoader reports it
                break
            if repeated:
                raise DuplicateKeyError(key, f" (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _parse(name: str, text: str, what: str, error: type[AnchoreError]) -> Any:
    """The document in ``text``; JSON or YAML as :mod:`anchore.documents` says."""

    def fail(message: str) -> AnchoreError:
        return error(f"{name}: {message}", source=name)

    is_yaml = name.endswith((".yaml", ".yml"))
    json_error: ValueError | None = None
    try:
        if not is_yaml:
            try:
                return load_json(text, fail, object_pairs_hook=_no_duplicates)
            except AnchoreError:
                raise  # too deep: YAML would say the same
            except ValueError as exc:
                if name.endswith(".json"):
                    raise fail(f"not valid JSON: {exc}") from None
                json_error = exc
        try:
            return load_yaml(text, fail, loader=_StrictLoader)  # a SafeLoader: plain data only
        except yaml.YAMLError as exc:
            if is_yaml:
                raise fail(f"not valid YAML: {one_line(str(exc))}") from None
            raise fail(
                f"not valid JSON ({json_error}) nor YAML ({one_line(str(exc))}); "
                f"a {what} is JSON, or YAML named .yaml or .yml"
            ) from None
    except DuplicateKeyError as exc:
        raise fail(f"{exc}: the first would be silently replaced; give each key once") from None
    except RecursionError:
        raise fail(f"nested too deeply to be a {what}") from None


def read_document(
    path: str | os.PathLike[str],
    what: str,
    error: type[AnchoreError],
    *,
    not_found: type[AnchoreError] | None = None,
    hint: str = "",
) -> Any:
    """The data in a JSON or YAML file a user wrote, or ``error`` naming the file and ``what``.

    ``what`` says what the file is meant to be (``"ignore file"``, ``"VEX
    document"``, ``"policy bundle"``); a missing file raises ``not_found``
    (default: ``error``) saying ``PATH: no such WHAT``, followed by ``hint``
    (how to give the right path) when there is one. The document may be any
    JSON value except ``null``: its shape is the caller's to check.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise (not_found or error)(
            f"{name}: no such {what}" + (f" ({hint})" if hint else ""), source=name
        ) from None
    except IsADirectoryError:
        raise error(f"{name}: is a directory, not a {what} file", source=name) from None
    except OSError as exc:
        raise error(f"{name}: cannot read the {what}: {exc.strerror or exc}", source=name) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{name}: the {what} is not UTF-8 text ({exc})", source=name) from None
    if not text.strip():
        raise error(f"{name}: the {what} is empty", source=name)
    doc = _parse(name, text, what, error)
    if doc is None:
        raise error(f"{name}: the {what} holds nothing (a null document)", source=name)
    return doc


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice (ignoring case), or ``""``."""
    if not isinstance(word, str):
        return ""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""


def unknown_key_message(
    place: str, key: object, valid: Iterable[str], *, renamed: Mapping[str, str] | None = None
) -> str:
    """``PLACE: unknown key 'rulez' (did you mean 'rules'?); valid keys: id, name, rules``.

    ``renamed`` maps older names to current ones: a key found there (whose new
    name is valid here) is told what to rename it to instead of a guess.
    """
    keys = list(valid)
    new = renamed.get(key) if renamed is not None and isinstance(key, str) else None
    hint = f" (Anchore's older name; use {new!r})" if new in keys else did_you_mean(key, keys)
    return f"{place}: unknown key {key!r}{hint}; valid keys: {', '.join(keys)}"
