"""The image's metadata: platform, container config, history.

Plain values, parsed strictly from the config JSON: a field of the wrong type
is an :class:`~anchore.errors.ImageFormatError` naming the config blob, not a
surprise three calls later.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from anchore.errors import ImageFormatError, InvalidPlatformError
from anchore.serialize import FrozenList, FrozenMap, as_json, frozen_map, to_dict

if TYPE_CHECKING:
    from anchore.image.image import Image, Layer

__all__ = [
    "ContainerConfig",
    "Healthcheck",
    "HistoryEntry",
    "ImageInfo",
    "LayerInfo",
    "Platform",
    "parse_created",
    "platform_of",
]


@attrs.frozen(order=True)
class Platform:
    """``os/architecture[/variant]``, as OCI indexes and configs give it."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``linux/arm64``, ``linux/arm/v7`` or ``linux/amd64``.

        Raises :class:`~anchore.errors.InvalidPlatformError` (a ``ValueError``)
        for anything else.
        """
        parts = text.strip().split("/") if isinstance(text, str) else []
        if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
            raise InvalidPlatformError(
                f"platform {text!r} is not os/architecture[/variant], like linux/amd64 "
                "or linux/arm/v7"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def normalized(self) -> Platform:
        """Fill in the variants runtimes assume (arm64 is v8; arm is v7)."""
        arch = {"x86_64": "amd64", "aarch64": "arm64", "x86-64": "amd64"}.get(
            self.architecture, self.architecture
        )
        variant = self.variant
        if arch == "arm64" and variant in (None, "v8"):
            variant = None
        if arch == "arm" and variant is None:
            variant = "v7"
        return Platform(self.os, arch, variant)

    def matches(self, wanted: Platform) -> bool:
        """Whether this platform satisfies ``wanted`` (no variant wanted: any variant)."""
        mine, theirs = self.normalized(), wanted.normalized()
        if (mine.os, mine.architecture) != (theirs.os, theirs.architecture):
            return False
        return wanted.variant is None or mine.variant == theirs.variant

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def platform_of(raw: Mapping[str, Any], where: str) -> Platform:
    """The platform a config or an index descriptor records (missing parts: ``unknown``)."""
    fields: dict[str, str | None] = {}
    for key in ("os", "architecture", "variant"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ImageFormatError(f"{where}: platform field {key!r} is {value!r}, not a string")
        fields[key] = value or None
    return Platform(
        fields["os"] or "unknown", fields["architecture"] or "unknown", fields["variant"]
    )


def parse_created(value: object, where: str) -> datetime | None:
    """RFC 3339 timestamps as images write them (nanoseconds and ``Z`` included)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ImageFormatError(f"{where}: 'created' is {value!r}, not a timestamp")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:  # fromisoformat takes at most microseconds before Python 3.11
        head, _, rest = text.partition(".")
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ImageFormatError(
            f"{where}: 'created' {value!r} is not an RFC 3339 timestamp"
        ) from None


