"""The shapes of an image's JSON documents, checked before any field is used.

An image's ``manifest.json``, ``repositories``, ``oci-layout``, image indexes,
image manifests and configs come from whoever built the image. Each is parsed
with a bound on its nesting (the C ``json`` module recurses, so a document of
a million ``[`` would otherwise end in a ``RecursionError``) and then checked
against its shape here, once: after that, the readers can take a descriptor's
``size`` to be an int and a platform's ``variant`` to be a string. A document
that does not fit is an :class:`~anchore.errors.ImageFormatError` naming the
file, the field and what was wrong with it::

    image.tar!index.json: manifests[0].platform.variant is a list, not a string

The shapes follow the OCI image spec and docker's formats: keys the spec does
not name (and keys we never read) may hold anything; a null is taken as the
key missing, as docker's own writers emit nulls for empty fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, cast

import attrs

from anchore.documents import load_json
from anchore.errors import ImageFormatError, LimitExceededError
from anchore.limits import Limits

__all__ = [
    "CONFIG",
    "INDEX",
    "LAYOUT",
    "MANIFEST",
    "SAVE_MANIFEST",
    "SAVE_REPOSITORIES",
    "Shape",
    "load_document",
    "parse_json",
]


# ---------------------------------------------------------------- parsing with a depth bound
def parse_json(data: bytes, where: str, limits: Limits) -> Any:
    """Parse one document, refusing nesting deeper than ``limits.max_json_depth``
    (counted by :func:`anchore.documents.load_json`, the bound every JSON anchore reads has)."""
    try:
        return load_json(data, lambda _: _too_deep(where, limits), max_depth=limits.max_json_depth)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageFormatError(f"{where}: malformed JSON ({exc})") from None


def _too_deep(where: str, limits: Limits) -> LimitExceededError:
    return LimitExceededError(
        f"{where}: arrays and objects nest deeper than max_json_depth={limits.max_json_depth}",
        limit="max_json_depth",
        member=where,
    )


# ---------------------------------------------------------------- shapes
def _kind(value: Any) -> str:
    """How a message names what was found."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return f"the number {value!r}" if len(repr(value)) < 24 else "a number"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _join(path: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


class Shape:
    """What one JSON value must be; :meth:`check` raises naming ``path`` when it is not."""

    #: how messages name what was expected
    expected: str = "a value"

    def check(self, value: Any, path: str, where: str) -> None:
        raise NotImplementedError  # pragma: no cover - every shape has its own

    def fail(self, value: Any, path: str, where: str) -> ImageFormatError:
        return ImageFormatError(
            f"{where}: {path or 'the document'} is {_kind(value)}, not {self.expected}"
        )


@attrs.frozen
class _Scalar(Shape):
    types: tuple[type, ...]
    expected: str
    #: the least a number may be (sizes and counts are never negative)
    minimum: int | None = None

    def check(self, value: Any, path: str, where: str) -> None:
        if not isinstance(value, self.types) or (
            isinstance(value, bool) and bool not in self.types
        ):
            raise self.fail(value, path, where)
        least = self.minimum
        if least is not None and cast(int, value) < least:
            raise ImageFormatError(f"{where}: {path} is {value!r}, not {self.expected}")


STRING = _Scalar((str,), "a string")
COUNT = _Scalar((int,), "a whole number of 0 or more", minimum=0)
INTEGER = _Scalar((int,), "a whole number")
FLAG = _Scalar((bool,), "true or false")


@attrs.frozen
class Either(Shape):
    """One of several shapes (docker's ``Cmd`` is a list of strings or one string)."""

    shapes: tuple[Shape, ...]

    @property
    def expected(self) -> str:  # type: ignore[override]
        return " or ".join(s.expected for s in self.shapes)

    def check(self, value: Any, path: str, where: str) -> None:
        for shape in self.shapes:
            try:
                shape.check(value, path, where)
            except ImageFormatError:
                continue
            return
        raise self.fail(value, path, where)


@attrs.frozen
class ListOf(Shape):
    item: Shape

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "a list"

    def check(self, value: Any, path: str, where: str) -> None:
        if not isinstance(value, list):
            raise self.fail(value, path, where)
        item = self.item
        if item is STRING and all(type(v) is str for v in value):
            return  # the common case, at C speed
        for i, v in enumerate(value):
            item.check(v, f"{path}[{i}]", where)


