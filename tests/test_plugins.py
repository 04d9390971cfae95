"""Plugins: hooks, entry points, executable analyzers, and failure isolation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import anchore
from anchore import plugins
from imagebuilder import build, f, oci_archive

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def image(tmp_path):
    src = oci_archive(tmp_path / "img.tar", build([[f("etc/debian_version", "12.4\n"),
                                                      f("etc/shells", "# comment\n/bin/sh\n/bin/bash\n")]]))  # fmt: skip
    return anchore.open_image(src)


@pytest.fixture(scope="module")
def installed_example_plugin():
    """Install examples/python-plugin into this environment, as a user would."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         str(EXAMPLES / "python-plugin")],
        check=True,
    )  # fmt: skip
    plugins.reset()
    yield
    plugins.reset()


def test_builtins_come_through_the_hooks():
    builtins = [p for p in plugins.list() if p.source == "builtin"]
    assert [p.name for p in builtins] == list(plugins.DEFAULT_PLUGINS)  # each module by name
    analyzers = {name for p in builtins for name in p.analyzers}
    assert {"dpkg", "rpm", "apk", "python", "npm", "java", "golang", "secrets"} <= analyzers
    by_name = {p.name: p for p in builtins}
    assert by_name["anchore.analyzers.dpkg"].analyzers == ("dpkg",)
    assert "packages" in by_name["anchore.policy.gates"].gates
    assert by_name["anchore.vulns.load"].vulnerability_feeds == (
        "debian-tracker",
        "alpine-secdb",
        "osv",
    )


def test_anchore_plugins_lists_each_builtin_module(capsys):
    from anchore.cli import main

    assert main(["plugins"]) == 0
    rows = {line.split()[0]: line.split(None, 3) for line in capsys.readouterr().out.splitlines()}
    assert rows["PLUGIN"] == ["PLUGIN", "SOURCE", "KIND", "NAMES"]
    for module in plugins.DEFAULT_PLUGINS:
        assert rows[module][1] == "builtin"
    assert rows["anchore.analyzers.ecosystems"][2:] == [
        "analyzers",
        "ruby, php-composer, rust, dotnet",
    ]
    # executable plugins come from $ANCHORE_PLUGIN_PATH: none here, yet the module is listed
    assert rows["anchore.analyzers.executables"][2:] == ["-", "(nothing)"]


def test_entry_point_plugin_is_discovered_and_runs(installed_example_plugin, image):
    listed = {p.name: p for p in plugins.list()}
    (example,) = [p for p in listed.values() if "example-debian-version" in p.analyzers]
    assert example.source.startswith("entry point anchore-example-plugin 0.2.0")
    result = anchore.analyze(image, analyzers=["example-debian-version"])
    (finding,) = result.findings
    assert (
        finding.message == "Debian 12.4 (from layer 0)"
        and finding.found_by == "example-debian-version"
    )


def test_bash_analyzer_is_discovered_and_runs(image, monkeypatch):
    monkeypatch.setenv("ANCHORE_PLUGIN_PATH", str(EXAMPLES / "bash-analyzer"))
    plugins.reset()
    try:
        assert any(p.source.startswith("executable ") for p in plugins.list())
        result = anchore.analyze(image, analyzers=["example-shells"])
    finally:
        plugins.reset()
    assert not result.errors
    assert sorted((x.line, x.message) for x in result.findings) == [
        (2, "login shell /bin/sh"),
        (3, "login shell /bin/bash"),
    ]
    assert result.findings[0].locations[0].path == "/etc/shells"


def _script(tmp_path, body: str) -> str:
    path = tmp_path / "anchore-analyzer-test"
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)
    return str(path)


DESCRIBE = (
    'if [ "$1" = describe ]; then echo \'{"name": "t", "patterns": ["/etc/shells"]}\'; exit 0; fi\n'
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("echo oops >&2; exit 3", "exit status 3: oops"),
        ("echo 'not json'", "not JSON"),
        (
            'echo \'{"type": "package", "name": "x", "version": "1", "path": "/etc/passwd"}\'',
            "must name one of the files",
        ),
        ("cat >/dev/null; sleep 30", "killed after its time limit"),
    ],
)
def test_bad_executable_plugins_are_error_entries(tmp_path, image, body, message):
    from anchore.analyzers.executables import ExecutableAnalyzer

    bad = ExecutableAnalyzer(_script(tmp_path, DESCRIBE + body), timeout=2)
    result = anchore.analyze(image, analyzers=[bad, "distro"])
    assert any(message in e.message and e.analyzer == "t" for e in result.errors), result.errors
    assert result.distro is None or result.distro.id  # the rest completed


