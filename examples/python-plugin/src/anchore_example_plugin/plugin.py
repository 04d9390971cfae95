"""An analyzer that reports the Debian version a base image carries, as a finding.

It shows the whole contract: patterns, files offered with lazy content,
locations with layers, results as Findings (or Packages).
"""

from __future__ import annotations

from anchore import Finding
from anchore.plugins import hookimpl


class DebianVersionAnalyzer:
    name = "example-debian-version"
    patterns = ("/etc/debian_version",)

    def analyze(self, files, context):
        for f in files:
            version = f.read_text().strip()
            yield Finding(
                kind="example",
                rule=self.name,
                message=f"Debian {version} (from layer {f.location.layer_index})",
                locations=(f.location,),
                data={"version": version},
            )


@hookimpl
def anchore_analyzers():
    return [DebianVersionAnalyzer()]
