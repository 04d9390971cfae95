"""What the command modules share: the image arguments, opening the image, usage errors."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from anchore.display import human_size
from anchore.errors import InvalidPlatformError, LayerNotFoundError
from anchore.image import Image, Platform, open_image
from anchore.registry import (
    CredentialError,
    Credentials,
    InvalidReferenceError,
    RegistryOptions,
    looks_like_reference,
    parse_reference,
)

if TYPE_CHECKING:
    from anchore.analysis.model import Analysis
    from anchore.sbom.format import SbomFormat

__all__ = [
    "UsageError",
    "analysis_of",
    "check_layer",
    "configured_source",
    "human_size",
    "image_args",
    "image_options",
    "layer_number",
    "note_unused_on_sbom",
    "open_analysis",
    "open_from",
    "platform_arg",
    "registry_args",
    "registry_options",
    "remember_configured",
    "sbom_of",
]

#: credentials from the environment, as CI systems pass secrets; they are for the one
#: registry HOST_ENV names, never for whatever registry an image happens to be on
USERNAME_ENV = "ANCHORE_REGISTRY_USERNAME"
PASSWORD_ENV = "ANCHORE_REGISTRY_PASSWORD"
HOST_ENV = "ANCHORE_REGISTRY_HOST"


class UsageError(Exception):
    """An argument combination argparse cannot check (``--own`` without ``--layer``).

    Raised by a command; :func:`anchore.cli.main` prints it with the command's
    usage and exits USAGE_ERROR, as for argparse's own errors.
    """


#: per option dest, the values the configuration gave (and where from), and the words of
#: the command line: an option not typed whose value is a configured one came from the
#: configuration (see :func:`configured_source`)
_CONFIGURED: dict[str, list[tuple[Any, str]]] = {}
_ARGV: list[str] = []


def remember_configured(values: Mapping[str, list[tuple[Any, str]]], argv: Sequence[str]) -> None:
    """What :func:`anchore.cli.config.apply` made the parser's defaults, for this run,
    and the command line it is about to parse."""
    _CONFIGURED.clear()
    _CONFIGURED.update(values)
    _ARGV[:] = argv


def configured_source(dest: str, value: Any) -> str | None:
    """Where ``value`` of option ``dest`` came from when the configuration gave it (a
    file's path, ``$ANCHORE_PLATFORM``); None when it was typed or unset. Typed means
    ``--dest`` is on the command line (abbreviations are refused, so the full name is
    the only spelling); equality alone cannot tell ``--tag a`` from a configured ``a``."""
    if value is None:
        return None
    flag = "--" + dest.replace("_", "-")
    if any(word == flag or word.startswith(flag + "=") for word in _ARGV):
        return None
    return next((where for v, where in _CONFIGURED.get(dest, []) if v == value), None)


def note_unused_on_sbom(key: str, value: Any, where: str, source: str) -> None:
    """Say that a configured ``key`` (meant for images) is not used on the SBOM ``source``."""
    print(f"anchore: note: {key} {value} (from {where}) is for images; {source} is an "
          "SBOM, analyzed already: not used", file=sys.stderr)  # fmt: skip


def check_layer(source: str, layer: int | None, count: int) -> None:
    """Refuse ``--layer N`` past the ``count`` layers of ``source``: the one message of
    every command taking ``--layer`` (the library's offers negative indexes, which
    ``--layer`` does not take)."""
    if layer is None or layer < count:
        return
    if count == 0:
        valid = "it has no layers"
    else:
        plural = "s" if count > 1 else ""
        upto = f" to {count - 1}" if count > 1 else ""
        valid = f"it has {count} layer{plural}: --layer takes 0{upto}"
    raise LayerNotFoundError(
        f"{source}: no layer {layer}; {valid}",
        available=[str(i) for i in range(count)],
        source=source,
    )


def platform_arg(text: str) -> Platform:
    """``--platform`` as argparse checks it: a bad spelling is a usage error."""
    try:
        return Platform.parse(text)
    except InvalidPlatformError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def layer_number(text: str) -> int:
    """``--layer`` as argparse checks it: 0, 1, 2... (the range is the image's to check)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; layers are numbered from 0")
    return value


def image_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "image",
        help="an image in a registry (registry.example.com/team/app:1.2, python:3.12, "
        "name@sha256:...; docker://NAME always means a registry), a docker-save archive, "
        "OCI layout or OCI archive (path[:tag]), or an SBOM file (CycloneDX, SPDX, "
        "syft-json, anchore-json)",
    )
    image_options(p)


def image_options(p: argparse.ArgumentParser) -> None:
    """What chooses and reaches an image, for a command of several images (``diff``)."""
    p.add_argument(
        "--platform", type=platform_arg, help="os/arch[/variant] in a multi-platform index"
    )
    p.add_argument("--tag", help="which image, when the source holds several")
    registry_args(p)


def registry_args(p: argparse.ArgumentParser) -> None:
    """How to reach a registry, when an image is a reference (docs/registries.md)."""
    g = p.add_argument_group("registry", "when an image is pulled from a registry")
    g.add_argument(
        "--registry-auth",
        metavar="FILE",
        help="read credentials from this docker config.json or podman auth.json instead "
        "of the usual places ($DOCKER_CONFIG, ~/.docker/config.json, $REGISTRY_AUTH_FILE...)",
    )
    g.add_argument(
        "--username",
        help=f"user for the image's registry; the password is read from stdin with "
        f"--password-stdin, or from ${PASSWORD_ENV} (${USERNAME_ENV} and ${PASSWORD_ENV} "
        f"alone are for the registry ${HOST_ENV} names, and no other)",
    )
    g.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password (or token) for --username from stdin",
    )
    g.add_argument("--ca-bundle", metavar="FILE", help="also trust the CAs in this PEM file")
    g.add_argument(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        help="this registry may be reached over plain HTTP (repeatable; loopback ones always may)",
    )
    g.add_argument(
        "--insecure-skip-tls-verify",
        action="store_true",
        help="do not verify registries' TLS certificates (unsafe: prefer --ca-bundle)",
    )
    g.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="the blob cache (default: $ANCHORE_CACHE_DIR, else ~/.cache/anchore/blobs)",
    )