def _strings(value: Any, field: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # docker accepts a bare string for Cmd/Entrypoint (shell form)
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImageFormatError(f"{where}: config field {field} must be a list of strings")
    return tuple(value)


def _keys(value: Any, field: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ImageFormatError(f"{where}: config field {field} must be an object")
    return tuple(sorted(str(k) for k in value))


def _text(value: Any, field: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ImageFormatError(f"{where}: config field {field} must be a string")
    return value


def _optional_strings(value: Any) -> FrozenList[str] | None:
    return None if value is None else FrozenList(value)


def _key_set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _duration(raw: Mapping[str, Any], key: str, where: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if type(value) is not int or value < 0:
        raise ImageFormatError(
            f"{where}: config field Healthcheck.{key} is {value!r}, not a count of nanoseconds"
        )
    return value


@attrs.frozen(eq=False)
class Healthcheck(Mapping[str, Any]):
    """docker's ``Healthcheck``: typed, and readable as the object was written.

    ``test`` is what decides whether there is one: None or ``()`` inherits the
    base image's, ``("NONE",)`` disables it, else ``("CMD", ...)`` or
    ``("CMD-SHELL", command)``. As a mapping it is docker's object, keys
    spelled as docker writes them (``Test``, ``Interval``...), a key written as
    null included: that is also its JSON. Keys docker may add later are kept in
    ``other``, not lost. Equality and hashing are the mapping's, as for a
    :class:`~anchore.serialize.FrozenMap`: a Healthcheck equals the dict it was
    parsed from.
    """

    #: docker's spelling of each typed field, in docker's order
    KEYS: ClassVar[Mapping[str, str]] = {
        "Test": "test",
        "Interval": "interval",
        "Timeout": "timeout",
        "StartPeriod": "start_period",
        "StartInterval": "start_interval",
        "Retries": "retries",
    }

    #: None when the object has no ``Test`` (docker then inherits the base image's)
    test: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_strings)
    #: nanoseconds, as docker writes them; None when not written
    interval: int | None = None
    timeout: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    retries: int | None = None
    #: keys this version does not model, as written
    other: Mapping[str, Any] = attrs.field(factory=FrozenMap, converter=frozen_map)
    #: the typed keys written as null (docker's spelling): still keys of the mapping
    null_keys: frozenset[str] = attrs.field(default=frozenset(), converter=_key_set)

    @property
    def disabled(self) -> bool:
        """No health check is defined: no test, an empty one, or ``NONE``."""
        return not self.test or self.test[0] == "NONE"

    @classmethod
    def parse(cls, raw: Any, where: str) -> Healthcheck | None:
        """The config's ``Healthcheck`` object (None: none); a malformed one is an error."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ImageFormatError(f"{where}: config field Healthcheck must be an object")
        test = raw.get("Test")
        if test is not None and (
            not isinstance(test, list) or not all(isinstance(t, str) for t in test)
        ):
            raise ImageFormatError(
                f"{where}: config field Healthcheck.Test must be a list of strings"
            )
        retries = raw.get("Retries")
        if retries is not None and (type(retries) is not int or retries < 0):
            raise ImageFormatError(
                f"{where}: config field Healthcheck.Retries is {retries!r}, not a count"
            )
        return cls(
            test=test,
            interval=_duration(raw, "Interval", where),
            timeout=_duration(raw, "Timeout", where),
            start_period=_duration(raw, "StartPeriod", where),
            start_interval=_duration(raw, "StartInterval", where),
            retries=retries,
            other={k: v for k, v in raw.items() if k not in cls.KEYS},
            null_keys=frozenset(k for k in cls.KEYS if k in raw and raw[k] is None),
        )

    def __getitem__(self, key: str) -> Any:
        name = self.KEYS.get(key)
        if name is None:
            return self.other[key]
        value = getattr(self, name)
        if value is None and key not in self.null_keys:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        for key, name in self.KEYS.items():
            if getattr(self, name) is not None or key in self.null_keys:
                yield key
        yield from self.other

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self) == dict(other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(frozenset(self.items()))


@attrs.frozen
class ContainerConfig:
    """How a container of the image runs (the config's ``config`` object)."""

    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    user: str | None = None
    working_dir: str | None = None
    #: like ``("22/tcp", "8080/tcp")``
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: Mapping[str, str] = attrs.field(factory=FrozenMap, converter=frozen_map)
    #: docker's ``Healthcheck`` (typed; as a mapping, the object as written), or None
    healthcheck: Healthcheck | None = None
    stop_signal: str | None = None
    shell: tuple[str, ...] = ()
    on_build: tuple[str, ...] = ()

    @property
    def environment(self) -> dict[str, str]:
        """``env`` as a dict (a later duplicate wins, as in a container)."""
        pairs = (item.partition("=") for item in self.env)
        return {name: value for name, _, value in pairs}

    @classmethod
    def parse(cls, raw: Any, where: str) -> ContainerConfig:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ImageFormatError(f"{where}: 'config' must be an object")
        labels = raw.get("Labels") or {}
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ImageFormatError(f"{where}: config field Labels must map strings to strings")
        return cls(
            env=_strings(raw.get("Env"), "Env", where),
            entrypoint=_strings(raw.get("Entrypoint"), "Entrypoint", where),
            cmd=_strings(raw.get("Cmd"), "Cmd", where),
            user=_text(raw.get("User"), "User", where),
            working_dir=_text(raw.get("WorkingDir"), "WorkingDir", where),
            exposed_ports=_keys(raw.get("ExposedPorts"), "ExposedPorts", where),
            volumes=_keys(raw.get("Volumes"), "Volumes", where),
            labels=labels,
            healthcheck=Healthcheck.parse(raw.get("Healthcheck"), where),
            stop_signal=_text(raw.get("StopSignal"), "StopSignal", where),
            shell=_strings(raw.get("Shell"), "Shell", where),
            on_build=_strings(raw.get("OnBuild"), "OnBuild", where),
        )

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen
class HistoryEntry:
    """One step of the image's build history."""

    created: datetime | None
    created_by: str | None
    author: str | None
    comment: str | None
    #: True for steps that changed only metadata (ENV, CMD...) and made no layer
    empty_layer: bool
    #: the layer this step produced, or None for an empty-layer step
    layer_index: int | None

    @classmethod
    def parse_all(cls, raw: Any, layer_count: int, where: str) -> tuple[HistoryEntry, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise ImageFormatError(f"{where}: 'history' must be a list")
        entries = []
        next_layer = 0
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise ImageFormatError(f"{where}: history entry {i} must be an object")
            empty = bool(item.get("empty_layer", False))
            layer: int | None = None
            if not empty and next_layer < layer_count:
                layer = next_layer
                next_layer += 1
            entries.append(
                cls(
                    created=parse_created(item.get("created"), f"{where} history[{i}]"),
                    created_by=_text(item.get("created_by"), "history.created_by", where),
                    author=_text(item.get("author"), "history.author", where),
                    comment=_text(item.get("comment"), "history.comment", where),
                    empty_layer=empty,
                    layer_index=layer,
                )
            )
        return tuple(entries)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


# ---------------------------------------------------------------- the image's metadata as a value
class _Fields:
    """Strict reads of one object of the JSON shape ``to_dict()`` writes (missing: unknown)."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, Mapping):
            raise ImageFormatError(f"{where}: must be an object, not {type(raw).__name__}")
        self.raw, self.where = raw, where

    def _get(self, key: str, types: type | tuple[type, ...], what: str) -> Any:
        value = self.raw.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise ImageFormatError(f"{self.where}: {key!r} is {value!r}, not {what}")
        return value

    def text(self, key: str) -> str | None:
        return self._get(key, str, "a string")  # type: ignore[no-any-return]

    def count(self, key: str) -> int | None:
        return self._get(key, int, "an integer")  # type: ignore[no-any-return]

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, (list, tuple), "a list of strings") or ()
        if not all(isinstance(v, str) for v in value):
            raise ImageFormatError(f"{self.where}: {key!r} is {value!r}, not a list of strings")
        return tuple(value)

    def known_objects(self, key: str) -> list[Any] | None:
        """A list of objects; None when the key is missing or null (unknown, not empty)."""
        value = self._get(key, (list, tuple), "a list of objects")
        return None if value is None else list(value)

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            raise ImageFormatError(f"{self.where}: {key!r} is {value!r}, not true or false")
        return value


def _config_from_dict(raw: Any, where: str) -> ContainerConfig:
    if raw is None:
        return ContainerConfig()
    r = _Fields(raw, where)
    labels = r._get("labels", Mapping, "an object of strings") or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise ImageFormatError(f"{where}: 'labels' must map strings to strings")
    health = r.raw.get("healthcheck")
    return ContainerConfig(
        env=r.strings("env"),
        entrypoint=r.strings("entrypoint"),
        cmd=r.strings("cmd"),
        user=r.text("user"),
        working_dir=r.text("working_dir"),
        exposed_ports=r.strings("exposed_ports"),
        volumes=r.strings("volumes"),
        labels=labels,
        healthcheck=Healthcheck.parse(
            dict(health) if isinstance(health, Mapping) else health, f"{where} healthcheck"
        ),
        stop_signal=r.text("stop_signal"),
        shell=r.strings("shell"),
        on_build=r.strings("on_build"),
    )


def _history_from_dict(raw: Any, where: str) -> HistoryEntry:
    r = _Fields(raw, where)
    return HistoryEntry(
        created=parse_created(r.text("created"), where),
        created_by=r.text("created_by"),
        author=r.text("author"),
        comment=r.text("comment"),
        empty_layer=r.flag("empty_layer"),
        layer_index=r.count("layer_index"),
    )


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _known_tuple(value: Iterable[Any] | None) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen
class LayerInfo:
    """One layer's metadata: what ``Layer.to_dict()`` and an analysis's ``image.layers`` say."""

    index: int
    #: digest of the blob as stored (compressed, if it is)
    digest: str
    #: digest of the uncompressed tar (the config's rootfs.diff_ids entry)
    diff_id: str
    media_type: str | None = None
    #: ``none``, ``gzip`` or ``zstd``
    compression: str | None = None
    #: bytes of the blob as stored, and of its uncompressed tar (None: not recorded)
    size: int | None = None
    uncompressed_size: int | None = None
    #: how many paths the layer's tar adds or changes, and how many it deletes
    files: int = 0
    whiteouts: int = 0
    #: the history step that made the layer, when the config records it
    created_by: str | None = None

    @classmethod
    def from_layer(cls, layer: Layer) -> LayerInfo:
        return cls(
            index=layer.index,
            digest=layer.digest,
            diff_id=layer.diff_id,
            media_type=layer.media_type,
            compression=layer.compression.value,
            size=layer.size,
            uncompressed_size=layer.uncompressed_size,
            files=len(layer),
            whiteouts=len(layer.whiteouts),
            created_by=layer.history.created_by if layer.history else None,
        )

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> LayerInfo:
        r = _Fields(raw, where)
        return cls(
            index=r.count("index") or 0,
            digest=r.text("digest") or "",
            diff_id=r.text("diff_id") or "",
            media_type=r.text("media_type"),
            compression=r.text("compression"),
            size=r.count("size"),
            uncompressed_size=r.count("uncompressed_size"),
            files=r.count("files") or 0,
            whiteouts=r.count("whiteouts") or 0,
            created_by=r.text("created_by"),
        )

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def _platform_text(platform: Platform) -> str:
    return str(platform)


@attrs.frozen
class ImageInfo:
    """An image's metadata as a value: where it came from, its digests, platform,
    config, history and layers (no file listings). It is ``Analysis.image``, and its
    ``to_dict()`` is ``Image.to_dict()``: the ``image`` object of an analysis's JSON.

    ``history`` and ``layers`` are None when they are not known (an analysis read
    back from JSON that lacks them, or made by hand), not empty: a policy rule on
    the build steps, the layer count or the size then fires as unknown instead of
    passing on nothing. :meth:`from_image` always knows them.
    """

    __json_keys__: ClassVar[tuple[str, ...]] = (
        "source", "format", "reference", "tags", "manifest_digest", "config_digest",
        "platform", "architecture", "os", "variant", "created", "author", "config",
        "history", "layers",
    )  # fmt: skip

    #: the path the image was opened from (the reference, for an image pulled)
    source: str = ""
    #: ``docker-archive``, ``oci-layout``, ``oci-archive`` or ``registry`` ('' when not
    #: known)
    format: str = ""
    #: the tag the image was chosen by (or its first tag), if any
    reference: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    #: digest of the image manifest (None for docker-save archives, which keep none)
    manifest_digest: str | None = None
    config_digest: str = ""
    #: written as ``os/architecture[/variant]``
    platform: Platform = attrs.field(
        factory=lambda: Platform("unknown", "unknown"), metadata=as_json(convert=_platform_text)
    )
    created: datetime | None = None
    author: str | None = None
    config: ContainerConfig = attrs.field(factory=ContainerConfig)
    #: the build steps, oldest first (None: not known; ``()``: the config records none)
    history: tuple[HistoryEntry, ...] | None = attrs.field(default=None, converter=_known_tuple)
    #: the layers, bottom first (None: not known)
    layers: tuple[LayerInfo, ...] | None = attrs.field(default=None, converter=_known_tuple)

    @property
    def architecture(self) -> str:
        return self.platform.architecture

    @property
    def os(self) -> str:
        return self.platform.os

    @property
    def variant(self) -> str | None:
        return self.platform.variant

    @property
    def size(self) -> int | None:
        """Bytes of the uncompressed layers; None when the layers are not known or a
        layer has no recorded size."""
        if self.layers is None:
            return None
        sizes = [layer.uncompressed_size for layer in self.layers]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)

    @classmethod
    def from_image(cls, image: Image) -> ImageInfo:
        """The metadata of an opened image."""
        return cls(
            source=image.source,
            format=image.format,
            reference=image.reference,
            tags=tuple(image.tags),
            manifest_digest=image.manifest_digest,
            config_digest=image.config_digest,
            platform=image.platform,
            created=image.created,
            author=image.author,
            config=image.config,
            history=image.history,
            layers=tuple(LayerInfo.from_layer(layer) for layer in image.layers),
        )

    @classmethod
    def from_dict(cls, raw: Any, where: str = "the analysis's image") -> ImageInfo:
        """Read back the JSON ``to_dict()`` writes; what is missing is unknown (``{}``: all).

        A missing (or null) ``history`` or ``layers`` is None, not empty. A value of
        the wrong type is an :class:`~anchore.errors.ImageFormatError`.
        """
        r = _Fields(raw, where)
        history, layers = r.known_objects("history"), r.known_objects("layers")
        platform = Platform(r.text("os") or "unknown", r.text("architecture") or "unknown",
                            r.text("variant"))  # fmt: skip
        return cls(
            source=r.text("source") or "",
            format=r.text("format") or "",
            reference=r.text("reference"),
            tags=r.strings("tags"),
            manifest_digest=r.text("manifest_digest"),
            config_digest=r.text("config_digest") or "",
            platform=platform,
            created=parse_created(r.text("created"), where),
            author=r.text("author"),
            config=_config_from_dict(r.raw.get("config"), f"{where} config"),
            history=None
            if history is None
            else [_history_from_dict(h, f"{where} history[{i}]") for i, h in enumerate(history)],
            layers=None
            if layers is None
            else [LayerInfo.from_dict(x, f"{where} layers[{i}]") for i, x in enumerate(layers)],
        )

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def image_info(value: ImageInfo | Mapping[str, Any]) -> ImageInfo:
    """A field converter: an :class:`ImageInfo`, or the JSON of one read back."""
    return value if isinstance(value, ImageInfo) else ImageInfo.from_dict(value)
