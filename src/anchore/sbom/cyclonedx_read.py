"""A CycloneDX BOM (JSON or XML, any 1.x) read back into an
:class:`~anchore.analysis.model.Analysis`: ours with everything its properties carry,
syft's with its own ``syft:`` properties (package type, locations, CPEs, distro).

The document is read as plain data (JSON, or XML turned into the JSON's shape), not
through cyclonedx-python-lib's deserializer: errors then name the JSON path of the
bad value, and a BOM the library would refuse over a detail we do not read still
imports. XML with a document type declaration is refused before it is parsed (no
CycloneDX document needs one; it is how entity expansion attacks start).
"""

from __future__ import annotations

import pyexpat
import xml.etree.ElementTree as ET
from typing import Any, BinaryIO

from anchore import ecosystems
from anchore.analysis.model import (
    Analysis,
    AnalyzerError,
    Distro,
    Location,
    Package,
    Relationship,
)
from anchore.documents import load_json
from anchore.errors import ImageFormatError
from anchore.image.model import ImageInfo
from anchore.limits import Limits
from anchore.sbom.common import (
    TOOL_NAME,
    Fields,
    analyzer_errors,
    imported_analysis,
    load_sbom_json,
    namespace_metadata,
    package_type_of,
    read_bounded,
)
from anchore.sbom.errors import SbomFormatError

__all__ = ["read_cyclonedx", "xml_to_json_shape"]


def read_cyclonedx(path: str, fp: BinaryIO, limits: Limits, *, xml: bool, origin: str) -> Analysis:
    """The analysis the CycloneDX BOM in ``fp`` describes."""
    data = read_bounded(path, fp, limits)
    doc = xml_to_json_shape(path, data) if xml else load_sbom_json(path, data, limits)
    bom = Fields(path, doc)
    if not xml and bom.text("bomFormat") != "CycloneDX":
        raise bom.error("bomFormat", f"is {bom.raw.get('bomFormat')!r}, not 'CycloneDX'")
    return _Reader(path, limits).analysis(bom, origin)


# -- XML -------------------------------------------------------------------------------


def _refuse_doctype(path: str, data: bytes) -> None:
    def refuse(*_: Any) -> None:
        raise SbomFormatError(
            f"{path}: an XML document type declaration (DOCTYPE) is not accepted in a "
            "CycloneDX BOM (entity expansion)",
            source=path,
        )

    parser = pyexpat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except pyexpat.ExpatError as exc:
        raise SbomFormatError(f"{path}: not well-formed XML: {exc}", source=path) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    found = _children(el, name)
    return found[0] if found else None


def _text(el: ET.Element, name: str) -> str | None:
    c = _child(el, name)
    return None if c is None else (c.text or "").strip()


def _x_props(el: ET.Element) -> list[dict[str, Any]]:
    holder = _child(el, "properties")
    if holder is None:
        return []
    return [{"name": p.get("name"), "value": p.text or ""} for p in _children(holder, "property")]


#: nested <components> deeper than this are refused (the JSON's depth bound, for XML)
MAX_XML_NESTING = 32


def _x_component(el: ET.Element, path: str, depth: int = 0) -> dict[str, Any]:
    if depth > MAX_XML_NESTING:
        raise SbomFormatError(
            f"{path}: components nested deeper than {MAX_XML_NESTING} levels", source=path
        )
    out: dict[str, Any] = {"type": el.get("type"), "bom-ref": el.get("bom-ref")}
    for key in ("group", "name", "version", "description", "purl", "cpe"):
        value = _text(el, key)
        if value is not None:
            out[key] = value
    licenses = _child(el, "licenses")
    if licenses is not None:
        out["licenses"] = []
        for lic in licenses:
            if _local(lic.tag) == "expression":
                out["licenses"].append({"expression": (lic.text or "").strip()})
            elif _local(lic.tag) == "license":
                entry = {k: v for k in ("id", "name") if (v := _text(lic, k)) is not None}
                out["licenses"].append({"license": entry})
    hashes = _child(el, "hashes")
    if hashes is not None:
        out["hashes"] = [{"alg": h.get("alg"), "content": (h.text or "").strip()}
                         for h in _children(hashes, "hash")]  # fmt: skip
    out["properties"] = _x_props(el)
    nested = _child(el, "components")
    if nested is not None:
        out["components"] = [
            _x_component(c, path, depth + 1) for c in _children(nested, "component")
        ]
    return out