def _reference_text(image: str) -> str | None:
    """``image`` when it is pulled from a registry (as open_image decides), else None."""
    if image.startswith("docker://"):
        return image.removeprefix("docker://")
    if os.path.exists(image) or os.path.exists(image.rsplit(":", 1)[0]):
        return None  # a file or directory (path:tag) wins, as in open_image
    if not looks_like_reference(image):
        return None
    return image


def _password_from_stdin() -> str:
    text = sys.stdin.readline()
    return text.rstrip("\r\n")


def registry_options(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    images: Sequence[str] | None = None,
) -> RegistryOptions:
    """The :class:`RegistryOptions` the command line and environment ask for.

    ``--username`` with ``--password-stdin`` (or ``$ANCHORE_REGISTRY_PASSWORD``) are
    credentials for the registry of the command's images (``images``, default
    ``[args.image]``), used before any file or helper; they are refused when those
    images are on several registries (one password for two registries would give it to
    both). ``$ANCHORE_REGISTRY_USERNAME`` and ``$ANCHORE_REGISTRY_PASSWORD`` are for the
    registry ``$ANCHORE_REGISTRY_HOST`` names only: ignored (a note on stderr) for an
    image elsewhere, and a :class:`CredentialError` without that variable, so a secret
    set for a private registry never goes to Docker Hub. A missing ``--ca-bundle`` or
    ``--registry-auth`` file, or a user without a password, is a usage error.
    """
    env = os.environ if environ is None else environ
    for option, path in (("--ca-bundle", args.ca_bundle), ("--registry-auth", args.registry_auth)):
        if path is not None and not os.path.isfile(path):
            raise UsageError(f"{option} {path}: no such file")
    if args.password_stdin and args.username is None:
        raise UsageError("--password-stdin reads the password of --username; give --username")
    if images is None:
        images = [args.image] if getattr(args, "image", None) else []
    references = [text for text in map(_reference_text, images) if text is not None]
    if args.insecure_skip_tls_verify and references:
        registries = sorted({parse_reference(text).registry for text in references})
        print(
            f"anchore: warning: --insecure-skip-tls-verify: TLS certificates are not verified "
            f"for {', '.join(registries)} (nor its token realm and blob redirects)",
            file=sys.stderr,
        )
    if args.username is not None:
        return _options(args, _command_line_credentials(args, images, references, env))
    if env.get(USERNAME_ENV) and references:  # a file ignores the environment's credentials
        return _options(args, _environment_credentials(references, env))
    return _options(args, {})


