"""Evidence an analyzer could not read, and which layer evidence is blamed on.

A file an analyzer could not read is an error of that analyzer, not a silent
absence: a rule that reads its evidence is not evaluated (MissingEvidenceError),
whichever analyzer it was; vulnerability rules instead fire an unchecked hit per
unread file (allow_unchecked accepts it). A nested archive that cannot be read costs only
itself. Findings about a file's content are the layer that wrote that content.
"""

from __future__ import annotations

import io
import zipfile

import attrs
import pytest

import anchore
from anchore.analysis.model import Analysis, AnalyzerError
from anchore.limits import Limits
from anchore.policy import MissingEvidenceError, evaluate, parse_bundle
from imagebuilder import build, f, oci_archive

AWS_KEY = "AKIAIOSFODNN7EXAMPLQ"
PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    + "".join(
        f"user{i}:x:{1000 + i}:{1000 + i}:a user of the image:/home/user{i}:/bin/sh\n"
        for i in range(8)
    )
    + "evil:x:666:666::/home/evil:/bin/sh\n"
)
DPKG_STATUS = "".join(
    f"Package: pkg{i}\nStatus: install ok installed\nVersion: 1.{i}\nArchitecture: amd64\n"
    f"Description: package number {i}\n\n"
    for i in range(12)
)


def bundle_of(*rules: dict) -> anchore.policy.Bundle:
    listed = [{"id": f"r{i}", "action": "STOP", **r} for i, r in enumerate(rules)]
    doc = {
        "id": "t",
        "policies": [{"id": "p", "rules": listed}],
        "mappings": [{"name": "all", "policy_ids": ["p"]}],
    }
    return parse_bundle(doc, "unread.json")


DENY_EVIL = {"gate": "passwd_file", "trigger": "denied_users", "params": {"usernames": ["evil"]}}
DENY_PKG = {
    "gate": "packages",
    "trigger": "denied_package",
    "params": {"name": "pkg3", "package_types": ["deb"]},
}
ROOT_LOGIN = {
    "gate": "config_files",
    "trigger": "key_value",
    "params": {"path": "/etc/ssh/sshd_config", "key": "PermitRootLogin", "value_regex": "yes"},
}


@pytest.fixture(scope="module")
def image_path(tmp_path_factory) -> str:
    """/etc/passwd with a denied user, a dpkg database and an sshd_config, each over 512 bytes."""
    built = build([[
        f("etc/os-release", 'ID=debian\nVERSION_ID="12"\n'),
        f("etc/passwd", PASSWD),
        f("etc/group", "root:x:0:\n"),
        f("etc/ssh/sshd_config", "# " + "x" * 600 + "\nPermitRootLogin yes\n"),
        f("var/lib/dpkg/status", DPKG_STATUS),
    ]])  # fmt: skip
    assert len(PASSWD) > 512 and len(DPKG_STATUS) > 512
    return oci_archive(tmp_path_factory.mktemp("img") / "unread.tar", built)


def _analyze(path: str, limits: Limits | None = None, **kw) -> Analysis:
    with anchore.open_image(path, limits=limits) as image:
        return anchore.analyze(image, **kw)


# ---------------------------------------------------------------- defect 1: fail closed
@pytest.mark.parametrize(
    ("rule", "analyzer", "path"),
    [
        (DENY_EVIL, "system-files", "/etc/passwd"),
        (ROOT_LOGIN, "system-files", "/etc/passwd"),  # sshd_config is unreadable too
        (DENY_PKG, "dpkg", "/var/lib/dpkg/status"),
    ],
)
def test_evidence_too_large_to_read_is_missing_not_a_go(image_path, rule, analyzer, path):
    """Before: system-files and dpkg reported the file as an error, the dataset or
    database was absent, and the rule found nothing: GO."""
    readable = _analyze(image_path, analyzers=[analyzer, "distro"])
    assert evaluate(readable, bundle_of(rule)).final_action == "STOP"

    small = _analyze(image_path, Limits(max_read_bytes=512), analyzers=[analyzer, "distro"])
    assert small.ran(analyzer)  # it ran: only some of its files could not be read
    assert any(e.analyzer == analyzer and e.path == path for e in small.errors)
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(small, bundle_of(rule))
    message = str(err.value)
    assert f"from the {analyzer!r} analyzer, which could not read" in message
    assert path in message and "max_read_bytes" in message


def test_evaluate_of_an_image_path_with_every_analyzer(image_path):
    """The reviewer's repro through anchore.evaluate with the analysis it makes itself."""
    analysis = _analyze(image_path, Limits(max_read_bytes=512))
    with pytest.raises(MissingEvidenceError):
        evaluate(analysis, bundle_of(DENY_EVIL))


def test_errors_of_other_analyzers_do_not_block_a_rule(image_path):
    """Only the rule's own evidence counts: a dpkg error says nothing of /etc/passwd."""
    analysis = _analyze(image_path, analyzers=["system-files", "dpkg", "distro"])
    assert not analysis.errors
    analysis.errors.append(AnalyzerError("dpkg", "/var/lib/dpkg/status: broken", "/x"))
    assert evaluate(analysis, bundle_of(DENY_EVIL)).final_action == "STOP"
    with pytest.raises(MissingEvidenceError):
        evaluate(analysis, bundle_of(DENY_PKG))


