"""Hostile language-ecosystem content: each case an image built here, analyzed confined.

Classes (issue 10): parsers that went quadratic on file content (METADATA, MANIFEST.MF
continuation lines); regexes that backtracked on long lines and many newlines (gemspecs,
Gemfile.lock platforms, yarn.lock fields, Go ``-ldflags``, the secrets rules, composer
versions, jar names, pom properties); nested archives (40 wide and 4 deep, too deep, zip
bombs, names with ``..``); bad records that emptied a whole lock file or binary; XML
entities in poms. Every case runs in a child bounded in time and memory
(:func:`confine.run_confined`) that must write nothing outside its temp directory, and
asserts what is reported: the good records, and an error entry naming the file, the
record or the limit. Each old parser took minutes to hours on its case (or lost the
good records).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

import pytest

from confine import run_confined
from imagebuilder import build, f, oci_archive

#: analyze the image at PATH with the analyzers NAMES (and LIMITS, Limits fields)
ANALYZE = """
import anchore
with anchore.open_image(PATH, limits=anchore.Limits(**LIMITS)) as image:
    a = anchore.analyze(image, analyzers=NAMES)
result = {
    "packages": sorted([p.type, p.name, p.version] for p in a.packages),
    "errors": [[e.analyzer, e.path, e.message] for e in a.errors],
    "findings": sorted([x.rule, x.line] for x in a.findings),
}
"""


def analyze(tmp_path, files, names, *, seconds=60, memory_mib=1536, **limits):
    """The confined analysis of an image of ``files`` (path -> bytes, or (bytes, mode))."""
    members = []
    for path, data in files.items():
        content, mode = data if isinstance(data, tuple) else (data, 0o644)
        members.append(f(path.lstrip("/"), content, mode=mode))
    image = oci_archive(tmp_path / "img.tar", build([members], "gzip"))
    out = run_confined(
        ANALYZE,
        seconds=seconds,
        memory_mib=memory_mib,
        watch=[image],
        PATH=image,
        NAMES=list(names),
        LIMITS=limits,
    )
    result = out.assert_no_error()
    result["seconds"] = out.seconds
    result["peak_mib"] = out.peak_mib
    return result


def packages(result, kind=None):
    return {(name, version) for t, name, version in result["packages"] if kind in (None, t)}


def messages(result):
    return [message for _, _, message in result["errors"]]


# ---------------------------------------------------------------- quadratic parsers
METADATA = "Metadata-Version: 2.1\nName: victim\nVersion: 1.0\n"
SITE = "/usr/lib/python3.11/site-packages"


@pytest.mark.parametrize(
    "header",
    [
        "Classifier: x\n" + "  continued\n" * 1_000_000,  # a million continuation lines
        "Classifier: x\n" * 1_000_000,  # a key repeated a million times
    ],
    ids=["continuations", "repeated-key"],
)
@pytest.mark.parametrize("where", ["dist-info/METADATA", "egg-info/PKG-INFO"])
def test_python_metadata_header_is_parsed_in_linear_time(tmp_path, header, where):
    """Before: each continuation copied the growing value (hours for a million lines)."""
    kind, base = where.split("/")
    path = f"{SITE}/victim-1.0.{kind}/{base}"
    result = analyze(tmp_path, {path: (METADATA + header + "\nbody\n").encode()}, ["python"])
    assert packages(result) == {("victim", "1.0")}
    assert result["errors"] == []
    assert result["seconds"] < 30


def test_python_metadata_line_limit_is_an_error_naming_it(tmp_path):
    path = f"{SITE}/victim-1.0.dist-info/METADATA"
    data = (METADATA + "Summary: " + "x" * 5000 + "\n").encode()
    result = analyze(tmp_path, {path: data}, ["python"], max_line_bytes=1000)
    assert packages(result) == set()
    (message,) = messages(result)
    assert path in message and "max_line_bytes" in message


def test_a_record_file_over_the_limits_costs_only_the_file_list(tmp_path):
    directory = f"{SITE}/victim-1.0.dist-info"
    files = {
        f"{directory}/METADATA": METADATA.encode(),
        f"{directory}/RECORD": b"victim/__init__.py,,\n" * 2000,
    }
    result = analyze(tmp_path, files, ["python"], max_text_lines=1000)
    assert packages(result) == {("victim", "1.0")}
    (message,) = messages(result)
    assert f"{directory}/RECORD" in message and "max_text_lines" in message


def _jar(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def _props(group: str, artifact: str, version: str) -> dict[str, bytes]:
    text = f"groupId={group}\nartifactId={artifact}\nversion={version}\n"
    return {f"META-INF/maven/{group}/{artifact}/pom.properties": text.encode()}


def test_jar_manifest_continuations_are_linear(tmp_path):
    """Before: each of 1.3 million continuation lines copied the growing value."""
    manifest = b"Manifest-Version: 1.0\nImplementation-Title: x\n" + b" y\n" * 1_300_000
    jar = _jar({"META-INF/MANIFEST.MF": manifest, **_props("org.v", "victim", "1.0")})
    result = analyze(tmp_path, {"/opt/victim-1.0.jar": jar}, ["java"])
    assert packages(result) == {("victim", "1.0")}
    assert result["seconds"] < 30


# ---------------------------------------------------------------- backtracking regexes
GEMS = "/usr/local/bundle/specifications"
GEMSPEC = 'Gem::Specification.new do |s|\n  s.name = "victim".freeze\n  s.version = "1.0"\n'


@pytest.mark.parametrize(
    "spec",
    [
        "\n" * 300_000 + GEMSPEC,  # many newlines: ^\s* under re.M rescanned the run
        GEMSPEC + '  s.homepage = "h" ' + " " * 100_000 + "x\n",  # (.+?)\s*$ on a long line
        GEMSPEC + '  s.authors = ["' + '\\"' * 100_000 + "\n",  # an unclosed string of escapes
    ],
    ids=["newlines", "long-line", "unclosed-string"],
)
def test_gemspecs_are_read_in_linear_time(tmp_path, spec):
    result = analyze(tmp_path, {f"{GEMS}/victim-1.0.gemspec": spec.encode()}, ["ruby"])
    assert packages(result) == {("victim", "1.0")}
    assert result["seconds"] < 30


def test_gemfile_lock_platform_suffix_is_linear(tmp_path):
    lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    good (2.0)\n"
    lock += "    victim (1" + "-x86-" * 40_000 + "!)\n"
    result = analyze(tmp_path, {"/app/Gemfile.lock": lock.encode()}, ["ruby"])
    assert ("good", "2.0") in packages(result)
    assert result["seconds"] < 30


def test_yarn_lock_field_lines_are_linear(tmp_path):
    """Before: a field line of 5000 spaces took 9 minutes (three overlapping quantifiers)."""
    lock = 'good@^1.0.0:\n  version "1.0.0"\n\nvictim@^2:\n  version ' + " " * 100_000
    lock += '"2.0.0"x\n  resolved "https://r/victim-2.0.0.tgz"\n'
    result = analyze(tmp_path, {"/app/yarn.lock": lock.encode()}, ["npm"])
    assert ("good", "1.0.0") in packages(result)
    assert result["seconds"] < 30


@pytest.mark.parametrize("tail", ["1" * 40 + "x", "1." * 50_000 + "x"], ids=["digits", "dots"])
def test_composer_versions_are_checked_in_linear_time(tmp_path, tail):
    """Before: the composer version syntax backtracked exponentially (40 digits: hours)."""
    doc = {
        "packages": [
            {"name": "good/one", "version": "1.0.0"},
            {"name": "evil/victim", "version": "1rc" + tail},
        ]
    }
    result = analyze(tmp_path, {"/app/composer.lock": json.dumps(doc).encode()}, ["php-composer"])
    assert packages(result) == {("good/one", "1.0.0")}
    assert any("evil/victim" in m for m in messages(result))  # no real version: listed
    assert result["seconds"] < 30


SECRET_LINE = b"db_password = hunter2hunter2\n"


@pytest.mark.parametrize(
    "content",
    [
        b"password\n" + b"\n" * 900_000 + SECRET_LINE,  # many newlines after a keyword
        b"passwordpassword" * 50_000 + b"x\n" + SECRET_LINE,  # one long key of keywords
        b" " * 900_000 + b"\n" + SECRET_LINE,  # a long line of spaces
    ],
    ids=["newlines", "long-key", "spaces"],
)
def test_secret_rules_are_linear_and_report_the_right_line(tmp_path, content):
    """Before: the generic-password rule rescanned every blank line from every line start
    (and reported the first blank line), and every key from every keyword in it."""
    result = analyze(tmp_path, {"/etc/app/app.conf": content}, ["secrets"])
    line = content.count(b"\n")
    assert ["generic-password", line] in result["findings"]
    assert result["seconds"] < 30


def go_elf(modinfo: str) -> bytes:
    """A little ELF holding only a Go 1.18+ ``.go.buildinfo`` section with ``modinfo``."""

    def uvarint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    text = bytes(16) + modinfo.encode() + bytes(16)
    go = b"go1.22.1"
    info = b"\xff Go buildinf:" + bytes([8, 2]) + bytes(16)
    info += uvarint(len(go)) + go + uvarint(len(text)) + text
    names = b"\0.go.buildinfo\0.shstrtab\0"
    info_off = 64 + 1024
    str_off = info_off + len(info)
    sh_off = (str_off + len(names) + 7) // 8 * 8
    head = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    head += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, sh_off, 0, 64, 0, 0, 64, 3, 2)
    body = head + bytes(1024) + info + names
    body += bytes(sh_off - len(body))

    def section(name: int, kind: int, addr: int, offset: int, size: int) -> bytes:
        return struct.pack("<IIQQQQIIQQ", name, kind, 0, addr, offset, size, 0, 0, 1, 0)

    body += section(0, 0, 0, 0, 0) + section(1, 1, 0x1000, info_off, len(info))
    return body + section(15, 3, 0, str_off, len(names))


@pytest.mark.parametrize(
    "ldflags",
    ["-X" * 200_000, "-X" + " " * 400_000, "-X " + "a-X" * 130_000 + "=1"],
    ids=["many-X", "spaces", "long-name"],
)
def test_go_ldflags_are_read_in_linear_time(tmp_path, ldflags):
    """Before: 20,000 characters of ``-X`` took 17 s and 400,000 hours."""
    modinfo = (
        "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
        "dep\tgithub.com/good/dep\tv1.2.3\th1:x=\n"
        f"build\t-ldflags={ldflags} -X main.version=4.5.6\n"
    )
    binary = go_elf(modinfo)
    result = analyze(tmp_path, {"/usr/bin/app": (binary, 0o755)}, ["golang"])
    found = packages(result)
    assert ("github.com/good/dep", "v1.2.3") in found
    assert ("example.com/app", "v4.5.6") in found
    assert result["seconds"] < 30


def test_jar_names_and_pom_properties_are_linear(tmp_path):
    """A nested jar named with 30,000 ``-1`` (64 KiB names are allowed in a zip) and a
    pom.xml whose version is 200,000 ``${``: both rescanned from every start before."""
    inner = _jar({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n"})
    pom = (
        b"<project><groupId>org.v</groupId><artifactId>victim</artifactId><version>"
        + b"${" * 200_000
        + b"</version></project>"
    )
    outer = _jar(
        {
            "lib/a" + "-1" * 30_000 + ".jar!.jar": inner,
            "META-INF/maven/org.v/victim/pom.xml": pom,
            **_props("org.v", "victim", "1.0"),
        }
    )
    result = analyze(tmp_path, {"/opt/victim-1.0.jar": outer}, ["java"])
    assert ("victim", "1.0") in packages(result)
    assert result["seconds"] < 30


# ---------------------------------------------------------------- nested archives
def _nested(width: int, depth: int) -> bytes:
    """A jar holding ``width`` copies of a jar holding ``width``... ``depth`` levels down,
    a leaf with a pom.properties at the bottom: small, since each level deflates well."""
    level = _jar(_props("org.leaf", "leaf", "1.0"))
    for _ in range(depth):
        level = _jar({f"lib/n{i}.jar": level for i in range(width)})
    return level


def test_nested_jars_40_wide_and_4_deep_stop_at_max_archives_opened(tmp_path):
    """Before: 2.5 million archives opened (hours). Now one error names the limit and the
    archive, the leaves found before it still count, and the next jar is one error."""
    bomb = _nested(40, 4)
    assert len(bomb) < 4 << 20
    files = {"/opt/bomb.jar": bomb, "/opt/zz-after.jar": _jar(_props("org.a", "after", "1"))}
    result = analyze(tmp_path, files, ["java"], seconds=120)
    assert ("leaf", "1.0") in packages(result)
    errors = messages(result)
    assert len(errors) == 2, errors
    assert errors[0].startswith("/opt/bomb.jar:") and "max_archives_opened" in errors[0]
    assert (
        errors[1].startswith("/opt/zz-after.jar: not read") and "max_archives_opened" in errors[1]
    )


def test_a_low_max_archives_opened_is_enforced_across_files(tmp_path):
    files = {f"/opt/app{i}.jar": _nested(5, 1) for i in range(4)}
    result = analyze(tmp_path, files, ["java"], max_archives_opened=10)
    errors = messages(result)
    assert any(m.startswith("/opt/app1.jar:") and "max_archives_opened" in m for m in errors)
    assert any("/opt/app2.jar and 1 more archive(s): not read" in m for m in errors)


def test_archives_deeper_than_max_archive_depth_are_one_error(tmp_path):
    level = _jar(_props("org.x", "level7", "7"))
    for depth in range(6, 0, -1):
        level = _jar({**_props("org.x", f"level{depth}", str(depth)), "lib/in.jar": level})
    result = analyze(tmp_path, {"/opt/deep.jar": level}, ["java"])
    assert {name for name, _ in packages(result)} == {f"level{i}" for i in range(1, 6)}
    (message,) = messages(result)
    assert "lib/in.jar" in message and "max_archive_depth" in message


def _lying_size(jar: bytes, name: str, size: int) -> bytes:
    """``jar`` with ``name``'s declared uncompressed size set to ``size`` (both headers)."""
    data = bytearray(jar)
    encoded = name.encode()
    at = data.find(b"PK\x03\x04")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 26)[0]
        if data[at + 30 : at + 30 + length] == encoded:
            struct.pack_into("<I", data, at + 22, size)
        at = data.find(b"PK\x03\x04", at + 4)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == encoded:
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def test_a_nested_jar_inflating_past_its_declared_size_is_one_error(tmp_path):
    """A zip bomb inside a jar: it declares 1000 bytes and inflates to 512 MiB; at most
    the declared size is inflated (then the CRC fails), in bounded memory."""
    bomb = _lying_size(_jar({"lib/bomb.jar": bytes(512 << 20)}), "lib/bomb.jar", 1000)
    outer = _jar({**_props("org.v", "victim", "1.0"), "lib/inner.jar": bomb})
    result = analyze(tmp_path, {"/opt/victim-1.0.jar": outer}, ["java"], memory_mib=1024)
    assert ("victim", "1.0") in packages(result)
    (message,) = messages(result)
    assert "lib/inner.jar:lib/bomb.jar" in message


