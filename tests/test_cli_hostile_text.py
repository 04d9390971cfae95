"""Text an image controls never reaches the terminal raw.

A path, a package name, a label or a history step is written by whoever built the
image; printed as it is, ``\\x1b[2J`` clears the user's screen, an OSC sequence retitles
the window (or writes the clipboard), ``\\x9b`` is the one-byte CSI and a line break
forges a row. People's output (tables, ``-l``, fields) shows them escaped; JSON carries
them exactly (json.dumps escapes them anyway).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchore.cli import main
from imagebuilder import build, d, docker_archive, f

ESC = "\x1b[2J"
OSC = "\x1b]0;pwned\x07"
CSI = "\x9b31m"
EVIL_PATH = f"usr/bin/red{ESC}{CSI}\nforged"
EVIL_NAME = f"evil{OSC}{ESC}"
EVIL_LABEL = "k=\x1b[31mred\x1b[0m\nforged"
EVIL_STEP = f"RUN make {ESC}\r\nforged"
SITE = "usr/lib/python3/dist-packages"
METADATA = f"Metadata-Version: 2.1\nName: {EVIL_NAME}\nVersion: 1.0\n"


def _image(tmp_path: Path, name: str, *, evil: bool) -> str:
    base = [d("usr"), d("usr/bin"), f("usr/bin/sh", b"#!", mode=0o755)]
    extra = [
        d("usr/lib"),
        d("usr/lib/python3"),
        d(SITE),
        d(f"{SITE}/evil-1.0.dist-info"),
        f(f"{SITE}/evil-1.0.dist-info/METADATA", METADATA.encode()),
        f(EVIL_PATH, b"x", mode=0o4755),
    ]
    layers = [base, extra] if evil else [base]
    history = [{"created_by": "ADD base"}] + ([{"created_by": EVIL_STEP}] if evil else [])
    labels = {"Labels": {"k": EVIL_LABEL[2:]}} if evil else {}
    config = {"config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"], **labels}}
    built = build(layers, history=history, config=config)
    return docker_archive(tmp_path / name, [([f"{name}:1"], built)])


@pytest.fixture
def images(tmp_path: Path) -> tuple[str, str]:
    return _image(tmp_path, "clean.tar", evil=False), _image(tmp_path, "evil.tar", evil=True)


COMMANDS = [
    ["files", "{evil}"],
    ["files", "-l", "{evil}"],
    ["packages", "{evil}"],
    ["analyze", "{evil}"],
    ["inspect", "{evil}"],
    ["layers", "{evil}"],
    ["diff", "{clean}", "{evil}"],
]


@pytest.mark.parametrize("columns", ["200", None])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:-1]))
def test_people_output_shows_control_characters_escaped(
    images, command, columns, capsys, monkeypatch
):
    clean, evil = images
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    argv = [w.format(clean=clean, evil=evil) for w in command]
    assert main(["-q", *argv]) == 0
    out, err = capsys.readouterr()
    for text in (out, err):
        assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    assert "\\x1b[2j" in out.lower()  # shown, as an escape a person can read
    assert "forged" not in {line.strip() for line in out.splitlines()}  # no forged row
    assert not any(line.startswith("forged") for line in out.splitlines())


def test_each_kind_of_image_text_is_shown_escaped(images, capsys):
    evil = images[1]
    assert main(["-q", "packages", evil]) == 0
    assert "evil\\x1b]0;pwned\\x07\\x1b[2j" in capsys.readouterr().out
    assert main(["-q", "files", evil]) == 0
    assert "/usr/bin/red\\x1b[2J\\x9b31m\\nforged" in capsys.readouterr().out
    assert main(["-q", "inspect", evil]) == 0
    out = capsys.readouterr().out
    assert "k=\\x1b[31mred\\x1b[0m\\nforged" in out
    assert "RUN make \\x1b[2J\\r\\nforged" in out
    assert main(["-q", "layers", evil]) == 0
    assert "\\x1b[2J" in capsys.readouterr().out


def test_json_carries_the_text_exactly(images, capsys):
    evil = images[1]
    assert main(["-q", "packages", evil, "-o", "json"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out  # json.dumps escapes it
    assert EVIL_NAME.lower() in {r["name"] for r in json.loads(out)}
    assert main(["-q", "files", evil, "--json"]) == 0
    paths = {json.loads(line)["path"] for line in capsys.readouterr().out.splitlines()}
    assert "/" + EVIL_PATH in paths
    assert main(["-q", "layers", evil, "-o", "json"]) == 0
    assert EVIL_STEP in {r["created_by"] for r in json.loads(capsys.readouterr().out)}


def test_plugin_names_are_shown_escaped_and_fit_80_columns(monkeypatch, capsys):
    """A plugin's name and what it provides come from a third party's package."""
    from anchore.cli import images
    from anchore.plugins.registry import PluginInfo

    evil = PluginInfo(
        name=f"evil{OSC}",
        source="entry point evil 1.0",
        analyzers=(f"a{ESC}",),
        queries=tuple(f"query-number-{i}" for i in range(20)),
    )

    class Registry:
        def plugins(self) -> list[PluginInfo]:
            return [evil]

    monkeypatch.setattr(images, "default_registry", Registry)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "evil\\x1b]0;pwned\\x07" in out and "a\\x1b[2J" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert out.splitlines()[0].split() == ["PLUGIN", "SOURCE", "KIND", "NAMES"]


def test_print_line_and_print_field_escape(capsys):
    from anchore.cli.output import print_field, print_line

    print_line(f"plugin {OSC}")
    print_field("label", EVIL_LABEL)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert out.splitlines() == ["plugin \\x1b]0;pwned\\x07",
                                "label      k=\\x1b[31mred\\x1b[0m\\nforged"]  # fmt: skip


def test_catalog_output_shows_control_characters_escaped(images, tmp_path, capsys):
    """catalog add's per-image line and catalog show's fields quote the image's own text."""
    _, evil = images
    catalog = str(tmp_path / "catalog.db")
    layers = [[d("usr"), d("usr/bin"), f(EVIL_PATH, b"x", mode=0o4755)]]
    built = build(layers, history=[{"created_by": EVIL_STEP}],
                  config={"config": {"Labels": {"k": EVIL_LABEL[2:]}}})  # fmt: skip
    tagged = docker_archive(tmp_path / "tagged.tar", [([f"evil{CSI}x:1"], built)])
    outputs = []
    assert main(["-q", "catalog", "add", "--catalog", catalog, tagged]) in (0, 3)
    outputs.append(capsys.readouterr())
    for argv in (["catalog", "add", "--catalog", catalog, evil],
                 ["catalog", "list", "--catalog", catalog]):  # fmt: skip
        assert main(["-q", *argv]) in (0, 3), argv
        outputs.append(capsys.readouterr())
    assert main(["-q", "catalog", "list", "--catalog", catalog, "-o", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 2
    for image in listed:
        key = image.get("manifest_digest") or image.get("key") or image.get("config_digest")
        assert main(["-q", "catalog", "show", "--catalog", catalog, key]) == 0
        outputs.append(capsys.readouterr())
    for image in listed:  # rm names what it removed, the image's own tags included
        key = image.get("manifest_digest") or image.get("key") or image.get("config_digest")
        assert main(["-q", "catalog", "rm", "--catalog", catalog, key]) == 0
        outputs.append(capsys.readouterr())
    assert "removed" in outputs[-1].out
    for out, err in outputs:
        for text in (out, err):
            assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text, text


def test_every_control_format_and_separator_character_is_shown_escaped():
    """Unicode's Cc, Cf, Zl and Zp: controls, bidi marks (U+200E, U+061C), separators
    (U+2028 forges a row) and invisible characters (U+200B, U+FEFF); other text as is."""
    import unicodedata

    from anchore.cli.output import printable

    hidden = [chr(c) for c in range(0x110000)
              if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")]  # fmt: skip
    assert len(hidden) > 150
    assert [c for c in hidden if printable(c) == c] == []
    assert all(printable(c).startswith("\\") for c in hidden)
    assert printable("naïve 日本 ✓ café-1.0") == "naïve 日本 ✓ café-1.0"