def xml_to_json_shape(path: str, data: bytes) -> dict[str, Any]:
    """The parts of a CycloneDX XML BOM this reader uses, in the JSON encoding's shape."""
    _refuse_doctype(path, data)
    root = ET.fromstring(data)
    if _local(root.tag) != "bom" or not root.tag.startswith("{http://cyclonedx.org/schema/bom/"):
        raise SbomFormatError(f"{path}: the root element is not a CycloneDX <bom>", source=path)
    doc: dict[str, Any] = {"bomFormat": "CycloneDX"}
    meta = _child(root, "metadata")
    if meta is not None:
        m: dict[str, Any] = {"properties": _x_props(meta)}
        component = _child(meta, "component")
        if component is not None:
            m["component"] = _x_component(component, path)
        tools = _child(meta, "tools")
        if tools is not None:
            holder = _child(tools, "components")
            items = _children(holder, "component") if holder is not None else []
            legacy = [{"name": _text(t, "name"), "version": _text(t, "version")}
                      for t in _children(tools, "tool")]  # fmt: skip
            m["tools"] = {"components": [_x_component(t, path) for t in items] + legacy}
        doc["metadata"] = m
    components = _child(root, "components")
    doc["components"] = (
        []
        if components is None
        else [_x_component(c, path) for c in _children(components, "component")]
    )
    deps = _child(root, "dependencies")
    if deps is not None:
        doc["dependencies"] = [
            {"ref": d.get("ref"), "dependsOn": [c.get("ref") for c in _children(d, "dependency")]}
            for d in _children(deps, "dependency")
        ]
    return doc


# -- the analysis ----------------------------------------------------------------------


def _properties(f: Fields) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in f.objects("properties") or ():
        name = p.text("name")
        if name is not None:
            out.setdefault(name, []).append(p.text("value") or "")
    return out


def _locations(props: dict[str, list[str]]) -> tuple[Location, ...]:
    """Locations from our ``anchore:location:N:*`` properties, else syft's
    ``syft:location:N:path``/``layerID`` (whose layer index is not known: -1)."""
    found: dict[int, dict[str, str]] = {}
    for name, values in props.items():
        parts = name.split(":")
        if len(parts) == 4 and parts[1] == "location" and parts[0] in ("anchore", "syft"):
            try:
                index = int(parts[2])
            except ValueError:
                continue
            found.setdefault(index, {})[f"{parts[0]}:{parts[3]}"] = values[0]
    out = []
    for _, loc in sorted(found.items()):
        if "anchore:path" in loc:
            try:
                layer = int(loc.get("anchore:layer_index", "-1"))
            except ValueError:
                layer = -1
            out.append(Location(loc["anchore:path"], layer, loc.get("anchore:layer_digest", "")))
        elif "syft:path" in loc:
            out.append(Location(loc["syft:path"], -1, loc.get("syft:layerID", "")))
    return tuple(out)


def _license(f: Fields) -> str | None:
    expression = f.text("expression")
    if expression is not None:
        return expression
    lic = f.object("license")
    if lic is None:
        return None
    return lic.text("id") or lic.text("name")


def _name(name: str, group: str | None, package_type: str) -> str:
    """A component's group is part of the package's name where the ecosystem keeps the
    purl namespace in the name (an npm scope, a Go module path, a composer vendor), not
    where it is separate (a Maven groupId)."""
    row = ecosystems.find(package_type)
    if not group or "/" in name or row is None or not row.purl.in_name:
        return name
    return f"{group}/{name}"


