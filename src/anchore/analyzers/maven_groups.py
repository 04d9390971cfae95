"""The groupIds of a few well-known artifacts whose jars do not say it themselves.

The last resort of the Java analyzer's groupId search (after embedded
``pom.properties``/``pom.xml``, a Maven-repository ``.pom`` beside the jar and
the manifest). Kept small on purpose: only artifacts that are commonly shipped
without Maven metadata and whose artifactId belongs to one groupId only. Each
entry is the artifact's coordinates on Maven Central
(https://repo.maven.apache.org/maven2/GROUP/ARTIFACT/), and where noted also
the ``.pom`` Debian 12 ships under ``/usr/share/maven-repo`` (the ``debian-py``
corpus image holds those).
"""

from __future__ import annotations

__all__ = ["KNOWN_GROUPS", "ORGANISATION_VENDOR_IDS", "known_group"]

KNOWN_GROUPS: dict[str, str] = {
    # Apache Commons releases from before the move to org.apache.commons keep
    # groupId == artifactId; their manifests say Implementation-Vendor-Id: org.apache.
    # commons-logging*: Debian's libcommons-logging-java poms (debian-py)
    "commons-logging": "commons-logging",
    "commons-logging-api": "commons-logging",
    "commons-logging-adapters": "commons-logging",
    "commons-codec": "commons-codec",  # Debian's libcommons-codec-java pom (debian-py)
    "commons-io": "commons-io",
    "commons-lang": "commons-lang",
    "commons-collections": "commons-collections",
    "commons-beanutils": "commons-beanutils",
    "commons-cli": "commons-cli",
    "commons-fileupload": "commons-fileupload",
    "commons-httpclient": "commons-httpclient",
    # log4j 1.x and JUnit 4
    "log4j": "log4j",
    "junit": "junit",
    # the MongoDB Java driver 3.x: Debian's libmongodb-java poms (debian-py);
    # mongodb-driver's jar has an empty manifest
    "bson": "org.mongodb",
    "mongo-java-driver": "org.mongodb",
    "mongodb-driver": "org.mongodb",
    "mongodb-driver-core": "org.mongodb",
    "mongodb-driver-async": "org.mongodb",
}

#: ``Implementation-Vendor-Id`` values that name an organisation, not a groupId:
#: Apache Commons' parent pom stamps ``org.apache`` into every artifact's manifest
#: (``<Implementation-Vendor-Id>org.apache</…>`` in commons-parent-56.pom), and
#: log4j's manifests say the same: on debian-py commons-logging and log4j-core
#: say ``org.apache`` while their poms say ``commons-logging`` and
#: ``org.apache.logging.log4j``
ORGANISATION_VENDOR_IDS = frozenset({"org.apache"})


def known_group(artifact: str) -> str | None:
    """The groupId of a well-known artifact, or None."""
    return KNOWN_GROUPS.get(artifact)