def test_nested_jars_declaring_huge_sizes_are_skipped_or_bounded(tmp_path):
    inner = _jar({"pad": bytes(2 << 20), **_props("org.i", "inner", "1")}, zipfile.ZIP_STORED)
    entries = {f"lib/n{i}.jar": inner for i in range(12)}
    outer = _jar({**_props("org.v", "victim", "1.0"), **entries})
    huge = _lying_size(outer, "lib/n0.jar", 3 << 30)
    result = analyze(tmp_path, {"/opt/victim-1.0.jar": huge}, ["java"], max_read_bytes=8 << 20)
    assert ("victim", "1.0") in packages(result)
    errors = messages(result)
    assert any("lib/n0.jar: nested archive of 3221225472 bytes skipped" in m for m in errors)
    assert any("max_read_bytes" in m for m in errors)
    assert len(errors) == 2  # the limit reported once, then the nested reading stops


# ---------------------------------------------------------------- zip directories
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")


def _directory_zip(count: int, *, stated: int | None = None, name: bytes = b"a") -> bytes:
    """A zip that is only a central directory of ``count`` entries named ``name`` (zip64
    records past 65535; ``stated`` is the count its end records claim): all zipfile
    parses when it opens one, 47 bytes an entry, a 64 MiB one lists 1.4 million."""
    entry = _CENTRAL.pack(
        b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
    )
    directory = (entry + name) * count
    stated = count if stated is None else stated
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(stated, 0xFFFF),
                      min(stated, 0xFFFF), min(len(directory), 0xFFFFFFFF), 0, 0)  # fmt: skip
    if stated <= 0xFFFF and count <= 0xFFFF:
        return directory + end
    zip64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, stated, stated,
                        len(directory), 0)  # fmt: skip
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(directory), 1)
    return directory + zip64 + locator + end