def _one(props: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        if name in props:
            return props[name][0]
    return None


class _Reader:
    def __init__(self, path: str, limits: Limits) -> None:
        self.path, self.limits = path, limits

    def _json(self, f: Fields, name: str, text: str) -> Any:
        def fail(problem: str) -> SbomFormatError:
            return f.error("properties", f"{name}: {problem}")

        try:
            return load_json(text, fail, max_depth=self.limits.max_json_depth)
        except ValueError as exc:
            if isinstance(exc, SbomFormatError):
                raise
            raise fail(f"not JSON: {exc}") from None

    def _flat(self, components: list[Fields] | None) -> list[Fields]:
        out: list[Fields] = []
        stack = list(reversed(components or []))
        while stack:
            c = stack.pop()
            out.append(c)
            stack.extend(reversed(c.objects("components") or []))
        return out

    def _package(self, c: Fields, props: dict[str, list[str]]) -> Package:
        name = c.required_text("name")
        group = c.text("group")
        purl = c.text("purl") or ""
        stated = _one(props, "anchore:package:type", "syft:package:type")
        metadata: Any = {}
        if "anchore:package:metadata" in props:
            metadata = self._json(
                c, "anchore:package:metadata", props["anchore:package:metadata"][0]
            )
            if not isinstance(metadata, dict):
                raise c.error("properties", "anchore:package:metadata is not a JSON object")
        cpe = c.text("cpe")
        cpes = (
            ([cpe] if cpe else [])
            + props.get("anchore:package:cpe", [])
            + props.get("syft:cpe23", [])
        )
        licenses = []
        for lic in c.objects("licenses") or ():
            text = _license(lic)
            if text:
                licenses.append(text)
        package_type = package_type_of(purl, stated)
        return Package(
            type=package_type,
            name=_name(name, group, package_type),
            version=c.text("version") or "",
            purl=purl,
            locations=_locations(props),
            licenses=licenses,
            cpes=list(dict.fromkeys(cpes)),
            source_name=_one(props, "anchore:package:source_name"),
            source_version=_one(props, "anchore:package:source_version"),
            architecture=_one(props, "anchore:package:architecture"),
            metadata=namespace_metadata(purl, package_type, metadata),
            found_by=_one(props, "anchore:package:found_by", "syft:package:foundBy") or "",
            declared=_one(props, "anchore:package:declared") == "true",
        )

    def _distro(self, c: Fields, props: dict[str, list[str]]) -> Distro:
        return Distro(
            id=_one(props, "anchore:distro:id", "syft:distro:id") or c.required_text("name"),
            version_id=_one(props, "anchore:distro:version_id", "syft:distro:versionID")
            or c.text("version"),
            version_codename=_one(
                props, "anchore:distro:version_codename", "syft:distro:versionCodename"
            ),
            pretty_name=_one(props, "anchore:distro:pretty_name", "syft:distro:prettyName")
            or c.text("description"),
            id_like=props.get("anchore:distro:id_like", ()),
            cpe_name=_one(props, "anchore:distro:cpe_name"),
            locations=_locations(props),
        )

    def _image(self, component: Fields | None) -> ImageInfo:
        if component is None:
            return ImageInfo()
        props = _properties(component)
        if "anchore:image:info" in props:
            raw = self._json(component, "anchore:image:info", props["anchore:image:info"][0])
            try:
                return ImageInfo.from_dict(
                    raw, f"{self.path}: {component.where} anchore:image:info"
                )
            except ImageFormatError as exc:
                raise SbomFormatError(str(exc), source=self.path) from None
        name = component.text("name")
        version = component.text("version")
        tags = props.get("syft:image:tag", []) + props.get("anchore:image:tag", [])
        digest = version if version and version.startswith("sha256:") else None
        return ImageInfo(source=name or "", reference=name, tags=tuple(tags),
                         manifest_digest=digest)  # fmt: skip

    def _is_ours(self, meta: Fields | None) -> bool:
        tools = meta.raw.get("tools") if meta is not None else None
        items = tools.get("components", []) if isinstance(tools, dict) else tools or []
        return any(isinstance(t, dict) and t.get("name") == TOOL_NAME for t in items)

    def analysis(self, bom: Fields, origin: str) -> Analysis:
        meta = bom.object("metadata")
        meta_props = _properties(meta) if meta is not None else {}
        packages: list[Package] = []
        distro: Distro | None = None
        purl_of: dict[str, str] = {}
        relationships: list[Relationship] = []
        for c in self._flat(bom.objects("components")):
            props = _properties(c)
            kind = c.text("type")
            if kind == "operating-system":
                if distro is None:
                    distro = self._distro(c, props)
                continue
            if kind in ("file", "container", "data", "machine-learning-model"):
                continue
            pkg = self._package(c, props)
            packages.append(pkg)
            ref = c.text("bom-ref")
            if ref:
                purl_of[ref] = pkg.purl
            relationships += [Relationship(parent, pkg.purl)
                              for parent in props.get("anchore:package:owned_by", ())]  # fmt: skip
        if not self._is_ours(meta):
            for d in bom.objects("dependencies") or ():
                parent = purl_of.get(d.text("ref") or "")
                for child_ref in d.strings("dependsOn"):
                    child = purl_of.get(child_ref)
                    if parent and child:
                        relationships.append(Relationship(parent, child, "depends-on"))
        stated: list[str] = []
        if "anchore:analysis:analyzers" in meta_props and meta is not None:
            value = self._json(meta, "anchore:analysis:analyzers",
                               meta_props["anchore:analysis:analyzers"][0])  # fmt: skip
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise meta.error("properties", "anchore:analysis:analyzers is not a list of names")
            stated = value
        failed: tuple[str, ...] = ()
        if "anchore:analysis:failed_analyzers" in meta_props and meta is not None:
            value = self._json(meta, "anchore:analysis:failed_analyzers",
                               meta_props["anchore:analysis:failed_analyzers"][0])  # fmt: skip
            if isinstance(value, list):
                failed = tuple(v for v in value if isinstance(v, str))
        errors: list[AnalyzerError] = []
        if "anchore:analysis:errors" in meta_props and meta is not None:
            value = self._json(meta, "anchore:analysis:errors",
                               meta_props["anchore:analysis:errors"][0])  # fmt: skip
            holder = Fields(
                self.path, {"errors": value}, f"{meta.where}.properties<anchore:analysis>"
            )
            errors = analyzer_errors(holder.objects("errors"))
        return imported_analysis(
            origin=origin,
            image=self._image(meta.object("component") if meta is not None else None),
            distro=distro,
            packages=packages,
            relationships=relationships,
            stated=stated,
            failed=failed,
            errors=errors,
        )