def test_a_base_analysis_with_unread_evidence_is_named(image_path):
    full = _analyze(image_path, analyzers=["dpkg", "distro"])
    base = _analyze(image_path, Limits(max_read_bytes=512), analyzers=["dpkg", "distro"])
    rule = {
        "gate": "packages",
        "trigger": "changed_versus_base",
        "params": {"package_types": ["deb"]},
    }
    assert evaluate(full, bundle_of(rule), base=full).final_action == "GO"
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(full, bundle_of(rule), base=base)
    assert "could not read 1 of its files (/var/lib/dpkg/status) on the base image's" in str(
        err.value
    )


def test_a_secrets_analyzer_with_errors_does_not_vouch_for_its_rules(image_path):
    analysis = _analyze(image_path, analyzers=["secrets"])
    rule = {"gate": "secrets", "trigger": "content_regex_checks"}
    assert evaluate(analysis, bundle_of(rule)).final_action == "GO"
    analysis.errors.append(AnalyzerError("secrets", "/app/big.env: unreadable", "/app/big.env"))
    with pytest.raises(MissingEvidenceError) as err:
        evaluate(analysis, bundle_of(rule))
    assert "/app/big.env" in str(err.value)


# ---------------------------------------------------------------- defect 2: which layer
def test_a_secret_written_by_a_later_layer_is_that_layers(tmp_path):
    """Layer 0 writes settings.env clean, layer 1 rewrites it with a key: layer 1's doing."""
    path = "app/settings.env"
    built = build([
        [f(path, "DEBUG=1\n")],
        [f(path, f"DEBUG=1\nAWS_ACCESS_KEY_ID={AWS_KEY}\n")],
    ])  # fmt: skip
    analysis = anchore.analyze(oci_archive(tmp_path / "img.tar", built), analyzers=["secrets"])
    (finding,) = [x for x in analysis.findings if x.kind == "secret"]
    assert finding.locations[0].path == "/" + path
    assert finding.locations[0].layer_index == 1


# ---------------------------------------------------------------- defect 3: nested archives
def _jar(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def _props(group: str, artifact: str, version: str) -> dict[str, bytes]:
    text = f"groupId={group}\nartifactId={artifact}\nversion={version}\n"
    return {f"META-INF/maven/{group}/{artifact}/pom.properties": text.encode()}


def test_one_unreadable_nested_jar_costs_only_itself(tmp_path):
    """Before the fix: [] and one error; before the kit: app and good-lib and the error."""
    from anchore.analyzers.java import MAX_META_BYTES

    good = _jar(_props("org.good", "good-lib", "1.0"))
    bad = _jar({"META-INF/MANIFEST.MF": b"A" * (MAX_META_BYTES + 1)})
    fat = _jar({
        **_props("org.app", "app", "2.0"),
        "BOOT-INF/lib/good-lib-1.0.jar": good,
        "BOOT-INF/lib/bad-3.0.jar": bad,
    })  # fmt: skip
    built = build([[f("opt/app.jar", fat)]])
    analysis = anchore.analyze(oci_archive(tmp_path / "img.tar", built), analyzers=["java"])
    assert sorted((p.name, p.version) for p in analysis.packages) == [
        ("app", "2.0"),
        ("good-lib", "1.0"),
    ]
    (error,) = analysis.errors
    assert error.path == "/opt/app.jar"
    assert (
        "/opt/app.jar:BOOT-INF/lib/bad-3.0.jar: META-INF/MANIFEST.MF is larger than"
        in error.message
    )


def test_a_nested_jar_that_does_not_inflate_is_one_error(tmp_path):
    good = _jar(_props("org.good", "good-lib", "1.0"))
    manifest = "".join(f"Key-{i}: {i * 7919 % 1009}\n" for i in range(60)).encode()
    corrupt = bytearray(_jar({"META-INF/MANIFEST.MF": manifest}))
    corrupt[50:58] = b"\xff" * 8  # inside the deflated manifest: a zlib.error, not BadZipFile
    fat = _jar({
        **_props("org.app", "app", "2.0"),
        "lib/good-lib-1.0.jar": good,
        "lib/corrupt-1.0.jar": bytes(corrupt),
    })  # fmt: skip
    built = build([[f("opt/app.jar", fat)]])
    analysis = anchore.analyze(oci_archive(tmp_path / "img.tar", built), analyzers=["java"])
    assert {p.name for p in analysis.packages} >= {"app", "good-lib"}
    assert [e.path for e in analysis.errors] == ["/opt/app.jar"]
    assert (
        "/opt/app.jar:lib/corrupt-1.0.jar: corrupt compressed data (Error -3"
        in analysis.errors[0].message
    )


def test_an_executable_plugins_findings_are_the_writers_and_packages_the_introducers(tmp_path):
    """An external analyzer's package is attributed as a built-in's (the layer that put the
    file there); its finding is about the content as it is now (the layer that wrote it)."""
    from anchore.analyzers.executables import ExecutableAnalyzer

    script = tmp_path / "anchore-analyzer-t"
    script.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = describe ]; then echo \'{"name": "t", "patterns": ["/etc/shells"]}\'; '
        "exit 0; fi\n"
        "cat >/dev/null\n"
        'echo \'{"type": "package", "package_type": "generic", "name": "sh", "version": "1", '
        '"path": "/etc/shells"}\'\n'
        'echo \'{"type": "finding", "kind": "note", "message": "zsh listed", '
        '"path": "/etc/shells"}\'\n'
    )
    script.chmod(0o755)
    built = build([[f("etc/shells", "/bin/sh\n")], [f("etc/shells", "/bin/sh\n/bin/zsh\n")]])
    analysis = anchore.analyze(
        oci_archive(tmp_path / "img.tar", built), analyzers=[ExecutableAnalyzer(str(script))]
    )
    assert not analysis.errors
    (package,) = analysis.packages
    (finding,) = analysis.findings
    assert package.locations[0].layer_index == 0
    assert finding.locations[0].layer_index == 1


