"""The analysis model's values: hashable, immutable, and serialised by one function."""

from __future__ import annotations

import datetime
import io
import json
import pickle
from pathlib import Path

import attrs
import pytest
import yaml

import anchore
from anchore.analysis.model import (
    Analysis,
    Dataset,
    Distro,
    FileRecord,
    Finding,
    ImageInfo,
    Location,
    Package,
)
from anchore.errors import ImageFormatError
from anchore.image.model import ContainerConfig, Healthcheck, HistoryEntry, LayerInfo, Platform
from anchore.policy import evaluate, parse_bundle
from anchore.serialize import FrozenList, FrozenMap, as_json, frozen_map, plain, to_dict
from imagebuilder import build, f, oci_archive

EXAMPLE_IMAGE = Path(__file__).parents[1] / "examples" / "busybox" / "busybox.oci.tar"

LOC = Location("/usr/lib/python3/dist-packages/yaml/__init__.py", 2, "sha256:abc")


def _package(**kw) -> Package:
    metadata = kw.pop("metadata", {"extras": ["pytest", "redis"], "direct_url": {"url": "x"}})
    fields = {"type": "python", "name": "pyyaml", "version": "6.0", "purl": "pkg:pypi/pyyaml@6.0",
              "locations": [LOC], "metadata": metadata, **kw}  # fmt: skip
    return Package(**fields)


def test_values_go_in_sets_and_equal_values_hash_equal():
    a, b = _package(), _package()
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert len({a, _package(version="6.1")}) == 2
    finding = Finding("secret", "aws-access-key-id", "a key", [LOC], data={"lines": [1, 2]})
    same = Finding("secret", "aws-access-key-id", "a key", (LOC,), data={"lines": (1, 2)})
    assert hash(finding) == hash(same) and {finding, same} == {finding}
    distro = Distro("debian", "12", id_like=["x"], locations=[LOC])
    assert {distro, Distro("debian", "12", id_like=("x",), locations=(LOC,))} == {distro}
    record = FileRecord("/etc/passwd", "file", 0o644, 0, 0, 10, 0, digests={"sha256": "ab"})
    assert hash(record) == hash(attrs.evolve(record))
    assert {LOC, Location(LOC.path, 2, "sha256:abc")} == {LOC}


