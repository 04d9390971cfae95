"""Squashing layers: whiteouts, opaque dirs, replacements, links — in every format."""

from __future__ import annotations

import pytest

import anchore
from anchore.errors import NotAFileError, PathNotFoundError, SymlinkLoopError
from imagebuilder import d, f, hard, opaque, sym, whiteout


def paths(image) -> list[str]:
    return [e.path for e in image.files()]


def test_whiteouts_and_opaque_dirs_over_several_layers(make_image):
    src = make_image(
        [
            [
                d("etc"),
                f("etc/a", "1"),
                f("etc/b", "2"),
                d("opt/x"),
                f("opt/x/1"),
                f("opt/x/2"),
                d("var/log"),
                f("var/log/old.log", "old"),
            ],
            [whiteout("etc/a"), opaque("opt/x"), f("opt/x/3", "three"), whiteout("var/log")],
            [f("etc/a", "again"), d("var/log"), f("var/log/new.log")],
        ]
    )
    image = anchore.open_image(src)
    assert paths(image) == [
        "/etc",
        "/etc/a",
        "/etc/b",
        "/opt",
        "/opt/x",
        "/opt/x/3",
        "/var",
        "/var/log",
        "/var/log/new.log",
    ]
    assert image.read_text("/etc/a") == "again"
    assert image.stat("/etc/a").layer_index == 2
    assert image.stat("/etc/b").layer_index == 0
    # the view after layer 1: /etc/a deleted, opaque /opt/x holds only 3, /var/log gone
    after1 = image.squashed(1)
    assert not after1.exists("/etc/a")
    assert after1.listdir("/opt/x") == ["3"]
    assert not after1.exists("/var/log")
    assert after1.exists("/var")
    # per-layer trees: what each layer adds and deletes
    layer1 = image.layers[1]
    assert [e.path for e in layer1.files()] == ["/opt/x/3"]
    assert layer1.whiteouts == ("/etc/a", "/var/log")
    assert layer1.opaque_dirs == ("/opt/x",)
    # a layer's own copy stays readable after later layers replace or delete it
    assert image.layers[0].read_bytes("/etc/a") == b"1"
    assert image.layers[0].read_bytes("/var/log/old.log") == b"old"


def test_whiteout_applies_only_to_lower_layers(make_image):
    # a layer that re-creates a path it also whites out keeps its own copy
    src = make_image([[f("a", "low")], [f("a", "mine"), whiteout("a")]])
    image = anchore.open_image(src)
    assert image.read_text("/a") == "mine"


def test_opaque_dir_keeps_entries_of_its_own_layer(make_image):
    src = make_image([[d("x"), f("x/low")], [f("x/new"), opaque("x")]])
    image = anchore.open_image(src)
    assert image.listdir("/x") == ["new"]


def test_bare_wh_prefix_is_a_file_not_a_whiteout(make_image):
    src = make_image([[f("keep"), d("dir")], [f("dir/.wh.", "not a whiteout")]])
    image = anchore.open_image(src)
    assert image.read_text("/dir/.wh.") == "not a whiteout"
    assert image.exists("/keep")


def test_file_replaces_directory_and_directory_replaces_file(make_image):
    src = make_image(
        [
            [d("a"), f("a/inner"), d("a/sub"), f("a/sub/deep"), f("b", "file")],
            [f("a", "now a file"), d("b"), f("b/child")],
        ]
    )
    image = anchore.open_image(src)
    assert paths(image) == ["/a", "/b", "/b/child"]
    assert image.stat("/a").is_file
    assert image.stat("/b").is_dir


def test_symlink_replaces_directory(make_image):
    src = make_image([[d("lib"), f("lib/x")], [d("usr/lib"), sym("lib", "usr/lib")]])
    image = anchore.open_image(src)
    assert image.lstat("/lib").is_symlink
    assert not image.exists("/lib/x")


def test_dot_slash_and_absolute_member_names_are_normalised(make_image):
    src = make_image([[d("./etc"), f("./etc/hostname", "h"), f("/abs/file", "a"), f("a//b/./c")]])
    image = anchore.open_image(src)
    assert paths(image) == ["/a", "/a/b", "/a/b/c", "/abs", "/abs/file", "/etc", "/etc/hostname"]
    assert image.read_text("/abs/file") == "a"


def test_missing_parent_directories_are_implied(make_image):
    src = make_image([[f("deep/er/file", "x")]])
    image = anchore.open_image(src)
    assert image.stat("/deep/er").is_dir
    assert image.stat("/deep").mode == 0o755


def test_members_under_a_symlinked_parent_land_at_its_target(make_image):
    # merged /usr: a later layer writing bin/tool goes to usr/bin/tool, as runtimes unpack it
    src = make_image([[d("usr/bin"), sym("bin", "usr/bin")], [f("bin/tool", "t")]])
    image = anchore.open_image(src)
    assert image.lstat("/bin").is_symlink
    assert image.lstat("/usr/bin/tool").layer_index == 1
    assert image.read_text("/bin/tool") == "t"
    assert image.layers[1].stat("/bin/tool").path == "/bin/tool"  # the layer keeps its own name