def test_executable_sees_read_only_files_in_a_directory_we_remove(tmp_path, image):
    from anchore.analyzers.executables import ExecutableAnalyzer

    seen = tmp_path / "seen"
    body = (
        'req=$(cat); f=$(printf "%s" "$req" | grep -o \'"file": *"[^"]*"\' | sed \'s/.*: *"//; s/"$//\')\n'
        f'ls -l "$f" > {seen}; dirname "$f" >> {seen}\n'
    )
    anchore.analyze(image, analyzers=[ExecutableAnalyzer(_script(tmp_path, DESCRIBE + body))])
    listing, directory = seen.read_text().splitlines()
    assert listing.startswith("-r--r--r--")
    assert not os.path.exists(directory)


def test_a_crashing_python_analyzer_does_not_sink_the_analysis(image):
    class Broken:
        name = "broken"
        patterns = ("**",)

        def analyze(self, files, context):
            raise RuntimeError("boom")

    result = anchore.analyze(image, analyzers=[Broken(), "distro"])
    assert [(e.analyzer, e.message) for e in result.errors] == [("broken", "boom")]


def test_unknown_analyzer_name_is_a_clear_error(image):
    with pytest.raises(anchore.AnchoreError, match="no analyzer named 'nope'"):
        anchore.analyze(image, analyzers=["nope"])