def test_an_archive_listing_more_than_max_archive_entries_is_one_error(tmp_path):
    """Before: any number of entries was parsed (a ZipInfo each). Now, past the limit, one
    error names the archive and the limit; the other archives still count."""
    files = {
        "/opt/big-1.0.jar": _directory_zip(1001),
        "/opt/fine-1.0.jar": _directory_zip(1000),
        "/opt/victim-1.0.jar": _jar(_props("org.v", "victim", "1.0")),
    }
    result = analyze(tmp_path, files, ["java"], max_archive_entries=1000)
    assert packages(result) == {("fine", "1.0"), ("victim", "1.0")}
    (message,) = messages(result)
    assert message.startswith("/opt/big-1.0.jar: not read: its directory lists 1001 members")
    assert "Limits.max_archive_entries (1000)" in message


@pytest.mark.parametrize("stated", [None, 1], ids=["stated", "understated"])
def test_a_nested_archive_listing_a_million_entries_is_refused_in_bounded_memory(tmp_path, stated):
    """A 64 MiB nested jar listing 1.4 million entries (its end record saying so, or
    claiming one: zipfile parses the directory whatever it states). Before: every entry
    parsed, past 400 MiB (the outer jar lost too when it claimed one). Now it is refused
    before zipfile reads it, and the outer jar counts."""
    inner = _directory_zip(1_400_000, stated=stated)
    outer = _jar({**_props("org.v", "victim", "1.0"), "lib/inner.jar": inner})
    assert len(outer) < 1 << 20
    result = analyze(tmp_path, {"/opt/victim-1.0.jar": outer}, ["java"], memory_mib=400)
    assert packages(result) == {("victim", "1.0")}
    (message,) = messages(result)
    assert message.startswith("/opt/victim-1.0.jar:lib/inner.jar: not read: its directory")
    assert "1400000 members" in message and "max_archive_entries" in message
    assert result["peak_mib"] < 350, result["peak_mib"]  # ~60 at rest, the 64 MiB member read