def _command_line_credentials(
    args: argparse.Namespace,
    images: Sequence[str],
    references: Sequence[str],
    env: Mapping[str, str],
) -> dict[str, Credentials]:
    """``--username``: for the one registry of the command's images."""
    if not references:
        shown = ", ".join(images) or "no image"
        raise UsageError(f"--username is for a registry; {shown} is not an image reference")
    registries = sorted({parse_reference(text).registry for text in references})
    if len(registries) > 1:
        raise UsageError(
            f"--username is for one registry; the images are on {', '.join(registries)} "
            "(use an auth file: --registry-auth)"
        )
    if args.password_stdin:
        password = _password_from_stdin()
    elif env.get(PASSWORD_ENV):
        password = env[PASSWORD_ENV]
    else:
        raise UsageError(f"--username needs a password: --password-stdin or ${PASSWORD_ENV}")
    if not password:
        raise UsageError(f"the password for {args.username} is empty")
    return {registries[0]: Credentials(args.username, password, origin="--username")}


def _environment_credentials(
    references: Sequence[str], env: Mapping[str, str]
) -> dict[str, Credentials]:
    """``$ANCHORE_REGISTRY_USERNAME``/``PASSWORD``: for ``$ANCHORE_REGISTRY_HOST`` only."""
    first = parse_reference(references[0])
    host_text = env.get(HOST_ENV, "").strip()
    if not host_text:
        raise CredentialError(
            f"{references[0]}: ${USERNAME_ENV} is set but ${HOST_ENV} is not: set it to the "
            "registry those credentials are for (they are never sent to another registry)",
            registry=first.registry,
            reference=references[0],
        )
    host = registry_host(host_text)
    registries = {parse_reference(text).registry for text in references}
    if host not in registries:
        print(
            f"anchore: note: ${USERNAME_ENV} is for {host} (${HOST_ENV}), not "
            f"{', '.join(sorted(registries))}; not used",
            file=sys.stderr,
        )
        return {}
    password = env.get(PASSWORD_ENV)
    if not password:
        raise CredentialError(
            f"{references[0]}: ${USERNAME_ENV} is set but ${PASSWORD_ENV} is not",
            registry=host,
            reference=references[0],
        )
    return {host: Credentials(env[USERNAME_ENV], password, origin=f"${USERNAME_ENV}")}


def registry_host(text: str) -> str:
    """A registry host as references name it (``docker.io`` is ``index.docker.io``);
    anything else (a scheme, a path, a bare word Docker Hub would take as a namespace) is
    a usage error."""
    probe = "anchore-probe/image"
    try:
        reference = parse_reference(f"{text}/{probe}")
    except InvalidReferenceError:
        reference = None
    if reference is None or reference.repository != probe:
        raise UsageError(f"${HOST_ENV}={text!r} is not a registry host (registry.example.com)")
    return reference.registry


def _options(args: argparse.Namespace, credentials: dict[str, Credentials]) -> RegistryOptions:
    return RegistryOptions(
        insecure_registries=frozenset(args.insecure_registry or ()),
        ca_bundle=args.ca_bundle,
        verify_tls=not args.insecure_skip_tls_verify,
        credentials=credentials,
        auth_file=args.registry_auth,
        cache_dir=args.cache_dir,
    )


def open_from(args: argparse.Namespace) -> Image:
    _refuse_a_document(args.image)
    return open_image(
        args.image, platform=args.platform, tag=args.tag, registry=registry_options(args)
    )