def test_progress_is_reported(image):
    seen = []
    anchore.analyze(image, progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = [s for s, _, _ in seen]
    assert stages[0] == "walk" and "analyze" in stages
    assert seen[-1][1] == seen[-1][2]


def test_file_inventory_digests_on_request(image):
    import hashlib

    plain = anchore.analyze(image, analyzers=["distro"])
    assert all(not f.digests for f in plain.files)
    tight = anchore.open_image(image.source, limits=anchore.Limits(max_read_bytes=10))
    result = anchore.analyze(tight, analyzers=["distro"], digests=("sha256", "md5"))
    shells = next(f for f in result.files if f.path == "/etc/shells")  # larger than the limit
    body = b"# comment\n/bin/sh\n/bin/bash\n"
    assert shells.digests == {
        "sha256": hashlib.sha256(body).hexdigest(),
        "md5": hashlib.md5(body).hexdigest(),
    }


def test_no_plugin_gets_a_malformed_purl_past_the_engine(tmp_path, image):
    """An executable plugin's invalid purl: the package is kept, without a purl, and said."""
    from anchore.analyzers.executables import ExecutableAnalyzer

    lines = [
        '{"type": "package", "name": "commons-io", "version": "2.6", "package_type": "java-archive", "purl": "pkg:maven/commons-io@2.6", "path": "/etc/shells"}',
        '{"type": "package", "name": "zlib", "version": "1.3", "package_type": "conan", "purl": "pkg:conan/zlib@1.3", "path": "/etc/shells"}',
        '{"type": "package", "name": "x", "version": "1", "purl": "not a purl", "path": "/etc/shells"}',
    ]
    body = "cat >/dev/null\n" + "".join(f"echo '{line}'\n" for line in lines)
    result = anchore.analyze(
        image, analyzers=[ExecutableAnalyzer(_script(tmp_path, DESCRIBE + body))]
    )
    by_name = {p.name: p for p in result.packages}
    assert set(by_name) == {"commons-io", "zlib", "x"}
    # a type anchore has no rule for is fine when it parses and round-trips
    assert by_name["zlib"].purl == "pkg:conan/zlib@1.3"
    for name in ("commons-io", "x"):
        assert by_name[name].purl == ""
        assert "invalid purl" in by_name[name].metadata["purl_missing"]
    assert len(result.errors) == 2
    assert all(e.analyzer == "t" and e.path == "/etc/shells" for e in result.errors)
    said = {e.message.split(":")[0]: e.message for e in result.errors}
    assert "needs a namespace" in said["java-archive commons-io 2.6"]
    assert "does not parse" in said["generic x 1"]


# ---------------------------------------------------------------- explicit registries
class _Motd:
    name = "motd-example"
    patterns = ("/etc/shells",)

    def analyze(self, files, context):
        for offered in files:
            yield anchore.Finding(kind="example", rule=self.name, message="seen",
                                  locations=(offered.location,))  # fmt: skip


class _MotdPlugin:
    @plugins.hookimpl
    def anchore_analyzers(self):
        return [_Motd()]


def test_a_plugin_on_an_explicit_registry_is_used_there_and_not_by_default(image):
    registry = plugins.Registry.load()
    registry.register(_MotdPlugin(), "motd")
    mine = anchore.analyze(image, registry=registry)
    assert [f.message for f in mine.findings if f.found_by == "motd-example"] == ["seen"]
    assert "motd-example" in mine.analyzers
    default = anchore.analyze(image)
    assert "motd-example" not in default.analyzers
    assert not any(f.found_by == "motd-example" for f in default.findings)
    assert "motd" not in {p.name for p in plugins.list()}
    with pytest.raises(anchore.errors.AnalyzerNotFoundError, match="did you mean 'motd-example'"):
        anchore.analyze(image, analyzers=["motd-exampel"], registry=registry)


def test_an_empty_registry_has_nothing_and_lists_what_is_registered():
    registry = plugins.Registry()
    assert registry.analyzers() == [] and registry.gates() == [] and registry.feeds() == []
    registry.register(_MotdPlugin(), "motd")
    assert registry.plugins() == [plugins.PluginInfo("motd", "registered", ("motd-example",))]
    with pytest.raises(plugins.PluginError, match="'motd'"):
        registry.register(_MotdPlugin(), "motd")  # the name is taken


class _NoAnalyze:
    name = "half-done"
    patterns = ("/etc/shells",)


@pytest.mark.parametrize(
    ("returned", "problem"),
    [
        ([_NoAnalyze()], "'analyze' is missing"),
        ([_Motd(), object()], "'name' is missing"),
        ([type("P", (_Motd,), {"patterns": "/etc/shells"})()], "'patterns' must be a collection"),
        ([type("N", (_Motd,), {"name": ""})()], "'name' must be a non-empty string"),
        (_Motd(), "must return a list"),
    ],
)
def test_a_plugin_returning_a_malformed_analyzer_is_refused(image, returned, problem):
    class Bad:
        @plugins.hookimpl
        def anchore_analyzers(self):
            return returned

    registry = plugins.Registry.load(entry_points=False)
    registry.register(Bad(), "bad-plugin")
    with pytest.raises(plugins.PluginError, match=problem) as caught:
        anchore.analyze(image, registry=registry)
    assert "plugin 'bad-plugin'" in str(caught.value)
    assert isinstance(caught.value, anchore.AnchoreError)
    with pytest.raises(plugins.PluginError, match="bad-plugin"):
        registry.plugins()


def test_an_analyzer_object_given_to_analyze_is_checked_too(image):
    with pytest.raises(plugins.PluginError, match="'analyze' is missing"):
        anchore.analyze(image, analyzers=[_NoAnalyze()])


def test_a_misspelt_hook_is_refused_not_ignored():
    class Typo:
        @plugins.hookimpl
        def anchore_analyser(self):
            return [_Motd()]

    registry = plugins.Registry()
    with pytest.raises(plugins.PluginError, match="did you mean 'anchore_analyzers'"):
        registry.register(Typo(), "typo")
    assert registry.plugins() == []  # not left half-registered


def test_the_default_registry_is_built_once_even_under_threads():
    import threading

    plugins.reset()
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(plugins.default_registry()))
               for _ in range(8)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in seen}) == 1 and seen[0] is plugins.default_registry()
    plugins.reset()
    assert plugins.default_registry() is not seen[0]