def test_metadata_cannot_be_mutated_and_compares_as_a_dict():
    pkg = _package()
    assert isinstance(pkg.metadata, FrozenMap)
    with pytest.raises(TypeError):
        pkg.metadata["extras"] = []  # type: ignore[index]
    with pytest.raises(AttributeError):
        pkg.metadata["extras"].append("x")  # nested lists are frozen too
    assert pkg.metadata == {"extras": ["pytest", "redis"], "direct_url": {"url": "x"}}
    assert pkg.metadata["extras"] == ["pytest", "redis"] and dict(pkg.metadata)["direct_url"]
    # evolving with a merged dict, as the analyzers do, still works
    locked = attrs.evolve(pkg, metadata={**pkg.metadata, "lock": "/srv/app/poetry.lock"})
    assert locked.metadata["lock"] == "/srv/app/poetry.lock" and "lock" not in pkg.metadata
    assert pickle.loads(pickle.dumps(locked)) == locked
    config = ContainerConfig.parse({"Labels": {"team": "x"}}, "c")
    assert config.labels == {"team": "x"} and hash(config.labels)
    with pytest.raises(TypeError):
        frozen_map(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_frozen_list_equals_its_list_both_ways():
    frozen = FrozenList([1, 2])
    assert [1, 2] == frozen  # noqa: SIM300 (the list's side of the comparison)
    assert frozen == [1, 2] and frozen == (1, 2) and frozen != [2, 1]
    assert hash(frozen) == hash((1, 2))


def test_to_dict_round_trips_to_json():
    analysis = Analysis(image={}, distro=Distro("debian", "12"), packages=[_package()],
                        findings=[], files=[], errors=[])  # fmt: skip
    data = analysis.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["packages"][0]["metadata"] == {"extras": ["pytest", "redis"],
                                               "direct_url": {"url": "x"}}  # fmt: skip
    assert data["distro"]["cpe"] == "cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*"
    assert list(data) == ["schema", "origin", "image", "distro", "packages", "findings",
                          "files_known", "files", "relationships", "datasets", "analyzers",
                          "failed_analyzers", "errors", "layer_changes",
                          "package_changes"]  # fmt: skip
    record = FileRecord("/bin/su", "file", 0o4755, 0, 0, 1, 0).to_dict()
    assert record["mode"] == "4755"


def test_image_info_is_typed_and_reads_its_own_json_back():
    info = ImageInfo(
        source="img.tar",
        format="oci-archive",
        tags=["a:1"],
        config_digest="sha256:c",
        platform=Platform("linux", "arm", "v7"),
        created=datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc),
        config=ContainerConfig.parse(
            {"User": "app", "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30}}, "c"
        ),
        history=[HistoryEntry(None, "RUN x", None, None, False, 0)],
        layers=[LayerInfo(0, "sha256:l", "sha256:d", uncompressed_size=10)],
    )
    data = info.to_dict()
    assert data["platform"] == "linux/arm/v7" and data["architecture"] == "arm"
    assert data["variant"] == "v7" and data["created"] == "2024-01-02T00:00:00+00:00"
    assert data["config"]["healthcheck"] == {"Test": ["CMD", "true"], "Interval": 30}
    assert ImageInfo.from_dict(json.loads(json.dumps(data))) == info
    assert hash(info) == hash(ImageInfo.from_dict(data))
    assert info.size == 10 and ImageInfo(layers=()).size == 0
    assert ImageInfo.from_dict({"layers": [{"index": 0}]}).size is None  # unknown, not 0
    with pytest.raises(ImageFormatError, match="'tags'"):
        ImageInfo.from_dict({"tags": "a:1"})
    assert Analysis(image={}, distro=None, packages=[], findings=[], files=[],
                    errors=[]).image == ImageInfo()  # fmt: skip


def test_healthcheck_is_parsed_strictly():
    health = Healthcheck.parse({"Test": ["CMD-SHELL", "curl -f x"], "Retries": 3}, "c")
    assert health is not None and health.test == ("CMD-SHELL", "curl -f x")
    assert health["Test"] == ["CMD-SHELL", "curl -f x"] and dict(health) == {
        "Test": ["CMD-SHELL", "curl -f x"], "Retries": 3}  # fmt: skip
    assert not health.disabled and Healthcheck.parse({"Test": ["NONE"]}, "c").disabled
    assert Healthcheck.parse({}, "c").disabled and Healthcheck.parse(None, "c") is None
    for bad, message in (
        ("CMD true", "must be an object"),
        ({"Test": "CMD true"}, "Test must be a list of strings"),
        ({"Test": ["CMD", 1]}, "Test must be a list of strings"),
        ({"Interval": "30s"}, "Interval is '30s', not a count of nanoseconds"),
        ({"Retries": -1}, "Retries is -1"),
    ):
        with pytest.raises(ImageFormatError, match=message):
            Healthcheck.parse(bad, "cfg")


def test_the_serializer_checks_that_no_field_is_left_out():
    @attrs.frozen
    class Forgetful:
        __json_keys__ = ("a",)
        a: int
        b: int

    with pytest.raises(TypeError, match=r"leaves out the fields \['b'\]"):
        to_dict(Forgetful(1, 2))

    @attrs.frozen
    class Renamed:
        a: int = attrs.field(metadata=as_json(key="A"))
        when: datetime.date = datetime.date(2026, 1, 1)
        secret: str = attrs.field(default="x", metadata=as_json(omit=True))

    assert to_dict(Renamed(1)) == {"A": 1, "when": "2026-01-01"}


# ---------------------------------------------------------------- unknown is not empty
def _rules(*rules: tuple[str, str, dict]):
    doc = {"id": "t", "mappings": [{"policy_ids": ["p"]}], "policies": [{"id": "p", "rules": [
        {"id": f"r{i}", "gate": g, "trigger": t, "action": "STOP", "params": params}
        for i, (g, t, params) in enumerate(rules)]}]}  # fmt: skip
    return parse_bundle(doc, "unknown.json")


def test_history_and_layers_missing_from_json_are_unknown_and_rules_on_them_fire(tmp_path):
    """Defect 6: ``image={}`` (or JSON without history/layers) had no history, no layers and
    size 0, so dockerfile.instruction, metadata.layer_count and metadata.image_size said GO."""
    empty = ImageInfo.from_dict({})
    assert empty.history is None and empty.layers is None and empty.size is None
    assert empty == ImageInfo() and empty.to_dict()["history"] is None
    assert ImageInfo.from_dict(empty.to_dict()) == empty  # null reads back as unknown
    known = ImageInfo.from_dict({"history": [], "layers": []})
    assert known.history == () and known.layers == () and known.size == 0

    path = oci_archive(tmp_path / "img.tar", build([[f("etc/motd", "hi\n")]]))
    analysis = anchore.analyze(anchore.open_image(path), analyzers=[])
    assert analysis.image.history is not None and analysis.image.layers is not None
    bundle = _rules(("dockerfile", "instruction", {"regex": "curl .*[|] *sh"}),
                    ("metadata", "layer_count", {"max": 10}),
                    ("metadata", "image_size", {"max_bytes": 10**9}))  # fmt: skip
    assert evaluate(analysis, bundle).final_action == "GO"  # known, and small
    image = analysis.image.to_dict()
    del image["history"], image["layers"]
    unknown = attrs.evolve(analysis, image=image)
    result = evaluate(unknown, bundle)
    assert result.final_action == "STOP"
    messages = sorted(item.message for item in result.items)
    assert messages == ["the image's build history is unknown",
                        "the image's layer count is unknown",
                        "the image's size is unknown (its layers are not known)"]  # fmt: skip
    made = Analysis(image={}, distro=None, packages=[], findings=[], files=[], errors=[])
    assert len(evaluate(made, bundle).items) == 3


# ---------------------------------------------------------------- Healthcheck is a Mapping
def test_healthcheck_equals_the_object_it_was_parsed_from():
    """Defect 8: attrs' __eq__ overrode Mapping's, so a Healthcheck was not equal to its dict
    (which it was before it was typed), and keys written as null were lost."""
    raw = {"Test": ["CMD", "true"], "Interval": 30, "Retries": None, "Future": {"x": 1}}
    health = Healthcheck.parse(raw, "c")
    assert health == raw and raw == health and not health != raw  # noqa: SIM202
    assert health != {"Test": ["CMD", "true"]} and health != {**raw, "Interval": 31}
    assert health != "not a mapping"
    assert dict(health) == raw and "Retries" in health and health["Retries"] is None
    assert health.retries is None and health.interval == 30
    assert plain(health) == raw and json.loads(json.dumps(plain(health))) == raw
    same = Healthcheck.parse(json.loads(json.dumps(raw)), "c")
    assert hash(same) == hash(health)
    assert len({health, same}) == 1 and health != Healthcheck.parse({"Test": ["CMD", "x"]}, "c")
    assert hash(health) == hash(frozen_map(raw))  # the hash of the mapping, as a FrozenMap's
    config = ContainerConfig.parse({"Healthcheck": raw}, "c")
    assert config.to_dict()["healthcheck"] == raw  # its JSON: the object as written


# ---------------------------------------------------------------- datasets are frozen too
def test_dataset_values_are_frozen_deeply_and_hashable():
    """Defect 9: Dataset.value stayed a mutable list/dict, so hash(Dataset) raised."""
    entries = [{"name": "root", "uid": 0, "members": ["a"]}]
    data = Dataset("passwd", entries, [LOC])
    assert hash(data) == hash(Dataset("passwd", json.loads(json.dumps(entries)), (LOC,)))
    assert len({data, Dataset("passwd", entries, [LOC])}) == 1
    assert isinstance(data.value, FrozenList) and isinstance(data.value[0], FrozenMap)
    assert data.value == entries and data.value[0]["members"] == ["a"]
    with pytest.raises(TypeError):
        data.value[0]["uid"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        data.value[0]["members"].append("b")
    entries[0]["uid"] = 5  # the caller's data is copied, not shared
    assert data.value[0]["uid"] == 0
    assert data.to_dict() == {"name": "passwd", "value": [{"name": "root", "uid": 0,
                              "members": ["a"]}], "locations": [LOC.to_dict()]}  # fmt: skip
    assert Dataset("n", "text").value == "text" and Dataset("n", None).value is None
    assert pickle.loads(pickle.dumps(data)) == data


def test_frozen_values_go_to_json_and_yaml_through_plain():
    """Defect 9: json.dumps(pkg.metadata) raises now that metadata is a FrozenMap; the
    documented ways out are plain(), to_dict() and json.dumps(default=plain)."""
    pkg = _package()
    with pytest.raises(TypeError):
        json.dumps(pkg.metadata)
    expected = {"extras": ["pytest", "redis"], "direct_url": {"url": "x"}}
    assert json.loads(json.dumps(pkg.metadata, default=plain)) == expected
    assert type(plain(pkg.metadata)) is dict and plain(pkg.metadata) == expected
    assert type(plain(pkg.metadata)["extras"]) is list
    assert yaml.safe_load(yaml.safe_dump(plain(pkg.metadata))) == expected
    assert pkg.to_dict()["metadata"] == expected


def test_plain_applies_the_rules_by_type():
    import enum

    class Kind(str, enum.Enum):
        A = "a"

    class Name(str):
        pass

    when = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.timezone.utc)
    value = {"k": Kind.A, "n": Name("x"), "s": {1}, "t": (LOC,), "d": when.date(), "w": when}
    assert plain(value) == {"k": "a", "n": "x", "s": [1], "t": [LOC.to_dict()],
                            "d": "2026-01-02", "w": "2026-01-02T03:04:00+00:00"}  # fmt: skip
    assert type(plain(value)["k"]) is str and plain(b"raw") == b"raw"


# ---- streaming JSON: the same bytes as json.dumps(to_dict()), one record at a time


def _empty_analysis():
    return Analysis(image={}, distro=None, packages=[], findings=[], files=[], errors=[])


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("files", [True, False])
@pytest.mark.parametrize("which", ["busybox", "empty"])
def test_write_json_is_json_dumps_of_to_dict(indent, files, which):
    if which == "busybox":
        analysis = anchore.analyze(EXAMPLE_IMAGE)
        assert analysis.files and analysis.packages
    else:
        analysis = _empty_analysis()
    expected = analysis.to_dict()
    if not files:
        del expected["files"]
    out = io.StringIO()
    analysis.write_json(out, indent=indent, files=files)
    assert out.getvalue() == json.dumps(expected, indent=indent)


def test_write_json_writes_the_inventory_record_by_record():
    """Each record is written as it is serialised: the file list is never one string."""
    analysis = anchore.analyze(EXAMPLE_IMAGE)
    writes = []

    class Recorder(io.StringIO):
        def write(self, text):
            writes.append(text)
            return super().write(text)

    analysis.write_json(Recorder())
    assert len(analysis.files) > 100
    # "link_target" is a key of file records only: no write holds two of them
    assert max(w.count('"link_target"') for w in writes) == 1
    assert sum(w.count('"link_target"') for w in writes) == len(analysis.files)
