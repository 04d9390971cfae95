"""The queries' shared filters: version ranges in each ecosystem's own ordering, and
name patterns.

The ranges are checked against the osv-scalibr ordering vectors, which the
ecosystems' own tools generated (dpkg --compare-versions, apk-tools, packaging,
Gem::Version; tests/data/oracles/SOURCE.txt): for every line ``A < B`` a range
built on A must hold B exactly as the tool ordered them.
"""

from __future__ import annotations

import pytest

from anchore.query.filters import VersionError, VersionRange, name_matcher
from testdata import ORACLES

#: ordering files and the package type whose ecosystem they order
ORDERINGS = {
    "debian-versions-generated.txt": "deb",
    "alpine-versions-generated.txt": "apk",
    "pypi-versions-generated.txt": "python",
    "rubygems-versions-generated.txt": "gem",
}


def _lines(name: str) -> list[tuple[str, str, str]]:
    found = []
    for line in (ORACLES / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        a, op, b = line.split(" ")
        found.append((a, op, b))
    return found


@pytest.mark.parametrize(("name", "package_type"), sorted(ORDERINGS.items()))
def test_ranges_follow_the_ecosystems_own_ordering(name: str, package_type: str) -> None:
    checked = 0
    for a, op, b in _lines(name):
        if op == "=":
            assert VersionRange.parse(f"={a}").contains(b, package_type), (a, b)
            assert not VersionRange.parse(f"!={a}").contains(b, package_type), (a, b)
            continue
        low, high = (a, b) if op == "<" else (b, a)
        assert VersionRange.parse(f">{low}").contains(high, package_type), (low, high)
        assert VersionRange.parse(f">={low},<={high}").contains(high, package_type)
        assert VersionRange.parse(f">={low},<={high}").contains(low, package_type)
        assert not VersionRange.parse(f"<{low}").contains(high, package_type), (low, high)
        assert not VersionRange.parse(f">{high}").contains(low, package_type), (low, high)
        assert not VersionRange.parse(f">{low},<{high}").contains(low, package_type)
        assert VersionRange.parse(f"!={low}").contains(high, package_type)
        checked += 1
    assert checked > 3000


def test_dpkg_ordering_is_not_string_ordering() -> None:
    # by characters 1.10 < 1.9 and 2.0~rc1 > 2.0: dpkg says otherwise
    assert VersionRange.parse(">1.9").contains("1.10-1", "deb")
    assert VersionRange.parse("<2.0").contains("2.0~rc1", "deb")
    assert VersionRange.parse(">=1:0.1").contains("1:0.1", "deb")
    assert not VersionRange.parse(">=1:0.1").contains("9.9", "deb")  # the epoch wins


def test_parse_operators_and_bare_versions() -> None:
    r = VersionRange.parse(" >= 1.2 , <2.0,!=1.5 ")
    assert r.constraints == ((">=", "1.2"), ("<", "2.0"), ("!=", "1.5"))
    assert VersionRange.parse("==1.0").constraints == (("=", "1.0"),)
    assert VersionRange.parse("1.0").constraints == (("=", "1.0"),)
    assert not r.contains("1.5", "python")
    assert r.contains("1.6", "python")


@pytest.mark.parametrize("text", ["", ">=1.2,", ">>1", "=<1", ">= 1 2", "<", "!1.0", "=!1"])
def test_a_bad_constraint_is_a_value_error_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match="constraint"):
        VersionRange.parse(text)


@pytest.mark.parametrize(
    "text", ["^3.6.3", "~3.6", "~=1.4", ">=~1.4", "1.*", ">=1.0,<2.*", "~>2.1"]
)
def test_range_syntax_of_other_tools_is_refused(text: str) -> None:
    """npm's ^ and ~, PEP 440's ~=, gem's ~> and wildcards are not bare versions: maven and
    rpm would parse ``^3.6.3`` and silently match nothing."""
    with pytest.raises(ValueError, match="not supported"):
        VersionRange.parse(text)
    assert VersionRange.parse("3.6.3").contains("3.6.3", "java-archive")


def test_an_unparsable_version_fails_closed() -> None:
    r = VersionRange.parse(">=1.0")
    with pytest.raises(VersionError):
        r.contains("not a version", "deb")  # dpkg versions start with a digit
    with pytest.raises(VersionError):
        VersionRange.parse(">=not-semver").contains("1.0.0", "npm")  # the bound's too
    with pytest.raises(VersionError, match="no version ordering"):
        r.contains("1.0", "php-composer")  # a row without an ordering anchore knows
    with pytest.raises(VersionError, match="unknown"):
        r.contains("1.0", "binary")  # a plugin's type: no row


def test_globs_are_case_sensitive_and_whole_names() -> None:
    m = name_matcher("lib*")
    assert m("libc6") and m("lib") and not m("glibc") and not m("Libc6")
    assert name_matcher("python3.1?")("python3.11")
    assert not name_matcher("python3")("python3-minimal")


def test_regexes_are_searched_and_compiled_once() -> None:
    m = name_matcher("re:^lib(ssl|crypto)")
    assert m.regex is not None
    assert m("libssl3") and m("libcrypto3") and not m("openssl")
    assert name_matcher("re:ssl")("openssl")
    with pytest.raises(ValueError, match="does not compile"):
        name_matcher("re:(unclosed")


def test_python_names_compare_as_pep_503_says() -> None:
    assert name_matcher("foo_bar")("Foo.Bar", "python")
    assert name_matcher("FOO-*")("foo_baz", "python")
    assert not name_matcher("foo_bar")("Foo.Bar", "deb")  # dpkg names are as written
    assert not name_matcher("foo_bar")("Foo.Bar")
    assert name_matcher("re:^foo-bar$")("Foo__Bar", "python")