@attrs.frozen
class MapOf(Shape):
    """An object with keys of any name, each value of one shape."""

    value: Shape | None = None
    expected: str = "an object"

    def check(self, value: Any, path: str, where: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(value, path, where)
        shape = self.value
        if shape is None or (shape is STRING and all(type(v) is str for v in value.values())):
            return
        for key, v in value.items():
            shape.check(v, _join(path, key), where)


@attrs.frozen
class Obj(Shape):
    """An object with named fields (others may hold anything); ``required`` must be there."""

    fields: Mapping[str, Shape]
    required: frozenset[str] = frozenset()
    expected: str = "an object"

    def check(self, value: Any, path: str, where: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(value, path, where)
        for key in self.required:
            if value.get(key) is None:
                raise ImageFormatError(f"{where}: {_join(path, key)} is missing")
        for key, shape in self.fields.items():
            v = value.get(key)
            if v is not None:
                shape.check(v, _join(path, key), where)


def _obj(required: tuple[str, ...] = (), **fields: Shape) -> Obj:
    """An object shape; a field named with ``__`` stands for a dotted key (``os__version``)."""
    named = {key.replace("__", "."): shape for key, shape in fields.items()}
    return Obj(named, frozenset(required))


STRINGS = ListOf(STRING)
ANNOTATIONS = MapOf(STRING, "an object of strings")

PLATFORM = _obj(
    architecture=STRING,
    os=STRING,
    variant=STRING,
    os__version=STRING,
    os__features=STRINGS,
    features=STRINGS,
)
DESCRIPTOR = _obj(
    ("digest", "size"),
    mediaType=STRING,
    digest=STRING,
    size=COUNT,
    urls=STRINGS,
    annotations=ANNOTATIONS,
    platform=PLATFORM,
    artifactType=STRING,
    data=STRING,
)
#: an OCI image index (or docker manifest list)
INDEX = _obj(
    ("manifests",),
    schemaVersion=INTEGER,
    mediaType=STRING,
    artifactType=STRING,
    manifests=ListOf(DESCRIPTOR),
    subject=DESCRIPTOR,
    annotations=ANNOTATIONS,
)
#: an OCI image manifest (or docker's v2 schema 2 manifest)
MANIFEST = _obj(
    ("config", "layers"),
    schemaVersion=INTEGER,
    mediaType=STRING,
    artifactType=STRING,
    config=DESCRIPTOR,
    layers=ListOf(DESCRIPTOR),
    subject=DESCRIPTOR,
    annotations=ANNOTATIONS,
)
#: the ``oci-layout`` file
LAYOUT = _obj(("imageLayoutVersion",), imageLayoutVersion=STRING)

_NANOSECONDS = COUNT
_HEALTHCHECK = _obj(
    Test=STRINGS,
    Interval=_NANOSECONDS,
    Timeout=_NANOSECONDS,
    StartPeriod=_NANOSECONDS,
    StartInterval=_NANOSECONDS,
    Retries=COUNT,
)
_COMMAND = Either((STRINGS, STRING))  # docker accepts a bare string (shell form)
_CONTAINER = _obj(
    Env=STRINGS,
    Entrypoint=_COMMAND,
    Cmd=_COMMAND,
    User=STRING,
    WorkingDir=STRING,
    ExposedPorts=MapOf(),
    Volumes=MapOf(),
    Labels=ANNOTATIONS,
    Healthcheck=_HEALTHCHECK,
    StopSignal=STRING,
    Shell=STRINGS,
    OnBuild=STRINGS,
)
_HISTORY = _obj(created=STRING, created_by=STRING, author=STRING, comment=STRING, empty_layer=FLAG)
#: an image config: the fields the image model reads
CONFIG = _obj(
    ("rootfs",),
    architecture=STRING,
    os=STRING,
    variant=STRING,
    os__version=STRING,
    created=STRING,
    author=STRING,
    config=_CONTAINER,
    rootfs=_obj(("diff_ids",), type=STRING, diff_ids=STRINGS),
    history=ListOf(_HISTORY),
)
#: docker save's ``manifest.json``: one entry per image
SAVE_MANIFEST = ListOf(
    _obj(
        ("Config", "Layers"),
        Config=STRING,
        RepoTags=STRINGS,
        Layers=STRINGS,
        Parent=STRING,
        LayerSources=MapOf(_obj(mediaType=STRING, digest=STRING, size=COUNT, urls=STRINGS)),
    )
)
#: docker save's legacy ``repositories``: {repository: {tag: top layer id}}
SAVE_REPOSITORIES = MapOf(MapOf(STRING, "an object of strings"))


def load_document(data: bytes, where: str, limits: Limits, shape: Shape) -> Any:
    """Parse ``data`` (depth-bounded) and check it has ``shape``; ``where`` names the file."""
    document = parse_json(data, where, limits)
    shape.check(document, "", where)
    return document
