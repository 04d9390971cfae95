"""Hostile version strings: every scheme answers with a VersionError (or an order), quickly.

Versions come from images (package databases, lock files). Long runs of
separators, 100,000 digits, qualifiers nested thousands deep, Unicode digits,
NUL bytes and values that are not strings at all must never raise anything
but :class:`VersionError`, recurse as deep as the input is long, or take time
that grows faster than the input (the old maven order raised RecursionError and
ValueError; apk took 1.7 s on 40,000 digits; ``int()`` refuses 4,300 digits).
The corpus runs in a confined child (time and memory bound); the callers'
answers for such packages are checked in tests/test_vulns.py-style unit tests here.
"""

from __future__ import annotations

import pytest

from anchore import versions
from anchore.versions import VersionError, semver
from anchore.versions.errors import MAX_LENGTH
from confine import run_confined

SCHEMES = sorted(versions.SCHEMES)

#: built in the child: (label, value) pairs, long and within-bound variants of each shape
_CORPUS = r"""
def shapes(n):
    return {
        "dashes": "1" + "-1" * n, "dots": "1" + ".1" * n, "only dashes": "-" * n,
        "only dots": "." * n, "colons": "1:" * n, "tildes": "1" + "~" * n,
        "carets": "1" + "^" * n, "underscores": "1" + "_p" * n,
        "pre suffixes": "1" + "_alpha" * n, "revisions": "1" + "-r1" * n,
        "maven qualifiers": "1" + "-rc1" * n, "letter digit": "1" + "a1" * n,
        "pre ids": "1.0.0-" + ".".join(["0"] * n), "build ids": "1.0.0+" + ".".join(["a"] * n),
        "go pseudo": "v1.0.0-" + "0" * n, "digits": "9" * (2 * n),
        "digits after dot": "1." + "9" * (2 * n), "zeros": "1." + "0" * (2 * n),
        "epoch digits": "9" * (2 * n) + ":1.0", "spaces": "1" + " " * n + "!",
        "legacy": "1" + "-bulbasaur" * n, "nul": "1.0" + "\0" * n,
    }
cases = []
for n in (500, 50_000):
    cases += [(f"{k} x{n}", v) for k, v in shapes(n).items()]
cases += [
    ("superscript", "\u00b2"), ("superscript part", "1.\u00b2"), ("superscript epoch", "\u00b2:1.0"),
    ("arabic digits", "\u0661\u0662.\u0663"), ("arabic epoch", "\u0661:1.0"),
    ("arabic semver", "\u0661.2.3"), ("fullwidth", "\uff11.0"), ("nul", "\0"), ("nul inside", "1.\0.2"),
    ("empty", ""), ("blank", "   "), ("surrogate", "1.\udc80"), ("go toolchain digits", "go" + "9" * 5000),
    ("none", None), ("int", 1), ("bytes", b"1.0"), ("list", ["1"]),
]
"""

_RUN = (
    _CORPUS
    + r"""
import time
from anchore import versions
from anchore.versions import semver
outcomes = []
for scheme in SCHEMES:
    for label, value in cases:
        for call in ("a", "b"):
            start = time.perf_counter()
            try:
                if call == "a":
                    versions.compare(scheme, value, "1.0.0")
                else:
                    versions.in_range(scheme, "1.0.0", introduced=value, fixed="2.0.0")
                kind = "ok"
            except versions.VersionError as exc:
                kind = "VersionError" if len(str(exc)) < 400 else "long message"
            except BaseException as exc:
                kind = type(exc).__name__
            outcomes.append((scheme, label, call, kind, time.perf_counter() - start))
for label, value in cases:
    start = time.perf_counter()
    try:
        semver.satisfies("1.0.0", value)
        kind = "ok"
    except versions.VersionError:
        kind = "VersionError"
    except BaseException as exc:
        kind = type(exc).__name__
    outcomes.append(("npm range", label, "satisfies", kind, time.perf_counter() - start))
result = outcomes
"""
)


