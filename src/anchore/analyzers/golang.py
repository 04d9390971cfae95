"""Go modules: build info read from ELF binaries, and ``go.mod`` files.

Only the few bytes that matter are read from a binary (its ELF, Mach-O or PE
header, section table and ``.go.buildinfo`` section), through a seekable
stream: a 50 MB executable costs a few kilobytes of reads. That holds where a
seek is free, in uncompressed layers (docker-save archives): each executable is
opened and sniffed in place. In a compressed layer a seek means inflating up to
it, so the small executables are read whole in one forward pass instead (the
inflating is the cost either way) and sniffed from their first bytes.
"""

from __future__ import annotations

import functools
import io
import json
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.budget import about
from anchore.analysis.kit import out_of_time
from anchore.analysis.model import AnalyzerError, Location, Package
from anchore.analyzers.common import make_cpe, package_purl
from anchore.analyzers.ecosystems import crate_package
from anchore.analyzers.lockfiles import installed_package_root, is_version, unversioned_error
from anchore.image.compression import Compression
from anchore.plugins import hookimpl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["BuildInfo", "GoAnalyzer", "read_buildinfo"]

_MAGIC = b"\xff Go buildinf:"
_ELF = b"\x7fELF"
_MAX_SECTIONS = 4096
_MAX_BUILDINFO = 8 * 1024 * 1024
#: in compressed layers, executables up to this size are read whole in one forward pass;
#: larger ones by seeking
_WHOLE_READ_MAX = 4 * 1024 * 1024


class BuildInfo:
    """What ``go version -m`` prints: toolchain, main module, dependencies, settings."""

    def __init__(self, go_version: str, modinfo: str) -> None:
        self.go_version = go_version
        self.path: str | None = None
        self.main: tuple[str, str, str] | None = None
        self.deps: list[tuple[str, str, str]] = []
        self.settings: dict[str, str] = {}
        for line in modinfo.splitlines():
            fields = line.split("\t")
            if fields[0] == "path" and len(fields) > 1:
                self.path = fields[1]
            elif fields[0] == "mod" and len(fields) > 2:
                self.main = (fields[1], fields[2], fields[3] if len(fields) > 3 else "")
            elif fields[0] == "dep" and len(fields) > 2:
                self.deps.append((fields[1], fields[2], fields[3] if len(fields) > 3 else ""))
            elif fields[0] == "=>" and len(fields) > 2 and self.deps:
                # the replacement of the dependency above
                self.deps[-1] = (fields[1], fields[2], fields[3] if len(fields) > 3 else "")
            elif fields[0] == "build" and len(fields) > 1 and "=" in fields[1]:
                key, _, value = fields[1].partition("=")
                self.settings[key] = value


