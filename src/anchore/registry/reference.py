"""Image references as registries and docker spell them (go-containerregistry's ``pkg/name``).

The grammar is docker's (``distribution/reference``): ``[host[:port]/]path[:tag][@digest]``.
The first ``/``-separated component is a registry host when it holds a ``.`` or ``:``
or is ``localhost``; otherwise the name is on Docker Hub, where a single component
gets ``library/``. Every rejection names the text and the part that is wrong.
"""

from __future__ import annotations

import re
from typing import NoReturn

import attrs

from anchore.registry.digests import ALGORITHMS
from anchore.registry.errors import InvalidReferenceError

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_ALIASES",
    "Reference",
    "looks_like_reference",
    "parse_reference",
]

#: where Docker Hub's API lives (``docker.io`` and ``registry-1.docker.io`` are the same)
DOCKER_HUB = "index.docker.io"

#: names Docker Hub goes by; all normalised to :data:`DOCKER_HUB` (the one list: the
#: session and the keychain use it too)
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

#: the longest ``registry/repository`` docker accepts
_NAME_MAX = 255

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]{{1,5}})?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_HEX = re.compile(r"[0-9a-f]+")

_PATH_PREFIXES = ("/", "./", "../", "~")
_PATH_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.zst", ".json", ".xml")


@attrs.frozen
class Reference:
    """``registry/repository[:tag][@digest]``, normalised: ``python:3.12`` is
    ``index.docker.io/library/python:3.12``."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None
    #: as the user wrote it, for messages
    original: str = attrs.field(default="", eq=False)

    @property
    def identifier(self) -> str:
        """What the manifest URL takes: the digest when there is one, else the tag
        (``latest`` when neither was given)."""
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        """``registry/repository`` (``index.docker.io/library/python``)."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        """The full form: ``registry/repository:tag@digest`` (what messages print)."""
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _invalid(text: str, problem: str) -> InvalidReferenceError:
    return InvalidReferenceError(f"not an image reference: {text!r}: {problem}", reference=text)


def _check_digest(text: str, digest: str) -> None:
    algorithm, colon, hexpart = digest.partition(":")
    if not colon or not algorithm or not hexpart:
        _fail(text, f"digest {digest!r} is not algorithm:hex (sha256:...)")
    if algorithm not in ALGORITHMS:
        known = ", ".join(sorted(ALGORITHMS))
        _fail(text, f"digest algorithm {algorithm!r} is not one of {known}")
    if not _HEX.fullmatch(hexpart):
        _fail(text, f"digest {digest!r} is not lowercase hex after {algorithm}:")
    if len(hexpart) != ALGORITHMS[algorithm]:
        want = ALGORITHMS[algorithm]
        _fail(text, f"a {algorithm} digest has {want} hex digits, {digest!r} {len(hexpart)}")


def _fail(text: str, problem: str) -> NoReturn:
    raise _invalid(text, problem)


def _split_registry(text: str, name: str, default_registry: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        if not _HOST.fullmatch(first):
            _fail(text, f"registry host {first!r} is not host[:port]")
        registry, repository = first.lower(), rest
    else:
        registry, repository = default_registry, name
    if registry in DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return registry, repository


def _check_repository(text: str, repository: str) -> None:
    if not repository:
        _fail(text, "the repository name is empty")
    for component in repository.split("/"):
        if not component:
            _fail(text, f"repository {repository!r} has an empty path component")
        if not _PATH_COMPONENT.fullmatch(component):
            if component.lower() != component:
                _fail(text, f"repository names are lowercase, not {component!r}")
            _fail(
                text,
                f"repository component {component!r} is not lowercase letters and digits"
                " separated by '.', '_', '__' or '-'",
            )


def parse_reference(text: str, *, default_registry: str = DOCKER_HUB) -> Reference:
    """Parse a reference, as docker does: a first component with a ``.`` or ``:`` or
    ``localhost`` is a registry (``docker.io`` becomes ``index.docker.io``), Docker
    Hub names without a ``/`` get ``library/``; repository components are lowercase
    ``[a-z0-9]+([._]|__|-+)[a-z0-9]+``, a tag ``[\\w][\\w.-]{0,127}``, a digest
    ``algorithm:hex`` of the right length. A ``docker://`` prefix is allowed.
    Anything else is an :class:`~anchore.registry.errors.InvalidReferenceError`."""
    if not isinstance(text, str):
        raise InvalidReferenceError(f"not an image reference: {text!r} is not a string")
    spelled = text.removeprefix("docker://")
    if not spelled:
        _fail(text, "it is empty")
    if any(ch.isspace() for ch in spelled):
        _fail(text, "it holds whitespace")
    if not spelled.isprintable() or not spelled.isascii():
        _fail(text, "it holds characters no reference may hold")
    name, at, digest = spelled.partition("@")
    if at:
        if "@" in digest:
            _fail(text, "it has more than one '@'")
        _check_digest(text, digest)
    tag: str | None = None
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            _fail(text, f"tag {tag!r} is not [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")
    if not name:
        _fail(text, "the repository name is empty")
    if len(name) > _NAME_MAX:
        _fail(text, f"the name is {len(name)} characters long, more than {_NAME_MAX}")
    registry, repository = _split_registry(text, name, default_registry)
    _check_repository(text, repository)
    return Reference(registry, repository, tag, digest or None, original=text)


def looks_like_reference(text: str) -> bool:
    """Whether ``text`` is meant as a registry reference rather than a local path
    (called only when no such path exists): ``docker://...`` always; not when it looks
    like a path (starts with ``/``, ``./``, ``../``, ``~``, ends in ``.tar``, ``.tgz``,
    ``.tar.gz``, ``.tar.zst``, ``.json``, ``.xml``, holds a ``\\``) or does not parse.
    So a mistyped ``image.tar`` is "no such file", not a pull from Docker Hub."""
    if text.startswith("docker://"):
        return True
    if text.startswith(_PATH_PREFIXES) or text.endswith(_PATH_SUFFIXES) or "\\" in text:
        return False
    try:
        parse_reference(text)
    except InvalidReferenceError:
        return False
    return True