# ---------------------------------------------------------------- unread files of vulnerability rules
VULNS = {"gate": "vulnerabilities", "trigger": "package", "params": {"severity": "critical"}}


@pytest.fixture(scope="module")
def pypa_store(tmp_path_factory):
    from anchore.vulns import Store, load
    from testdata import PYPA_ZIP

    path = tmp_path_factory.mktemp("v") / "pypa.sqlite"
    with Store(path, create=True) as store:
        load(store, PYPA_ZIP)
    return path


@pytest.fixture(scope="module")
def broken_jar_image(tmp_path_factory) -> str:
    """One .jar that is no zip, and an /etc/passwd over 512 bytes."""
    built = build([[
        f("etc/os-release", 'ID=debian\nVERSION_ID="12"\n'),
        f("etc/passwd", PASSWD),
        f("etc/group", "root:x:0:\n"),
        f("opt/broken.jar", b"this is not a zip archive\n" * 4),
    ]])  # fmt: skip
    return oci_archive(tmp_path_factory.mktemp("img") / "jar.tar", built)


def test_an_unreadable_jar_is_an_unchecked_hit_of_vulnerability_rules(broken_jar_image, pypa_store):
    """Before: the java error made every vulnerabilities rule a MissingEvidenceError, so
    one odd .jar left the image unevaluable. Now the jar is named as unchecked."""
    analysis = _analyze(broken_jar_image)
    assert [(e.analyzer, e.path) for e in analysis.errors] == [("java", "/opt/broken.jar")]
    ev = anchore.evaluate(analysis, bundle_of(VULNS), store=pypa_store)
    assert ev.final_action != "GO"
    (item,) = ev.items
    assert item.trigger_id == "vulnerabilities:package:unchecked:unread:/opt/broken.jar"
    assert "/opt/broken.jar could not be read" in item.message
    assert "allow_unchecked: true accepts it" in item.message

    allowed = {**VULNS, "params": {**VULNS["params"], "allow_unchecked": True}}
    assert anchore.evaluate(analysis, bundle_of(allowed), store=pypa_store).final_action == "GO"

    # a rule about other package types does not see the jar
    python_only = {**VULNS, "params": {"package_types": ["python"]}}
    assert anchore.evaluate(analysis, bundle_of(python_only), store=pypa_store).final_action == "GO"

    unavailable = {"gate": "vulnerabilities", "trigger": "vulnerability_data_unavailable"}
    ev = anchore.evaluate(analysis, bundle_of(unavailable), store=pypa_store)
    assert [i.trigger_id for i in ev.items] == [
        "vulnerabilities:vulnerability_data_unavailable:unread:/opt/broken.jar"
    ]


def test_a_failed_analyzer_still_makes_vulnerability_rules_unevaluable(
    broken_jar_image, pypa_store
):
    analysis = attrs.evolve(_analyze(broken_jar_image), failed_analyzers=("java",))
    with pytest.raises(MissingEvidenceError, match="'java' analyzer, which failed"):
        anchore.evaluate(analysis, bundle_of(VULNS), store=pypa_store)
    analysis = _analyze(broken_jar_image)
    analysis.errors.append(AnalyzerError("java", "could not list the jars"))  # no file named
    with pytest.raises(MissingEvidenceError, match="could not read all of it"):
        anchore.evaluate(analysis, bundle_of(VULNS), store=pypa_store)


def test_an_unread_passwd_still_raises_beside_an_unread_jar(broken_jar_image, pypa_store):
    analysis = _analyze(broken_jar_image, Limits(max_read_bytes=512))
    assert {e.path for e in analysis.errors} >= {"/etc/passwd", "/opt/broken.jar"}
    with pytest.raises(MissingEvidenceError) as err:
        anchore.evaluate(analysis, bundle_of(DENY_EVIL, VULNS), store=pypa_store)
    assert "/etc/passwd" in str(err.value) and "broken.jar" not in str(err.value)