def _read_at(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            break
    raise ValueError("bad varint in Go build info")


def _elf_sections(fh: BinaryIO) -> tuple[list[tuple[str, int, int, int]], str, int]:
    """(name, address, offset, size) of every section; endianness; pointer size."""
    ident = _read_at(fh, 0, 64)
    if not ident.startswith(_ELF) or len(ident) < 52:
        raise ValueError("not an ELF file")
    is64 = ident[4] == 2
    endian = "<" if ident[5] == 1 else ">"
    if is64:
        (shoff,) = struct.unpack_from(endian + "Q", ident, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", ident, 0x3A)
        fmt = endian + "IIQQQQIIQQ"
    else:
        (shoff,) = struct.unpack_from(endian + "I", ident, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", ident, 0x2E)
        fmt = endian + "IIIIIIIIII"
    if not 0 < shnum <= _MAX_SECTIONS or shentsize < struct.calcsize(fmt):
        return [], endian, 8 if is64 else 4
    table = _read_at(fh, shoff, shentsize * shnum)
    raw = []
    for i in range(shnum):
        fields = struct.unpack_from(fmt, table, i * shentsize)
        raw.append((fields[0], fields[3], fields[4], fields[5]))  # name, addr, offset, size
    if shstrndx >= len(raw):
        return [], endian, 8 if is64 else 4
    _, _, str_off, str_size = raw[shstrndx]
    names = _read_at(fh, str_off, min(str_size, 1 << 20))
    sections = []
    for name_off, addr, offset, size in raw:
        end = names.find(b"\0", name_off)
        sections.append((names[name_off:end].decode("latin-1"), addr, offset, size))
    return sections, endian, 8 if is64 else 4


_MACHO = {
    b"\xcf\xfa\xed\xfe": ("<", True),
    b"\xce\xfa\xed\xfe": ("<", False),
    b"\xfe\xed\xfa\xcf": (">", True),
    b"\xfe\xed\xfa\xce": (">", False),
}
_MAX_LOAD_COMMANDS = 4096


def _macho_sections(fh: BinaryIO) -> list[tuple[str, int, int, int]]:
    """(name, address, offset, size) of a thin Mach-O file's sections."""
    header = _read_at(fh, 0, 32)
    endian, is64 = _MACHO[header[:4]]
    ncmds, sizeofcmds = struct.unpack_from(endian + "II", header, 16)
    if ncmds > _MAX_LOAD_COMMANDS or sizeofcmds > 16 * 1024 * 1024:
        raise ValueError("implausible Mach-O load commands")
    commands = _read_at(fh, 32 if is64 else 28, sizeofcmds)
    sections, pos = [], 0
    for _ in range(ncmds):
        if pos + 8 > len(commands):
            break
        cmd, size = struct.unpack_from(endian + "II", commands, pos)
        if size < 8:
            break
        if (is64 and cmd == 0x19) or (not is64 and cmd == 0x1):
            seg_size, sect_size = (72, 80) if is64 else (56, 68)
            (nsects,) = struct.unpack_from(endian + "I", commands, pos + seg_size - 8)
            for i in range(min(nsects, 1024)):
                at = pos + seg_size + i * sect_size
                if at + sect_size > len(commands):
                    break
                name = commands[at : at + 16].split(b"\0", 1)[0].decode("latin-1")
                if is64:
                    addr, size_, offset = struct.unpack_from(endian + "QQI", commands, at + 32)
                else:
                    addr, size_, offset = struct.unpack_from(endian + "III", commands, at + 32)
                sections.append((name, addr, offset, size_))
        pos += size
    return sections


def _pe_sections(fh: BinaryIO) -> list[tuple[str, int, int, int]]:
    """(name, virtual address, offset, size) of a PE file's sections."""
    (lfanew,) = struct.unpack_from("<I", _read_at(fh, 0x3C, 4))
    coff = _read_at(fh, lfanew, 24)
    if coff[:4] != b"PE\0\0":
        raise ValueError("not a PE file")
    nsections, optsize = struct.unpack_from("<H12xH", coff, 6)
    table = _read_at(fh, lfanew + 24 + optsize, 40 * min(nsections, 96))
    sections = []
    for i in range(len(table) // 40):
        name = table[i * 40 : i * 40 + 8].split(b"\0", 1)[0].decode("latin-1")
        vaddr, rawsize, rawptr = struct.unpack_from("<4xIII", table, i * 40 + 8)
        sections.append((name, vaddr, rawptr, rawsize))
    return sections


def binary_sections(fh: BinaryIO) -> list[tuple[str, int, int, int]]:
    """Sections of an ELF, Mach-O or PE executable; [] for anything else."""
    head = _read_at(fh, 0, 4)
    if head == _ELF:
        return _elf_sections(fh)[0]
    if head in _MACHO:
        return _macho_sections(fh)
    if head[:2] == b"MZ":
        return _pe_sections(fh)
    return []


def read_rust_audit(
    fh: BinaryIO, sections: list[tuple[str, int, int, int]]
) -> list[dict[str, Any]]:
    """Crates a cargo-auditable binary lists in its ``.dep-v0`` section (zlib-compressed JSON)."""
    section = next((s for s in sections if s[0] == ".dep-v0"), None)
    if section is None:
        return []
    _, _, offset, size = section
    inflater = zlib.decompressobj()
    text = inflater.decompress(_read_at(fh, offset, min(size, _MAX_BUILDINFO)), _MAX_BUILDINFO)
    doc = json.loads(text)
    return [p for p in doc.get("packages", []) if isinstance(p, dict)]


def read_buildinfo(
    fh: BinaryIO, sections: list[tuple[str, int, int, int]] | None = None
) -> BuildInfo | None:
    """The Go build info of an ELF binary, or None if it is not a Go binary."""
    if sections is None:
        sections = binary_sections(fh)
    # ELF: .go.buildinfo; Mach-O: __go_buildinfo; PE: the start of .data
    section = next((s for s in sections if s[0] in (".go.buildinfo", "__go_buildinfo")), None)
    if section is None:
        section = next((s for s in sections if s[0] == ".data"), None)
    if section is None:
        return None
    _, _, offset, size = section
    data = _read_at(fh, offset, min(size, _MAX_BUILDINFO))
    if not data.startswith(_MAGIC) or len(data) < 32:
        return None
    ptr_size, flags = data[14], data[15]
    if flags & 2:  # Go 1.18+: version and modinfo inline, varint-prefixed
        n, pos = _uvarint(data, 32)
        version = data[pos : pos + n].decode("utf-8", "replace")
        pos += n
        n, pos = _uvarint(data, pos)
        modinfo = data[pos : pos + n]
    else:  # older: pointers to Go string headers
        order = "<" if not flags & 1 else ">"
        fmt = order + ("Q" if ptr_size == 8 else "I")
        version_ptr = struct.unpack_from(fmt, data, 16)[0]
        mod_ptr = struct.unpack_from(fmt, data, 16 + ptr_size)[0]
        version = _go_string(fh, sections, version_ptr, fmt, ptr_size)
        modinfo = _go_string(fh, sections, mod_ptr, fmt, ptr_size).encode("utf-8", "replace")
    if len(modinfo) >= 33 and modinfo[-17:-16] == b"\n":
        modinfo = modinfo[16:-16]  # strip the sentinels around the text
    return BuildInfo(version, modinfo.decode("utf-8", "replace"))


def _go_string(
    fh: BinaryIO, sections: list[tuple[str, int, int, int]], vaddr: int, fmt: str, ptr_size: int
) -> str:
    def at(address: int, size: int) -> bytes:
        for _, addr, offset, length in sections:
            if addr and addr <= address < addr + length:
                return _read_at(fh, offset + address - addr, size)
        return b""

    header = at(vaddr, 2 * ptr_size)
    if len(header) < 2 * ptr_size:
        return ""
    data_ptr, length = (
        struct.unpack_from(fmt, header, 0)[0],
        struct.unpack_from(fmt, header, ptr_size)[0],
    )
    return at(data_ptr, min(length, _MAX_BUILDINFO)).decode("utf-8", "replace")


#: after ``-X``: the separator, then the ``importpath.name`` it sets
_LDFLAGS_KEY = re.compile(r"\s*(?:=\s*)?['\"]?([\w./-]*)")
#: after the ``=``: the value, a version
_LDFLAGS_VALUE = re.compile(r"['\"]?v?([0-9][^'\"\s]*)")
_VERSION_NAMES = (".version", ".Version", ".gitVersion")


def ldflags_version(ldflags: str) -> str | None:
    """The version the first ``-X importpath.version=VALUE`` (``.Version``,
    ``.gitVersion``) of ``ldflags`` sets, if VALUE is a version (``v``, then a digit).

    One pass: the name after each ``-X`` is the run of name characters there, and
    it must end in ``.version=``; an ``-X`` inside a name that did not is not
    looked at again (the same run would end the same way), so a long run of
    ``-X-X-X...`` costs its length once, not its square (a regex search rescans
    it from every ``-X``). Only an ``-X`` that ends a name is looked at again:
    after it may come ``=`` and a name of its own.
    """
    at = ldflags.find("-X")
    while at >= 0:
        key = _LDFLAGS_KEY.match(ldflags, at + 2)
        end = key.end() if key else at + 2
        if key and key.group(1).endswith(_VERSION_NAMES) and ldflags.startswith("=", end):
            value = _LDFLAGS_VALUE.match(ldflags, end + 1)
            if value:
                return "v" + value.group(1)
        # the next -X: past this name, but one ending the name starts a name of its own
        at = ldflags.find("-X", end - 2 if end - 2 > at and key and key.group(1) else end)
    return None


def main_version(info: BuildInfo) -> str | None:
    """The main module's version; ``(devel)`` builds often carry it in their ldflags."""
    if info.main is None:
        return None
    version = info.main[1]
    if version and version != "(devel)":
        return version
    return ldflags_version(info.settings.get("-ldflags", "")) or version or None


def _go_package(path: str, version: str, location: Location, **metadata: Any) -> Package:
    namespace, _, name = path.rpartition("/")
    return Package(
        type="go-module",
        name=path,
        version=version,
        purl=package_purl("go-module", name, version, namespace=namespace or None),
        locations=(location,),
        metadata={k: v for k, v in metadata.items() if v},
    )


def _is_binary(head: bytes) -> bool:
    return head == _ELF or head in _MACHO or head[:2] == b"MZ"


def _seek_is_free(f: FileInput, context: AnalysisContext) -> bool:
    """Whether ``f``'s bytes lie in an uncompressed layer, where a seek reads nothing.

    A hard link whose target the image lacks also goes this way: opening it
    reports it, for this file alone.
    """
    layer = f.entry.data_location[0]
    layers = context.image.layers
    return not 0 <= layer < len(layers) or layers[layer].compression is Compression.NONE


class GoAnalyzer:
    """Go build info (and cargo-auditable crate lists) from ELF, Mach-O and PE executables;
    go.mod files."""

    name = "golang"
    #: executables can be anywhere and have any name: every file is offered, read only
    #: when it starts like an ELF file; nothing is prefetched
    patterns: Sequence[str] = ("**", "go.mod")
    prefetch = False

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        executables = []
        for f in files:
            if f.path.endswith("/go.mod"):
                if installed_package_root(f.path) is not None:
                    continue  # a dependency's own go.mod (module cache, vendor/, GOROOT)
                yield from self.parse_go_mod(f)
            elif (
                f.entry.size >= 1024
                and (f.entry.mode & 0o111 or f.path.lower().endswith((".exe", ".dll")))
                and not f.entry.sparse
            ):
                executables.append(f)  # Go binaries are executables of some size
        in_place: set[int] = set()
        whole, large = [], []
        for f in executables:
            if _seek_is_free(f, context):
                in_place.add(id(f))  # sniffed and read where it lies, a few KB each
            elif f.entry.size <= _WHOLE_READ_MAX:
                whole.append(f)
            else:
                large.append(f)
        # past the analyzer's time the binaries left are one error naming the limit
        late = functools.partial(context.deadlines.expired, self.name)
        left: list[FileInput] = []
        done: dict[int, list[Result]] = {}
        by_entry = {id(f.entry): f for f in whole}
        for entry, data in context.stream([f.entry for f in whole]):
            f = by_entry[id(entry)]
            if late():
                left.append(f)
            elif _is_binary(data[:4]):
                opener = functools.partial(io.BytesIO, data)
                done[id(entry)] = list(self._binary(f, opener))
        # results in layer and archive order, wherever each binary was read
        for f in sorted(executables, key=lambda f: f.entry.data_location):
            if id(f.entry) in done:
                yield from done[id(f.entry)]
            elif id(f) in in_place:
                if late():
                    left.append(f)
                else:
                    yield from self._binary(f, f.open)
        heads = context.read_heads([f.entry for f in large], 4) if not late() else {}
        for f in large:
            if late():
                left.append(f)
            elif _is_binary(heads.get(f.path, b"")):
                yield from self._binary(f, f.open)
        if left:
            yield out_of_time(context, self.name, left)

    def parse_go_mod(self, f: FileInput) -> list[Result]:
        """A go.mod's packages, or one error naming it and the problem."""
        try:
            return list(self._go_mod(f))
        except Exception as exc:
            return [AnalyzerError(self.name, about(f.path, exc), f.path)]

    def _binary(self, f: FileInput, opener: Callable[[], BinaryIO]) -> Iterator[Result]:
        """What one executable's build info lists (nothing when it is not a binary).

        Each module and crate on its own (:meth:`FileInput.each`): one the build info
        spells wrongly (no path, a path no purl can hold) is one error naming it.
        """
        try:
            with opener() as fh:
                sections = binary_sections(fh)
                info = read_buildinfo(fh, sections) if sections else None
                crates = read_rust_audit(fh, sections)
        except Exception as exc:
            yield AnalyzerError(self.name, about(f.path, exc), f.path)
            return
        if info is not None or crates:
            location = f.location
        if info is not None:
            yield from self._packages(info, f, location)
        if crates:

            def crate(item: dict[str, Any]) -> Package | None:
                name, version = item.get("name"), item.get("version")
                if not isinstance(name, str) or not isinstance(version, str):
                    return None
                source = item.get("source")
                return crate_package(
                    name,
                    version,
                    location,
                    source=source if isinstance(source, str) else None,
                    evidence="cargo-auditable",
                )

            yield from f.each(crates, crate, describe=lambda c: f"crate {c.get('name')!r}")

    def _packages(self, info: BuildInfo, f: FileInput, location: Location) -> Iterator[Result]:
        arch = info.settings.get("GOARCH")
        if info.main is not None and info.main[0]:

            def main(module: tuple[str, str, str]) -> Package | None:
                version = main_version(info)
                if not version:
                    return None
                return _go_package(
                    module[0],
                    version,
                    location,
                    go_version=info.go_version,
                    main=True,
                    h1_digest=module[2],
                    architecture=arch,
                    settings=info.settings,
                )

            yield from f.each([info.main], main, describe=lambda m: f"main module {m[0]!r}")

        def dep(module: tuple[str, str, str]) -> Package:
            path, version, digest = module
            return _go_package(
                path, version, location, go_version=info.go_version, h1_digest=digest
            )

        yield from f.each(info.deps, dep, describe=lambda m: f"module {m[0]!r}")
        if info.go_version.startswith("go"):

            def stdlib(go_version: str) -> Package:
                stdlib_version = go_version.split()[0]
                return Package(
                    type="go-module",
                    name="stdlib",
                    version=stdlib_version,
                    purl=package_purl("go-module", "stdlib", stdlib_version[2:]),
                    locations=(location,),
                    cpes=(make_cpe("golang", "go", stdlib_version[2:]),),
                    metadata={"go_version": go_version},
                )

            yield from f.each([info.go_version], stdlib, describe=lambda v: f"toolchain {v!r}")

    _REQUIRE = re.compile(r"^\s*(?:require\s+)?([^\s()]+)\s+(v[^\s/]+)(?:\s*//.*)?$")

    def _go_mod(self, f: FileInput) -> Iterator[Result]:
        """A go.mod's requirements, declared: a manifest, not what a binary was built with
        (binaries report that, and an installed module beats a declared one)."""
        in_block = False
        replaced: dict[str, tuple[str, str]] = {}
        required: list[tuple[str, str]] = []
        for raw in f.lines():
            line = raw.split("//", 1)[0].strip() if "// indirect" not in raw else raw.strip()
            if line.startswith(("require (", "require(")):
                in_block = True
                continue
            if in_block and line.startswith(")"):
                in_block = False
                continue
            if line.startswith("replace ") and "=>" in line:
                left, right = line[len("replace ") :].split("=>", 1)
                parts, old = right.split(), left.split()
                if len(parts) == 2 and old:
                    replaced[old[0]] = (parts[0], parts[1])
                continue
            if in_block or line.startswith("require "):
                match = self._REQUIRE.match(line.split("//", 1)[0])
                if match:
                    required.append((match.group(1), match.group(2)))
        location = f.location
        bad = []

        def requirement(required: tuple[str, str]) -> Package | None:
            path, version = replaced.get(required[0], required)
            if not is_version("go", version):
                bad.append(f"{path}@{version}")
                return None
            pkg = _go_package(path, version, location, source="go.mod", lock=f.path)
            return attrs.evolve(pkg, declared=True)

        yield from f.each(required, requirement, describe=lambda r: f"requirement {r[0]!r}")
        error = unversioned_error(self.name, f.path, bad)
        if error is not None:
            yield error


@hookimpl
def anchore_analyzers() -> list[GoAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [GoAnalyzer()]