def test_executable_analyzers_follow_the_registry_environment():
    registry = plugins.Registry.load(
        entry_points=False, environ={"ANCHORE_PLUGIN_PATH": str(EXAMPLES / "bash-analyzer")}
    )
    (info,) = [p for p in registry.plugins() if p.source.startswith("executable ")]
    assert info.name == "executable:example-shells" and info.analyzers == ("example-shells",)
    bare = plugins.Registry.load(entry_points=False, environ={})
    assert not any(p.source.startswith("executable ") for p in bare.plugins())


def test_gates_come_from_the_registry_given_to_evaluate(image):
    from anchore.policy import BundleError, Gate, Hit, Trigger, evaluate, parse_bundle

    gate = Gate("motd", "an example gate", (Trigger(
        "always", "always fires", lambda ctx, params: [Hit("fired", key="k")]),))  # fmt: skip

    class GatePlugin:
        @plugins.hookimpl
        def anchore_gates(self):
            return [gate]

    registry = plugins.Registry.load(entry_points=False)
    registry.register(GatePlugin(), "motd-gate")
    doc = {
        "id": "b",
        "policies": [{"id": "p", "rules": [
            {"id": "r", "gate": "motd", "trigger": "always", "action": "WARN"}]}],
        "mappings": [{"name": "all", "policy_ids": ["p"]}],
    }  # fmt: skip
    analysis = anchore.analyze(image, analyzers=["distro"])
    assert evaluate(analysis, doc, registry=registry).final_action == "WARN"
    with pytest.raises(BundleError, match="unknown gate 'motd'|'motd' is not"):
        evaluate(analysis, doc)  # the default registry has no such gate
    parsed = parse_bundle(doc, "b.json", registry=registry)
    with pytest.raises(BundleError, match="no gate of this registry"):
        evaluate(analysis, parsed)  # parsed with one registry, evaluated with another


def test_feed_readers_come_from_the_registry_given(tmp_path):
    from anchore.vulns.load import detect

    class Reader:
        name = "motd-feed"

        def detect(self, path):
            return path.endswith(".motd")

        def read(self, path, report):
            return []

    class FeedPlugin:
        @plugins.hookimpl
        def anchore_vulnerability_feeds(self):
            return [Reader()]

    registry = plugins.Registry()
    registry.register(FeedPlugin(), "motd-feed")
    path = tmp_path / "x.motd"
    path.write_text("")
    assert detect(path, registry=registry).name == "motd-feed"
    with pytest.raises(anchore.vulns.FeedError, match="no feed reader recognises"):
        detect(path)


# ---------------------------------------------------------------- the hook reference
def _members(cls) -> set[str]:
    import attrs

    if attrs.has(cls):
        fields = {f.name for f in attrs.fields(cls)}
    else:
        fields = set(getattr(cls, "__annotations__", {}))
    methods = {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}
    return fields | methods


def test_required_members_are_the_protocols_members():
    from anchore.analysis.analyzer import Analyzer
    from anchore.plugins.hookspecs import REQUIRED_MEMBERS
    from anchore.policy.gate import Gate
    from anchore.vulns.load import Feed

    assert set(REQUIRED_MEMBERS["anchore_analyzers"]) == _members(Analyzer)
    assert set(REQUIRED_MEMBERS["anchore_gates"]) == _members(Gate)
    assert set(REQUIRED_MEMBERS["anchore_vulnerability_feeds"]) == _members(Feed)


def test_every_hook_is_called_by_the_code():
    """A hook without a caller is a promise nothing keeps (its spec is removed until then)."""
    import re

    from anchore.plugins import hookspecs

    source = "\n".join(p.read_text() for p in (ROOT / "src" / "anchore").rglob("*.py")
                       if p.name not in ("hookspecs.py", "reference.py"))  # fmt: skip
    for hook in (n for n in hookspecs.__all__ if n.startswith("anchore_")):
        assert re.search(rf'_collect\(\s*"{hook}"', source), f"{hook} is never collected"


def test_docs_hook_reference_is_rendered_from_the_specs():
    from anchore.plugins import reference

    text = (ROOT / "docs" / "plugins.md").read_text()
    assert reference.replace_section(text) == text, (
        "docs/plugins.md's hook reference differs from the specs; "
        "run: python -m anchore.plugins.reference docs/plugins.md"
    )
    for name in ("anchore_analyzers", "anchore_gates", "anchore_vulnerability_feeds"):
        assert f"### `{name}()" in text