def test_hardlinks_in_one_layer_survive_deletion_of_target(make_image):
    src = make_image(
        [
            [f("bin/real", "payload", mode=0o755), hard("bin/alias", "bin/real")],
            [whiteout("bin/real")],
        ]
    )
    image = anchore.open_image(src)
    alias = image.stat("/bin/alias")
    assert alias.type is anchore.FileType.HARDLINK
    assert alias.link_target == "/bin/real"
    assert alias.size == 7
    assert image.read_bytes("/bin/alias") == b"payload"
    assert not image.exists("/bin/real")


def test_hardlink_to_a_lower_layer_file(make_image):
    src = make_image([[f("data", "lower")], [hard("link", "data")], [whiteout("data")]])
    image = anchore.open_image(src)
    assert image.read_bytes("/link") == b"lower"


def test_dangling_hardlink_is_listed_but_unreadable(make_image):
    src = make_image([[hard("link", "nowhere")]])
    image = anchore.open_image(src)
    assert image.lstat("/link").type is anchore.FileType.HARDLINK
    with pytest.raises(NotAFileError, match="nowhere"):
        image.read_bytes("/link")


def test_symlinks_resolve_inside_the_image(make_image):
    src = make_image(
        [
            [
                d("etc"),
                f("etc/passwd", "image passwd"),
                d("usr/lib"),
                f("usr/lib/os-release", "ID=x"),
                sym("etc/os-release", "../usr/lib/os-release"),
                sym("abs", "/etc/passwd"),
                sym("escape", "../../../../../../etc/passwd"),
                sym("dir-link", "usr/lib"),
                sym("chain1", "chain2"),
                sym("chain2", "/abs"),
                sym("loop-a", "loop-b"),
                sym("loop-b", "loop-a"),
                sym("self", "self"),
                sym("dangling", "/no/such"),
            ]
        ]
    )
    image = anchore.open_image(src)
    assert image.read_text("/etc/os-release") == "ID=x"
    assert image.read_text("/abs") == "image passwd"
    # '..' stops at the image root: never the host's /etc/passwd
    assert image.read_text("/escape") == "image passwd"
    assert image.read_text("/dir-link/os-release") == "ID=x"
    assert image.read_text("/chain1") == "image passwd"
    assert image.realpath("/chain1") == "/etc/passwd"
    assert image.listdir("/dir-link") == ["os-release"]
    assert image.lstat("/abs").link_target == "/etc/passwd"
    with pytest.raises(SymlinkLoopError):
        image.stat("/loop-a")
    with pytest.raises(SymlinkLoopError):
        image.read_bytes("/self")
    with pytest.raises(PathNotFoundError):
        image.stat("/dangling")
    assert image.lstat("/dangling").is_symlink
    with pytest.raises(NotAFileError):
        image.open("/etc")


def test_symlink_depth_limit_is_configurable(make_image, tmp_path):
    chain = [sym(f"l{i}", f"l{i + 1}") for i in range(10)] + [f("l10", "end")]
    src = make_image([chain])
    assert anchore.open_image(src).read_text("/l0") == "end"
    tight = anchore.open_image(src, limits=anchore.Limits(max_symlink_follows=5))
    with pytest.raises(SymlinkLoopError):
        tight.read_text("/l0")


def test_entry_metadata(make_image):
    src = make_image(
        [
            [
                f("usr/bin/su", "x", mode=0o4755, uid=0, gid=0),
                f("home/u/file", "y", mode=0o640, uid=1000, gid=1000, uname="u", gname="users"),
                d("tmp", mode=0o1777),
                M_char(),
            ]
        ]
    )
    image = anchore.open_image(src)
    su = image.stat("/usr/bin/su")
    assert su.is_setuid and not su.is_setgid and su.permissions == "-rwsr-xr-x"
    assert su.mtime == 1_700_000_000
    home = image.stat("/home/u/file")
    assert (home.uid, home.gid, home.user, home.group) == (1000, 1000, "u", "users")
    assert image.stat("/tmp").is_sticky
    null = image.stat("/dev/null")
    assert null.type is anchore.FileType.CHAR_DEVICE and (null.devmajor, null.devminor) == (1, 3)
    with pytest.raises(NotAFileError):
        image.read_bytes("/dev/null")
    assert su.to_dict()["mode"] == "4755"


def M_char():
    from imagebuilder import M

    return M("dev/null", "char", mode=0o666)


def test_xattrs_from_pax_headers(make_image):
    from imagebuilder import M

    cap = M(
        "usr/bin/ping",
        "file",
        b"p",
        mode=0o755,
        pax={"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"},
    )
    image = anchore.open_image(make_image([[cap]]))
    assert image.stat("/usr/bin/ping").xattrs == {"security.capability": b"\x01\x00\x00\x02"}


def test_walk_and_listdir(make_image):
    src = make_image([[d("a/b"), f("a/b/c"), f("a/z"), f("top")]])
    image = anchore.open_image(src)
    assert [e.path for e in image.walk("/a")] == ["/a/b", "/a/b/c", "/a/z"]
    assert image.listdir("/") == ["a", "top"]
    assert "/a/z" in image and "/nope" not in image
    assert len(image) == 5
