"""anchore: what is inside a container image, and whether it may ship.

Start with :func:`open_image`::

    import anchore
    with anchore.open_image("image.oci.tar") as image:
        print(image.config.cmd, len(image.layers))
        for entry in image.files():
            if entry.is_setuid:
                print(entry.path, entry.layer_index)
        print(image.read_text("/etc/os-release"))
"""

from anchore import catalog, errors
from anchore.analysis.engine import analyze
from anchore.analysis.many import AnalysisFailure, ImageResult, ImageSource, analyze_many
from anchore.analysis.model import (
    Analysis,
    AnalyzerError,
    Distro,
    FileRecord,
    Finding,
    Location,
    Package,
)
from anchore.catalog import Catalog
from anchore.errors import AnchoreError
from anchore.image import (
    Compression,
    ContainerConfig,
    FileEntry,
    FileSystemView,
    FileType,
    HistoryEntry,
    Image,
    Layer,
    Platform,
    open_image,
)
from anchore.limits import Limits
from anchore.policy import Evaluation, evaluate, load_bundle

__version__ = "0.2.0.dev0"

__all__ = [
    "Analysis",
    "AnalysisFailure",
    "AnalyzerError",
    "AnchoreError",
    "Catalog",
    "Compression",
    "ContainerConfig",
    "Distro",
    "Evaluation",
    "FileEntry",
    "FileRecord",
    "FileSystemView",
    "FileType",
    "Finding",
    "HistoryEntry",
    "Image",
    "ImageResult",
    "ImageSource",
    "Layer",
    "Limits",
    "Location",
    "Package",
    "Platform",
    "__version__",
    "analyze",
    "analyze_many",
    "catalog",
    "errors",
    "evaluate",
    "load_bundle",
    "open_image",
]