def test_hostile_versions_are_version_errors_in_linear_time():
    out = run_confined(_RUN, seconds=20, memory_mib=1024, SCHEMES=SCHEMES)
    out.assert_no_error()
    wrong = [o for o in out.result if o[3] not in ("ok", "VersionError")]
    assert not wrong, f"{len(wrong)} cases raised the wrong thing, e.g. {wrong[:5]}"
    slow = max(out.result, key=lambda o: o[4])
    assert slow[4] < 0.5, f"slowest call: {slow}"
    assert len(out.result) > 700


@pytest.mark.parametrize("scheme", SCHEMES)
def test_longer_than_the_bound_is_a_version_error_naming_the_length(scheme):
    version = "1" + ".0" * (MAX_LENGTH // 2)  # a valid shape, one character too long
    assert len(version) == MAX_LENGTH + 1
    with pytest.raises(VersionError) as caught:
        versions.compare(scheme, version, "1.0.0")
    message = str(caught.value)
    assert f"longer than {MAX_LENGTH} characters" in message
    assert f"({MAX_LENGTH + 1} characters)" in message and len(message) < 300
    assert caught.value.version == version


@pytest.mark.parametrize(
    ("scheme", "version", "low"),
    [
        ("dpkg", "1" + ".0" * 510 + "-1", "0.1"),
        ("rpm", "1" + ".0" * 510 + "-1", "0.1"),
        ("apk", "1" + ".0" * 510 + "-r1", "0.1"),
        ("pep440", "1" + ".0" * 510 + "1", "0.1"),
        ("pypi", "1" + ".0" * 510 + "1", "0.1"),
        ("gem", "1" + ".0" * 510 + "1", "0.1"),
        ("maven", "1" + "-1" * 511, "0.1"),
        ("semver", "1.0.0-" + "a." * 508 + "1", "0.1.0"),
        ("go", "v1.0.0-" + "a." * 507 + "1", "v0.1.0"),
    ],
    ids=lambda v: v[:12],
)
def test_versions_up_to_the_bound_still_order(scheme, version, low):
    assert len(version) <= MAX_LENGTH
    assert versions.compare(scheme, version, version) == 0
    assert versions.compare(scheme, version, low) == 1
    assert versions.compare(scheme, low, version) == -1


def test_maven_nesting_does_not_use_the_callers_stack():
    """'1-1-1-...' nests one list per '-': the old recursive order needed a frame per level."""
    deep = "1" + "-1" * 511
    other = "1" + "-1" * 510 + "-2"

    def from_depth(n: int) -> int:
        return from_depth(n - 1) if n else versions.compare("maven", deep, other)

    assert from_depth(700) == -1


@pytest.mark.parametrize(
    ("scheme", "version"),
    [
        ("dpkg", "\u00b2:1.0"),  # '²'.isdigit() but int('²') is a ValueError
        ("apk", "1.\u00b2"),
        ("maven", "1.\u00b2"),
        ("semver", "\u0661.2.3"),  # node's semver reads ASCII digits
        ("go", "v\u0661.2.3"),
        ("rpm", "9" * 5000 + ":1.0"),  # an epoch int() refuses
    ],
)
def test_unicode_digits_and_huge_numbers(scheme, version):
    try:
        order = versions.compare(scheme, version, "1.0")
    except VersionError as exc:
        assert exc.scheme == scheme
        return
    assert order in (-1, 0, 1)


def test_not_a_string_is_a_version_error():
    for scheme in SCHEMES:
        for value in (None, 1, b"1.0"):
            with pytest.raises(VersionError, match="not a string"):
                versions.compare(scheme, value, "1.0")  # type: ignore[arg-type]
    with pytest.raises(VersionError):
        semver.satisfies("1.0.0", None)  # type: ignore[arg-type]


# ---- the callers: a package whose version cannot be ordered is never a clean bill ----
HOSTILE = {
    "5000 digits": "9" * 5000,  # packaging's int() refused it with a ValueError
    "too long": "1" + ".0" * MAX_LENGTH,
}


def _package(name: str, version: str, ptype: str = "python", purl_type: str = "pypi"):
    from anchore.analysis.model import Package

    return Package(type=ptype, name=name, version=version, purl=f"pkg:{purl_type}/{name}")


def _analysis(*packages):
    from anchore.analysis.model import Analysis

    return Analysis(
        image={}, distro=None, packages=list(packages), findings=[], files=[], errors=[],
        analyzers=("python",),
    )  # fmt: skip


@pytest.fixture(scope="module")
def advisories(tmp_path_factory):
    import json

    from anchore.vulns import Store, read_osv

    tmp = tmp_path_factory.mktemp("osv")
    records = [
        ("TEST-ECO", "PyPI", "demo", "ECOSYSTEM", "2.0"),
        ("TEST-SEMVER", "PyPI", "semdemo", "SEMVER", "2.0.0"),
    ]
    for ident, ecosystem, name, kind, fixed in records:
        record = {"id": ident, "modified": "2024-01-01T00:00:00Z",
                  "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                                "ranges": [{"type": kind, "events": [{"introduced": "0"},
                                                                     {"fixed": fixed}]}]}]}  # fmt: skip
        (tmp / f"{ident}.json").write_text(json.dumps(record))
    store = Store(tmp / "db.sqlite", create=True)
    store.load(read_osv(tmp), "test")
    return store


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_matching_reports_an_unparsable_installed_version_unchecked(advisories, label):
    from anchore.vulns import match

    version = HOSTILE[label]
    result = match(_analysis(_package("demo", version), _package("demo", "1.0")), advisories)
    assert [m.installed_version for m in result] == ["1.0"]  # the readable copy still matches
    # (the store holds two advisories, not a whole feed: every package is unchecked, and why)
    why = {c.package.version: c.reason for c in result.unchecked}
    assert "does not parse" in why[version] and len(why[version]) < 400
    assert "does not parse" not in why["1.0"]


