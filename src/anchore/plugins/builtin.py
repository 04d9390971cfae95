"""Our own analyzers, registered through the same hooks as any third party's."""

from __future__ import annotations

from typing import Any

from anchore.plugins import hookimpl


@hookimpl
def anchore_analyzers() -> list[Any]:
    from anchore.analyzers.apk import ApkAnalyzer
    from anchore.analyzers.distro import DistroAnalyzer
    from anchore.analyzers.dpkg import DpkgAnalyzer
    from anchore.analyzers.ecosystems import (
        ComposerAnalyzer,
        DotnetAnalyzer,
        RubyAnalyzer,
        RustAnalyzer,
    )
    from anchore.analyzers.files import PermissionsAnalyzer
    from anchore.analyzers.golang import GoAnalyzer
    from anchore.analyzers.java import JavaAnalyzer
    from anchore.analyzers.npm import NpmAnalyzer
    from anchore.analyzers.python import PythonAnalyzer
    from anchore.analyzers.rpm import RpmAnalyzer
    from anchore.analyzers.secrets import SecretsAnalyzer
    from anchore.analyzers.system import SystemFilesAnalyzer

    return [
        DistroAnalyzer(),
        DpkgAnalyzer(),
        ApkAnalyzer(),
        RpmAnalyzer(),
        PythonAnalyzer(),
        NpmAnalyzer(),
        GoAnalyzer(),
        JavaAnalyzer(),
        RubyAnalyzer(),
        ComposerAnalyzer(),
        RustAnalyzer(),
        DotnetAnalyzer(),
        PermissionsAnalyzer(),
        SecretsAnalyzer(),
        SystemFilesAnalyzer(),
    ]


@hookimpl
def anchore_vulnerability_feeds() -> list[Any]:
    from anchore.vulns.load import AlpineSecdbFeed, DebianTrackerFeed, OsvFeed

    return [DebianTrackerFeed(), AlpineSecdbFeed(), OsvFeed()]


@hookimpl
def anchore_gates() -> list[Any]:
    from anchore.policy.gates import BUILTIN_GATES

    return list(BUILTIN_GATES)