def test_nested_archives_count_the_entries_of_the_archives_they_are_inside(tmp_path):
    """The ZipInfos held at once (an archive and those it is inside) stay within the
    limit, whatever the depth; a refused archive costs only itself."""
    inner = _jar({**{f"pad/{i}": b"" for i in range(600)}, **_props("org.i", "deep", "2")})
    fine = _jar(_props("org.s", "sibling", "3"))
    outer = _jar({**_props("org.v", "victim", "1.0"), "lib/a.jar": inner, "lib/b.jar": fine})
    outer = _jar({f"pad/{i}": b"" for i in range(500)} | {"lib/outer.jar": outer})
    result = analyze(tmp_path, {"/opt/app.jar": outer}, ["java"], max_archive_entries=1000)
    assert {"victim", "sibling"} <= {name for name, _ in packages(result)}
    assert "deep" not in {name for name, _ in packages(result)}
    (message,) = messages(result)
    assert message.startswith("/opt/app.jar:lib/outer.jar:lib/a.jar: not read")
    assert "(with the 504 of the archives it is inside)" in message


def test_entry_names_with_dotdot_are_never_extracted(tmp_path):
    """The confinement checks nothing appears outside the private temp dir or beside the
    image; nothing is extracted at all."""
    inner = _jar(_props("org.i", "inner", "2.0"))
    outer = _jar(
        {
            **_props("org.v", "victim", "1.0"),
            "../../../../../../tmp/evil.jar": inner,
            "/abs/evil2.jar": inner,
            "../../x/META-INF/maven/a/b/pom.properties": b"groupId=a\nartifactId=b\nversion=1",
        }
    )
    result = analyze(tmp_path, {"/opt/victim-1.0.jar": outer}, ["java"])
    assert {("victim", "1.0"), ("inner", "2.0")} <= packages(result)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]><project><groupId>&lol9;</groupId><artifactId>victim</artifactId>"
    b"<version>1.0</version></project>"
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<project><groupId>&x;</groupId><artifactId>victim</artifactId>"
    b"<version>1.0</version></project>"
)