# ---------------------------------------------------------------- names taken twice
def _analyzer_named(name: str) -> _Motd:
    return type("Renamed", (_Motd,), {"name": name})()


def _registry_with(hook: str, items: list, name: str = "shadow") -> plugins.Registry:
    plugin = type("Plugin", (), {hook: plugins.hookimpl(lambda self: items)})()
    registry = plugins.Registry.load(entry_points=False, environ={})
    registry.register(plugin, name)
    return registry


def test_a_plugin_analyzer_named_as_ours_is_refused_naming_both(image):
    """Not a silent replacement: select_analyzers(["python"]) would take the plugin's."""
    registry = _registry_with("anchore_analyzers", [_analyzer_named("python")])
    both = "plugin 'shadow' gives an analyzer named 'python' and so does plugin 'anchore.analyzers.python'"  # fmt: skip
    for call in (
        registry.analyzers,
        lambda: registry.select_analyzers(["python"]),
        lambda: anchore.analyze(image, registry=registry),
    ):
        with pytest.raises(plugins.PluginError, match=both):
            call()
    # what each plugin gives is still listed, so the clash can be seen and fixed
    assert {p.name: p.analyzers for p in registry.plugins()}["shadow"] == ("python",)


def test_one_plugin_giving_a_name_twice_is_refused(image):
    registry = _registry_with("anchore_analyzers", [_Motd(), _Motd()])
    with pytest.raises(plugins.PluginError, match="'shadow' gives an analyzer named 'motd-example' twice"):  # fmt: skip
        anchore.analyze(image, registry=registry)
    with pytest.raises(plugins.PluginError, match="twice"):
        registry.plugins()


def test_an_analysis_runs_each_analyzer_name_once(image):
    with pytest.raises(plugins.PluginError, match="two analyzers chosen are named 'distro'"):
        anchore.analyze(image, analyzers=[_analyzer_named("distro"), "distro"])
    # one object named as a built-in, in its place, is still fine (tests stand in for ours)
    result = anchore.analyze(image, analyzers=[_analyzer_named("distro")])
    assert result.analyzers == ("distro",)


def test_a_plugin_gate_named_as_ours_is_refused_naming_both(image):
    from anchore.policy import Gate, Trigger, evaluate, parse_bundle

    gate = Gate("packages", "mine", (Trigger("always", "fires", lambda ctx, p: []),))
    registry = _registry_with("anchore_gates", [gate])
    both = "plugin 'shadow' gives a gate named 'packages' and so does plugin 'anchore.policy.gates'"
    with pytest.raises(plugins.PluginError, match=both):
        registry.gates()
    doc = {
        "id": "b",
        "policies": [{"id": "p", "rules": [
            {"id": "r", "gate": "packages", "trigger": "always", "action": "STOP"}]}],
        "mappings": [{"name": "all", "policy_ids": ["p"]}],
    }  # fmt: skip
    analysis = anchore.analyze(image, analyzers=["distro"])
    with pytest.raises(plugins.PluginError, match=both):
        evaluate(analysis, doc, registry=registry)
    ours = plugins.default_registry().gates()
    with pytest.raises(plugins.PluginError, match="two gates are named 'packages'"):
        parse_bundle(doc, "b.json", gates=[*ours, gate])  # gates given, not a registry's


def test_a_plugin_feed_reader_named_as_ours_is_refused_naming_both(tmp_path):
    from anchore.vulns.load import detect

    class Reader:
        name = "osv"

        def detect(self, path):
            return True

        def read(self, path, report):
            return []

    registry = _registry_with("anchore_vulnerability_feeds", [Reader()])
    path = tmp_path / "x.json"
    path.write_text("{}")
    with pytest.raises(plugins.PluginError, match="'shadow' gives a feed reader named 'osv' and so does plugin 'anchore.vulns.load'"):  # fmt: skip
        detect(path, registry=registry)


