"""How two images differ: packages, files, setuid/setgid bits and the container config.

:func:`diff` compares an analysis ``a`` (before) with ``b`` (after) and returns one
:class:`DiffRow` per difference. Packages are keyed by (type, name) and a changed
version carries its direction in the ecosystem's own ordering
(:mod:`anchore.versions`); a version that ordering cannot parse is direction
``unknown``, never a guess. Files are keyed by path and need both analyses' file
inventories (:attr:`~anchore.Analysis.files_known`): without them the file part is
an :class:`~anchore.query.errors.UnanswerableQueryError`, not an empty answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from anchore import ecosystems
from anchore.analysis.model import Analysis, FileRecord, Package
from anchore.image.filetree import FileType
from anchore.image.model import ContainerConfig
from anchore.query.errors import QueryParamError, UnanswerableQueryError
from anchore.query.evidence import require_config, require_packages
from anchore.query.filters import scheme_of
from anchore.versions import VersionError, compare

__all__ = [
    "CHANGES",
    "DIRECTIONS",
    "KINDS",
    "DiffRow",
    "diff",
    "direction",
    "image_label",
    "parse_kinds",
]

#: what a row is about
KINDS = ("package", "file", "setuid", "config")
#: what happened to it, from ``a`` to ``b``
CHANGES = ("added", "removed", "changed")
#: a package version's move from ``a`` to ``b`` in its ecosystem's ordering
DIRECTIONS = ("upgrade", "downgrade", "same", "unknown")

#: the setuid and setgid bits of a FileRecord's mode
_SPECIAL_BITS = {"setuid": 0o4000, "setgid": 0o2000}


@attrs.frozen
class DiffRow:
    """One difference between image ``a`` (before) and image ``b`` (after)."""

    #: ``package``, ``file``, ``setuid`` (a setuid or setgid bit) or ``config``
    kind: str
    #: ``added`` (only in ``b``), ``removed`` (only in ``a``) or ``changed``
    change: str
    #: the package name, the file's path, or the config item (``user``, ``cmd``,
    #: ``env:NAME``, ``label:KEY``, ``port:22/tcp``, ``volume:/data``...)
    name: str
    #: the package type (``deb``, ``python``...), the file's type (``file``,
    #: ``symlink``...), the bit (``setuid`` or ``setgid``); None for config
    type: str | None = None
    #: the version / the value in ``a`` (None: absent there)
    before: str | None = None
    #: the version / the value in ``b`` (None: absent there)
    after: str | None = None
    #: packages whose version changed: ``upgrade``, ``downgrade``, ``same`` (equal in
    #: the ecosystem's ordering though spelled differently) or ``unknown`` (the
    #: versions do not compare); None for other rows
    direction: str | None = None
    #: what changed, in words (a file's ``size 10 -> 12; mode 0644 -> 0755``...)
    detail: str = ""
    #: the layer of ``b`` (else of ``a``, for a removal) that holds the evidence
    layer_index: int | None = None


def image_label(analysis: Analysis) -> str:
    """A stable name for an image in rows: its reference (else first tag, else the path
    it was read from) and the start of its manifest digest (else its config digest)."""
    info = analysis.image
    name = info.reference or (info.tags[0] if info.tags else None) or info.source or "?"
    digest = info.manifest_digest or info.config_digest
    return f"{name}@{digest[:19]}" if digest else name


def parse_kinds(text: str) -> frozenset[str]:
    """``package,config`` -> the kinds of rows wanted; a :class:`QueryParamError` (a
    ValueError) for an unknown one."""
    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    unknown = sorted(kinds - set(KINDS))
    if unknown or not kinds:
        raise QueryParamError(
            f"unknown kind {', '.join(unknown) or '(none)'}: the kinds are {', '.join(KINDS)}"
        )
    return kinds


def direction(package_type: str, before: str, after: str) -> str:
    """``upgrade``, ``downgrade`` or ``same`` from ``before`` to ``after`` in the ecosystem's
    ordering; ``unknown`` when it has none or either version does not parse in it."""
    try:
        order = compare(scheme_of(package_type), before, after)
    except VersionError:  # no ordering for the type, or a version it cannot parse
        return "unknown"
    return "upgrade" if order < 0 else "downgrade" if order > 0 else "same"


def diff(a: Analysis, b: Analysis, kind: Iterable[str] | str | None = None) -> list[DiffRow]:
    """What changed from image ``a`` to image ``b``: packages, files, setuid/setgid bits and
    config, or only the ``kind`` given (one kind, several, or ``package,config``; an
    empty or unknown one is a :class:`QueryParamError`).

    The package part needs both sides' package evidence (every ecosystem's analyzer
    ran, none failed): an image whose dpkg analyzer failed has not "removed" its debs.
    The file and setuid parts need both file inventories; an analysis without one (an
    SBOM that lists no files) raises :class:`UnanswerableQueryError` naming it. The
    config part needs both configs (an SBOM may carry none:
    :func:`~anchore.query.evidence.require_config`).
    """
    if kind is None:
        kinds = frozenset(KINDS)
    else:
        kinds = parse_kinds(kind if isinstance(kind, str) else ",".join(kind))
    rows: list[DiffRow] = []
    if "package" in kinds:
        for side in (a, b):
            require_packages(side, None, "diff")
        rows.extend(package_diff(a.packages, b.packages))
    if kinds & {"file", "setuid"}:
        for side in (a, b):
            if not side.files_known:
                raise UnanswerableQueryError(
                    f"{image_label(side)} ({side.origin}) has no file inventory: its file and "
                    "setuid changes cannot be compared; ask for kind=package,config only"
                )
        old = {f.path: f for f in a.files}
        new = {f.path: f for f in b.files}
        if "file" in kinds:
            rows.extend(file_diff(old, new, _layer_ids(a), _layer_ids(b)))
        if "setuid" in kinds:
            rows.extend(special_bits_diff(old, new))
    if "config" in kinds:
        for side in (a, b):
            require_config(side, "diff")
        rows.extend(config_diff(a.image.config, b.image.config))
    return rows


# ---------------------------------------------------------------- packages
def package_key(p: Package) -> tuple[str, str]:
    """The identity of a package across images: its type and its name as its ecosystem
    compares names (PEP 503 for python: ``typing_extensions`` is ``typing-extensions``)."""
    row = ecosystems.find(p.type)
    return (p.type, row.name_key(p.name) if row is not None else p.name)


def _by_key(packages: Iterable[Package]) -> dict[tuple[str, str], dict[str, Package]]:
    found: dict[tuple[str, str], dict[str, Package]] = {}
    for p in packages:
        found.setdefault(package_key(p), {}).setdefault(p.version, p)
    return found


def package_diff(before: Iterable[Package], after: Iterable[Package]) -> Iterator[DiffRow]:
    """Packages added, removed and changed, keyed by :func:`package_key` (type and name
    as the ecosystem compares names); a ``changed`` row shows the name as ``after``
    spells it.

    A name with one version on each side that differ is one ``changed`` row with its
    direction; versions present on both sides are unchanged; any other versions of a
    name (several copies) are ``added`` and ``removed`` rows of their own.
    """
    old, new = _by_key(before), _by_key(after)
    for key in sorted(old.keys() | new.keys()):
        type_ = key[0]
        was, now = old.get(key, {}), new.get(key, {})
        gone = [v for v in was if v not in now]
        came = [v for v in now if v not in was]
        if len(gone) == 1 and len(came) == 1:
            v0, v1 = gone[0], came[0]
            move = direction(type_, v0, v1)
            yield DiffRow(
                "package", "changed", now[v1].name, type_, v0, v1, move,
                f"{v0} -> {v1} ({move})", _layer(now[v1]),
            )  # fmt: skip
            continue
        for v in gone:
            p = was[v]
            yield DiffRow("package", "removed", p.name, type_, v, None, None, "", _layer(p))
        for v in came:
            p = now[v]
            yield DiffRow("package", "added", p.name, type_, None, v, None, "", _layer(p))


def _layer(p: Package) -> int | None:
    return p.layer_index if p.locations else None


# ---------------------------------------------------------------- files
def _layer_ids(analysis: Analysis) -> Sequence[str] | None:
    layers = analysis.image.layers
    return None if layers is None else [layer.diff_id for layer in layers]


def _digest_change(f0: FileRecord, f1: FileRecord) -> str | None:
    """The digest that differs (an algorithm both have), ``""`` when they agree, None when
    no algorithm is known on both sides."""
    common = sorted(set(f0.digests) & set(f1.digests))
    if not common:
        return None
    algo = common[0]
    d0, d1 = f0.digests[algo], f1.digests[algo]
    return "" if d0 == d1 else f"{algo} {d0[:12]} -> {d1[:12]}"


def _same_layer(
    f0: FileRecord, f1: FileRecord, ids0: Sequence[str] | None, ids1: Sequence[str] | None
) -> bool:
    """Whether both copies come from the same layer blob (same diff_id): then their
    content is the same bytes."""
    if ids0 is None or ids1 is None:
        return False
    if not (0 <= f0.layer_index < len(ids0) and 0 <= f1.layer_index < len(ids1)):
        return False
    return ids0[f0.layer_index] == ids1[f1.layer_index]


def file_changes(
    f0: FileRecord,
    f1: FileRecord,
    ids0: Sequence[str] | None = None,
    ids1: Sequence[str] | None = None,
) -> list[str]:
    """What differs between two records of one path, in words (empty: nothing known).

    Content is compared by digest when both have one; without digests a file written
    by a different layer blob in each image is reported as ``content not compared``
    (it may or may not differ: we do not say it is the same).
    """
    out = []
    if f0.type != f1.type:
        out.append(f"type {f0.type} -> {f1.type}")
    if f0.size != f1.size:
        out.append(f"size {f0.size} -> {f1.size}")
    if f0.mode != f1.mode:
        out.append(f"mode {f0.mode:04o} -> {f1.mode:04o}")
    if f0.uid != f1.uid or f0.gid != f1.gid:
        out.append(f"owner {f0.uid}:{f0.gid} -> {f1.uid}:{f1.gid}")
    if f0.link_target != f1.link_target:
        out.append(f"link {f0.link_target} -> {f1.link_target}")
    digest = _digest_change(f0, f1)
    if digest:
        out.append(f"digest {digest}")
    elif (
        digest is None
        and not out
        and f1.type in ("file", "hardlink")
        and not _same_layer(f0, f1, ids0, ids1)
    ):
        out.append(
            f"rewritten (layer {f0.layer_index} -> {f1.layer_index}); content not compared: "
            "no digests"
        )
    return out


def file_diff(
    old: Mapping[str, FileRecord],
    new: Mapping[str, FileRecord],
    ids0: Sequence[str] | None = None,
    ids1: Sequence[str] | None = None,
) -> Iterator[DiffRow]:
    """Paths added, removed and changed (``ids0``/``ids1``: each image's layer diff_ids,
    which tell a copy from the same layer blob from a rewritten one)."""
    for path in sorted(old.keys() | new.keys()):
        f0, f1 = old.get(path), new.get(path)
        if f0 is None and f1 is not None:
            yield DiffRow("file", "added", path, f1.type, None, _summary(f1), None, "",
                          f1.layer_index)  # fmt: skip
        elif f1 is None and f0 is not None:
            yield DiffRow("file", "removed", path, f0.type, _summary(f0), None, None, "",
                          f0.layer_index)  # fmt: skip
        elif f0 is not None and f1 is not None:
            what = file_changes(f0, f1, ids0, ids1)
            if what:
                yield DiffRow("file", "changed", path, f1.type, _summary(f0), _summary(f1),
                              None, "; ".join(what), f1.layer_index)  # fmt: skip


def _summary(f: FileRecord) -> str:
    link = f" -> {f.link_target}" if f.link_target else ""
    return f"{f.type} {f.mode:04o} {f.uid}:{f.gid} {f.size}{link}"


def special_bits_diff(
    old: Mapping[str, FileRecord], new: Mapping[str, FileRecord]
) -> Iterator[DiffRow]:
    """Setuid and setgid bits of regular files (and hard links) gained (``added``: a new
    such file, or the bit set) and lost (``removed``: the file gone, or the bit cleared).
    Directories are left out, as the setuid query leaves them out: setgid on a directory
    (``/var/mail``) is group inheritance, not privilege."""
    for path in sorted(old.keys() | new.keys()):
        f0, f1 = (_privileged(old.get(path)), _privileged(new.get(path)))
        for bit, mask in _SPECIAL_BITS.items():
            had = f0 is not None and bool(f0.mode & mask)
            has = f1 is not None and bool(f1.mode & mask)
            if had == has:
                continue
            why = (
                ("new file" if f0 is None else "bit set")
                if has
                else ("file removed" if f1 is None else "bit cleared")
            )
            held = f1 if has else f0
            yield DiffRow(
                "setuid", "added" if has else "removed", path, bit,
                None if f0 is None else f"{f0.mode:04o}", None if f1 is None else f"{f1.mode:04o}",
                None, why, held.layer_index if held else None,
            )  # fmt: skip


def _privileged(f: FileRecord | None) -> FileRecord | None:
    """The record when its mode bits can grant privilege (a regular file or hard link)."""
    return f if f is not None and f.type in _EXECUTABLE_TYPES else None


_EXECUTABLE_TYPES = frozenset({FileType.FILE.value, FileType.HARDLINK.value})


# ---------------------------------------------------------------- config
def _text(value: Any) -> str | None:
    if value is None or value == ():
        return None
    return value if isinstance(value, str) else json.dumps(list(value))


def _items(config: ContainerConfig) -> dict[str, str | None]:
    """The config as named items, each compared on its own."""
    items: dict[str, str | None] = {
        "user": config.user,
        "working_dir": config.working_dir,
        "entrypoint": _text(config.entrypoint),
        "cmd": _text(config.cmd),
        "stop_signal": config.stop_signal,
        "shell": _text(config.shell),
        "healthcheck": json.dumps(dict(config.healthcheck), sort_keys=True)
        if config.healthcheck is not None
        else None,
    }
    items.update({f"env:{k}": v for k, v in config.environment.items()})
    items.update({f"label:{k}": v for k, v in config.labels.items()})
    items.update({f"port:{p}": p for p in config.exposed_ports})
    items.update({f"volume:{v}": v for v in config.volumes})
    return items


def config_diff(before: ContainerConfig, after: ContainerConfig) -> Iterator[DiffRow]:
    """Config items added, removed and changed: env vars, labels, exposed ports and
    volumes one by one; user, working dir, entrypoint, cmd, stop signal, shell and
    health check as wholes (a list is shown as its JSON)."""
    old, new = _items(before), _items(after)
    for name in sorted(old.keys() | new.keys()):
        v0, v1 = old.get(name), new.get(name)
        if v0 == v1:
            continue
        change = "added" if v0 is None else "removed" if v1 is None else "changed"
        yield DiffRow("config", change, name, None, v0, v1, None, "")