@pytest.mark.parametrize("pom", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external"])
def test_poms_declaring_entities_are_not_read(tmp_path, pom):
    jar = _jar({"META-INF/maven/org.v/victim/pom.xml": pom})
    result = analyze(tmp_path, {"/opt/victim-1.0.jar": jar}, ["java"])
    (package,) = result["packages"]
    assert package[1:] == ["victim", "1.0"]  # from the file name: the pom was refused
    assert result["seconds"] < 30


# ---------------------------------------------------------------- per-record isolation
def _good_and(bad: dict, *, version: str = "3") -> dict:
    return {
        "lockfileVersion": int(version),
        "packages": {
            "": {"name": "app"},
            "node_modules/good": {"version": "1.0.0"},
            **bad,
            "node_modules/also-good": {"version": "2.0.0"},
        },
    }


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"node_modules/slash": {"name": "/", "version": "1.0.0"}}, "'/'"),
        ({"node_modules/intname": {"name": 7, "version": "1.0.0"}}, "node_modules/intname"),
        ({"node_modules/listspec": ["not", "an", "object"]}, "node_modules/listspec"),
        ({"node_modules/badlic": {"version": "1.0.0", "licenses": 5}}, "node_modules/badlic"),
    ],
    ids=["slash-name", "int-name", "list-spec", "int-licenses"],
)
def test_a_bad_package_lock_record_costs_only_itself(tmp_path, bad, named):
    """Before: the whole lock file was one error (or a purl error emptied it)."""
    doc = json.dumps(_good_and(bad)).encode()
    result = analyze(tmp_path, {"/app/package-lock.json": doc}, ["npm"])
    assert packages(result) == {("good", "1.0.0"), ("also-good", "2.0.0")}
    (message,) = messages(result)
    assert message.startswith("/app/package-lock.json: ") and named in message