# ---------------------------------------------------------------- plugins that fail to load
@pytest.fixture
def site(tmp_path, monkeypatch):
    """A directory on sys.path into which a test installs distributions, as pip would."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        if name.startswith("anchore_fb_"):
            del sys.modules[name]
    plugins.reset()


def _install(site: Path, value: str, module: str) -> None:
    """A distribution ``anchore-fb-broken 1.0`` with an anchore entry point ``broken``."""
    info = site / "anchore_fb_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: anchore-fb-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[anchore]\nbroken = {value}\n")
    (site / "anchore_fb_broken.py").write_text(module)


@pytest.mark.parametrize(
    ("value", "module", "cause"),
    [
        ("anchore_fb_broken", "import anchore_fb_no_such_dependency\n",
         "ModuleNotFoundError: No module named 'anchore_fb_no_such_dependency'"),
        ("anchore_fb_broken", "raise RuntimeError('needs a licence key')\n",
         "RuntimeError: needs a licence key"),
        ("anchore_fb_broken:plugin", "", "AttributeError: "),
        ("anchore_fb_gone", "", "ModuleNotFoundError: No module named 'anchore_fb_gone'"),
    ],
)  # fmt: skip
def test_an_entry_point_that_fails_to_load_is_a_plugin_error_naming_it(
    site, image, value, module, cause
):
    _install(site, value, module)
    said = f"entry point 'broken' ({value}) of anchore-fb-broken 1.0 cannot be loaded: {cause}"
    with pytest.raises(plugins.PluginError, match=re.escape(said)) as caught:
        plugins.Registry.load(environ={})
    assert caught.value.__cause__ is not None  # the plugin's own traceback is kept
    plugins.reset()
    with pytest.raises(plugins.PluginError, match=re.escape(said)):
        plugins.default_registry()
    with pytest.raises(plugins.PluginError, match="entry point 'broken'"):
        anchore.analyze(image)  # fails closed: not an analysis without the plugin


def test_an_entry_point_that_loads_is_registered_under_its_name(site):
    _install(site, "anchore_fb_broken", (
        "from anchore.plugins import hookimpl\n"
        "class A:\n    name = 'fb-example'\n    patterns = ('x',)\n"
        "    def analyze(self, files, context):\n        return []\n"
        "@hookimpl\ndef anchore_analyzers():\n    return [A()]\n"))  # fmt: skip
    registry = plugins.Registry.load(environ={})
    (info,) = [p for p in registry.plugins() if p.name == "broken"]
    assert info == plugins.PluginInfo(
        "broken", "entry point anchore-fb-broken 1.0", ("fb-example",)
    )


@pytest.mark.parametrize(
    ("module", "cause"),
    [
        ("anchore.analyzers.nope", "ModuleNotFoundError: No module named 'anchore.analyzers.nope'"),
        ("anchore_fb_broken", "RuntimeError: needs a licence key"),
    ],
)
def test_a_plugin_module_that_fails_to_import_is_a_plugin_error_naming_it(site, module, cause):
    (site / "anchore_fb_broken.py").write_text("raise RuntimeError('needs a licence key')\n")
    said = f"plugin module {module!r} cannot be imported: {cause}"
    with pytest.raises(plugins.PluginError, match=re.escape(said)):
        plugins.Registry.load((*plugins.DEFAULT_PLUGINS, module), entry_points=False, environ={})


# ---------------------------------------------------------------- match() and registries
def test_match_analyzes_an_image_with_the_registry_given(tmp_path, image):
    from anchore.vulns import LoadReport, Store, match, read_osv

    class Lib:
        name = "fb-lib"
        patterns = ("/etc/shells",)

        def analyze(self, files, context):
            for offered in files:
                yield anchore.Package(type="python", name="fb-lib", version="1.0",
                                      purl="pkg:pypi/fb-lib@1.0", locations=(offered.location,))  # fmt: skip

    record = {
        "id": "FB-2024-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "fb-lib"},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}],
    }  # fmt: skip
    (tmp_path / "FB-2024-1.json").write_text(json.dumps(record))
    store = Store(tmp_path / "db.sqlite", create=True)
    report = LoadReport()
    store.load(read_osv(tmp_path / "FB-2024-1.json", report), "osv-test", report)
    registry = _registry_with("anchore_analyzers", [Lib()], name="fb-lib")
    mine = match(image, store, registry=registry)
    assert [(m.package_name, m.advisory_id) for m in mine] == [("fb-lib", "FB-2024-1")]
    assert list(match(image, store)) == []  # the default registry has no such analyzer