def test_matching_a_version_a_semver_range_cannot_order_is_unchecked(advisories):
    """'1.0.post1' is PEP 440, not semver: an advisory's SEMVER range cannot say, so the
    package is unchecked (it was 'checked' and clean before)."""
    from anchore.vulns import match

    result = match(_analysis(_package("semdemo", "1.0.post1")), advisories)
    assert list(result) == []
    (check,) = result.unchecked
    assert "cannot be ordered by advisory TEST-SEMVER's SEMVER ranges" in check.reason
    ok = match(_analysis(_package("semdemo", "1.0.0")), advisories)
    assert [m.advisory_id for m in ok] == ["TEST-SEMVER"]
    assert "TEST-SEMVER" not in ok.unchecked[0].reason


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_policy_fails_closed_on_an_unparsable_version(label):
    from anchore.policy import evaluate, parse_bundle

    version = HOSTILE[label]
    rules = [
        {"gate": "packages", "trigger": "denied_package",
         "params": {"name": "demo", "version_less_than": "2.0", "package_types": ["python"]}},
        {"gate": "packages", "trigger": "required_package",
         "params": {"name": "demo", "version": "1.0", "version_match": "minimum",
                    "package_types": ["python"]}},
    ]  # fmt: skip
    bundle = parse_bundle({
        "id": "t", "policies": [{"id": "p", "rules": [{"id": f"r{i}", "action": "STOP", **r}
                                                      for i, r in enumerate(rules)]}],
        "mappings": [{"name": "all", "policy_ids": ["p"]}],
    }, "hostile.json")  # fmt: skip
    evaluation = evaluate(_analysis(_package("demo", version)), bundle)
    messages = sorted(item.message for item in evaluation.items)
    assert evaluation.final_action == "STOP"
    assert any("cannot tell whether it is below 2.0" in m for m in messages), messages
    assert any("cannot compare" in m for m in messages), messages