def test_a_bad_v1_lock_dependency_costs_only_itself(tmp_path):
    doc = {
        "lockfileVersion": 1,
        "dependencies": {
            "good": {"version": "1.0.0", "dependencies": {"deep": {"version": "3.0.0"}}},
            "bad": 5,
            "badversion": {"version": ["1"]},
        },
    }
    result = analyze(tmp_path, {"/app/package-lock.json": json.dumps(doc).encode()}, ["npm"])
    assert packages(result) == {("good", "1.0.0"), ("deep", "3.0.0")}
    assert len(messages(result)) == 2


PNPM = """lockfileVersion: '6.0'
packages:
  /left-pad@1.3.0:
    resolution: {integrity: sha512-x}
    dev: false
"""


@pytest.mark.parametrize(
    "deep",
    ["[" * 100_000, "- " * 100_000 + "x\n", "a: " + "{b: " * 100_000 + "c"],
    ids=["flow-sequences", "block-sequences", "flow-mappings"],
)
def test_deeply_nested_yaml_is_an_error_naming_the_file_not_a_crash(tmp_path, deep):
    """Before: PyYAML's C composer recursed once per level and the process died (SIGSEGV)
    on a 200 KB pnpm-lock.yaml. Now its nesting is counted from the parser's events first:
    one error names the file, and the other lock files count."""
    files = {"/app/pnpm-lock.yaml": deep.encode(), "/ok/pnpm-lock.yaml": PNPM.encode()}
    result = analyze(tmp_path, files, ["npm"])
    assert packages(result) == {("left-pad", "1.3.0")}
    (message,) = messages(result)
    assert message.startswith("/app/pnpm-lock.yaml: ")
    assert "nested deeper than 64 levels" in message


YARN = 'left-pad@^1.3.0:\n  version "1.3.0"\n  resolved "https://r/left-pad.tgz"\n'


@pytest.mark.parametrize(
    ("lock", "limit", "limits"),
    [
        (YARN + "# " + "x" * 5000 + "\n", "max_line_bytes", {"max_line_bytes": 1000}),
        (YARN + "\n" * 5000, "max_text_lines", {"max_text_lines": 1000}),
    ],
    ids=["long-line", "many-lines"],
)
def test_a_yarn_lock_past_the_text_limits_is_an_error_naming_it(tmp_path, lock, limit, limits):
    """Before: a yarn.lock was split whole (read_text().splitlines()), past every text
    limit. Now its lines come through the kit's bounded lines: one error names the file
    and the limit, and the other lock files count."""
    files = {"/app/yarn.lock": lock.encode(), "/ok/yarn.lock": YARN.encode()}
    result = analyze(tmp_path, files, ["npm"], **limits)
    assert packages(result) == {("left-pad", "1.3.0")}
    (message,) = messages(result)
    assert message.startswith("/app/yarn.lock") and limit in message


