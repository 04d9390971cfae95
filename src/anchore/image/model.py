"""The image's metadata: platform, container config, history.

Plain values, parsed strictly from the config JSON: a field of the wrong type
is an :class:`~anchore.errors.ImageFormatError` naming the config blob, not a
surprise three calls later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from anchore.errors import ImageFormatError, InvalidPlatformError

__all__ = ["ContainerConfig", "HistoryEntry", "Platform", "parse_created", "platform_of"]


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
    labels: Mapping[str, str] = attrs.field(factory=dict)
    #: docker's ``Healthcheck`` object as written (``Test``, ``Interval``...), or None
    healthcheck: Mapping[str, Any] | None = None
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
        health = raw.get("Healthcheck")
        if health is not None and not isinstance(health, dict):
            raise ImageFormatError(f"{where}: config field Healthcheck must be an object")
        return cls(
            env=_strings(raw.get("Env"), "Env", where),
            entrypoint=_strings(raw.get("Entrypoint"), "Entrypoint", where),
            cmd=_strings(raw.get("Cmd"), "Cmd", where),
            user=_text(raw.get("User"), "User", where),
            working_dir=_text(raw.get("WorkingDir"), "WorkingDir", where),
            exposed_ports=_keys(raw.get("ExposedPorts"), "ExposedPorts", where),
            volumes=_keys(raw.get("Volumes"), "Volumes", where),
            labels=dict(labels),
            healthcheck=health,
            stop_signal=_text(raw.get("StopSignal"), "StopSignal", where),
            shell=_strings(raw.get("Shell"), "Shell", where),
            on_build=_strings(raw.get("OnBuild"), "OnBuild", where),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": list(self.env),
            "entrypoint": list(self.entrypoint),
            "cmd": list(self.cmd),
            "user": self.user,
            "working_dir": self.working_dir,
            "exposed_ports": list(self.exposed_ports),
            "volumes": list(self.volumes),
            "labels": dict(self.labels),
            "healthcheck": dict(self.healthcheck) if self.healthcheck is not None else None,
            "stop_signal": self.stop_signal,
            "shell": list(self.shell),
            "on_build": list(self.on_build),
        }


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
        return {
            "created": self.created.isoformat() if self.created else None,
            "created_by": self.created_by,
            "author": self.author,
            "comment": self.comment,
            "empty_layer": self.empty_layer,
            "layer_index": self.layer_index,
        }
