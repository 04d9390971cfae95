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
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from anchore.errors import AnchoreError

__all__ = ["DuplicateKeyError", "did_you_mean", "read_document", "unknown_key_message"]


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


def _yaml_loader() -> type:
    import yaml

    class StrictLoader(yaml.SafeLoader):  # type: ignore[misc]
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

    return StrictLoader


def _one_line(text: object) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _parse(name: str, text: str, what: str, error: type[AnchoreError]) -> Any:
    """The document in ``text``; JSON or YAML as :mod:`anchore.documents` says."""
    import yaml

    def fail(message: str) -> AnchoreError:
        return error(f"{name}: {message}", source=name)

    is_yaml = name.endswith((".yaml", ".yml"))
    json_error: ValueError | None = None
    try:
        if not is_yaml:
            try:
                return json.loads(text, object_pairs_hook=_no_duplicates)
            except ValueError as exc:
                if name.endswith(".json"):
                    raise fail(f"not valid JSON: {exc}") from None
                json_error = exc
        try:
            return yaml.load(text, Loader=_yaml_loader())  # a SafeLoader: plain data only
        except yaml.YAMLError as exc:
            if is_yaml:
                raise fail(f"not valid YAML: {_one_line(exc)}") from None
            raise fail(
                f"not valid JSON ({json_error}) nor YAML ({_one_line(exc)}); "
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