def test_an_unreadable_direct_url_json_costs_only_itself(tmp_path):
    """Before: only a ValueError from direct_url.json was ignored; one past a limit (or
    any other failure reading it) cost the whole distribution."""
    dist = f"{SITE}/victim-1.0.dist-info"
    files = {
        f"{dist}/METADATA": METADATA.encode(),
        f"{dist}/direct_url.json": b'{"url": "' + b"x" * 5000 + b'"}',
    }
    result = analyze(tmp_path, files, ["python"], max_read_bytes=1000)
    assert packages(result) == {("victim", "1.0")}
    (message,) = messages(result)
    assert message.startswith(f"{dist}/direct_url.json") and "max_read_bytes" in message


def test_deeply_nested_json_is_an_error_naming_the_file(tmp_path):
    deep = b'{"packages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    files = {
        "/app/package-lock.json": deep,
        "/other/package-lock.json": json.dumps(_good_and({})).encode(),
    }
    result = analyze(tmp_path, files, ["npm"])
    assert packages(result) == {("good", "1.0.0"), ("also-good", "2.0.0")}
    (message,) = messages(result)
    assert message.startswith("/app/package-lock.json: ") and "nested too deeply" in message


@pytest.mark.parametrize(
    ("files", "analyzer", "good", "named"),
    [
        (
            {
                "/app/Cargo.lock": 'package = [{name = "good", version = "1.0.0", source = "r"}, '
                '"oops", {name = "x", version = 5, source = "r"}]\n'
            },
            "rust",
            {("good", "1.0.0")},
            "x",
        ),
        (
            {
                "/app/composer.lock": json.dumps(
                    {"packages": [{"name": "good/one", "version": "1.0.0"}, ["a", "list"]]}
                )
            },
            "php-composer",
            {("good/one", "1.0.0")},
            "a package",
        ),
        (
            {
                "/app/vendor/composer/installed.json": json.dumps(
                    [{"name": "good/one", "version": "1.0.0"}, {"name": 5, "version": "1"}]
                )
            },
            "php-composer",
            {("good/one", "1.0.0")},
            "a package",
        ),
        (
            {
                "/app/App.deps.json": json.dumps(
                    {
                        "libraries": {
                            "Good/1.0.0": {"type": "package"},
                            "Bad/2.0.0": "a string",
                            "Slash//": {"type": "package"},
                        }
                    }
                )
            },
            "dotnet",
            {("Good", "1.0.0")},
            "Bad/2.0.0",
        ),
        (
            {"/app/Gemfile.lock": "GEM\n  specs:\n    good (1.0)\n    / (2.0)\n    also (3.0)\n"},
            "ruby",
            {("good", "1.0"), ("also", "3.0")},
            "gem '/'",
        ),
        (
            {
                "/app/poetry.lock": '[[package]]\nname = "good"\nversion = "1.0"\n\n'
                '[[package]]\nname = "bad"\nversion = 5\n'
            },
            "python",
            {("good", "1.0")},
            "package 'bad'",
        ),
    ],
    ids=["cargo", "composer", "installed", "dotnet", "gem", "poetry"],
)
def test_a_bad_record_costs_only_itself(tmp_path, files, analyzer, good, named):
    result = analyze(tmp_path, {k: v.encode() for k, v in files.items()}, [analyzer])
    assert packages(result) == good
    assert messages(result), result
    assert any(named in m for m in messages(result)), messages(result)


def test_bad_go_module_lines_cost_only_themselves(tmp_path):
    modinfo = (
        "path\texample.com/app\nmod\texample.com/app\tv1.0.0\t\n"
        "dep\tgithub.com/good/dep\tv1.2.3\th1:x=\n"
        "dep\tgithub.com/bad/\tv1.0.0\th1:x=\n"
        "dep\t/\tv1.0.0\th1:x=\n"
        "dep\tgithub.com/also/good\tv2.0.0\th1:x=\n"
    )
    result = analyze(tmp_path, {"/usr/bin/app": (go_elf(modinfo), 0o755)}, ["golang"])
    found = packages(result)
    assert {("github.com/good/dep", "v1.2.3"), ("github.com/also/good", "v2.0.0")} <= found
    assert ("example.com/app", "v1.0.0") in found
    errors = messages(result)
    assert len(errors) == 2
    assert all(m.startswith("/usr/bin/app: module ") for m in errors)