def sbom_of(source: str) -> SbomFormat | None:
    """The SBOM format of ``source`` when it is an SBOM file anchore reads, else None (an
    image: an archive, a layout directory, ``path:tag``)."""
    from anchore.sbom import SbomError, sniff

    if not os.path.isfile(source):
        return None
    try:
        return sniff(source)
    except SbomError:  # unreadable: opening it as an image reports that, as for any image
        return None


def _refuse_a_document(source: str) -> None:
    """A JSON or XML file no SBOM format recognised: say so, not "not an image"."""
    from anchore.sbom import UTF8_BOM, SbomFormatError, formats

    if not os.path.isfile(source):
        return
    try:
        with open(source, "rb") as fh:
            start = fh.read(64).removeprefix(UTF8_BOM).lstrip()
    except OSError:
        return  # opening it as an image reports that, as for any image
    if start.startswith((b"{", b"<")):
        names = ", ".join(f.name for f in formats())
        raise SbomFormatError(
            f"{source}: neither an image nor an SBOM anchore reads: JSON or XML in none of "
            f"the SBOM formats ({names})",
            source=source,
        )


def analysis_of(
    source: str,
    *,
    platform: Platform | None = None,
    tag: str | None = None,
    registry_options: RegistryOptions | None = None,
    **analyze_options: Any,
) -> Analysis:
    """The analysis of ``source``: an SBOM file read back (any format anchore reads,
    sniffed), or the image opened (pulled as ``registry_options`` say, when a registry
    reference) and analyzed with ``analyze_options``. Options that choose within an image
    (``--platform``, ``--tag``, ``--analyzers``) are usage errors with an SBOM: it was
    analyzed already; the same from the configuration (a user file's ``platform``) is
    noted on stderr and not used (it was meant for images)."""
    from anchore.analysis.engine import analyze
    from anchore.sbom import read

    fmt = sbom_of(source)
    if fmt is not None:
        choices = {"--platform": platform, "--tag": tag,
                   "--analyzers": analyze_options.get("analyzers")}  # fmt: skip
        given = []
        for name, value in choices.items():
            where = configured_source(name[2:], value)
            if where is not None:  # not typed: the user's file or variable, for images
                note_unused_on_sbom(name[2:], value, where, source)
            elif value is not None:
                given.append(name)
        if given:
            verb = "chooses" if len(given) == 1 else "choose"
            raise UsageError(
                f"{' and '.join(given)} {verb} within an image; {source} is an SBOM "
                f"({fmt.name}), analyzed already"
            )
        return read(source, format=fmt.name)
    _refuse_a_document(source)
    progress = analyze_options.get("progress")
    if progress is not None:  # a pull's layers arriving draw on the same bars
        registry_options = attrs.evolve(registry_options or RegistryOptions(), progress=progress)
    with open_image(source, platform=platform, tag=tag, registry=registry_options) as image:
        return analyze(image, **analyze_options)


def open_analysis(
    args: argparse.Namespace,
    source: str | None = None,
    *,
    pull: RegistryOptions | None = None,
    **analyze_options: Any,
) -> Analysis:
    """The analysis of ``source`` (default ``args.image``): an SBOM file read back (any
    format anchore reads, sniffed), or the image opened and analyzed with
    ``analyze_options``, a progress bar on stderr while it runs (none with ``-q`` or when
    stderr is not a terminal: :func:`anchore.cli.output.progress`). ``pull``: the
    registry options of a command of several images, worked out once for all of them."""
    from anchore.cli.output import progress  # output imports this module

    image = args.image if source is None else source
    options = pull if pull is not None else registry_options(args, images=[image])
    if "progress" in analyze_options or sbom_of(image) is not None:
        return analysis_of(
            image, platform=args.platform, tag=args.tag, registry_options=options,
            **analyze_options,
        )  # fmt: skip
    with progress(getattr(args, "quiet", False), _label(image)) as bar:
        return analysis_of(
            image, platform=args.platform, tag=args.tag, registry_options=options,
            progress=bar, **analyze_options,
        )  # fmt: skip


def _label(image: str) -> str:
    """The start of a progress bar's line: which image (its last path part, cut)."""
    name = os.path.basename(image.rstrip("/")) or image
    return name if len(name) <= 24 else name[:23] + "…"
