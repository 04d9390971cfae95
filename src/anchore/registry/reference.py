"""Image references as registries and docker spell them (go-containerregistry's ``pkg/name``).

CONTRACT (issue 12): signatures fixed; bodies are the registry-auth engineer's.
"""

from __future__ import annotations

import attrs

__all__ = ["DOCKER_HUB", "Reference", "looks_like_reference", "parse_reference"]

#: where Docker Hub's API lives (``docker.io`` and ``registry-1.docker.io`` are the same)
DOCKER_HUB = "index.docker.io"


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
        raise NotImplementedError

    @property
    def name(self) -> str:
        """``registry/repository`` (``index.docker.io/library/python``)."""
        raise NotImplementedError

    def __str__(self) -> str:
        """The full form: ``registry/repository:tag@digest`` (what messages print)."""
        raise NotImplementedError


def parse_reference(text: str, *, default_registry: str = DOCKER_HUB) -> Reference:
    """Parse a reference, as docker does: a first component with a ``.`` or ``:`` or
    ``localhost`` is a registry (``docker.io`` becomes ``index.docker.io``), Docker
    Hub names without a ``/`` get ``library/``; repository components are lowercase
    ``[a-z0-9]+([._]|__|-+)[a-z0-9]+``, a tag ``[\\w][\\w.-]{0,127}``, a digest
    ``algorithm:hex`` of the right length. A ``docker://`` prefix is allowed.
    Anything else is an :class:`~anchore.registry.errors.InvalidReferenceError`."""
    raise NotImplementedError


def looks_like_reference(text: str) -> bool:
    """Whether ``text`` is meant as a registry reference rather than a local path
    (called only when no such path exists): ``docker://...`` always; not when it looks
    like a path (starts with ``/``, ``./``, ``../``, ``~``, ends in ``.tar``, ``.tgz``,
    ``.tar.gz``, ``.tar.zst``, ``.json``, ``.xml``, holds a ``\\``) or does not parse.
    So a mistyped ``image.tar`` is "no such file", not a pull from Docker Hub."""
    raise NotImplementedError
