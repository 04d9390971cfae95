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

from typing import TYPE_CHECKING, Any

from anchore import errors
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

if TYPE_CHECKING:
    from anchore import catalog
    from anchore.catalog import Catalog

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


def __getattr__(name: str) -> Any:
    """Import the catalog on first use: it loads SQLAlchemy (about 100 ms), which every
    command and every analysis worker would otherwise pay for by importing ``anchore``."""
    if name in ("catalog", "Catalog"):
        import anchore.catalog

        value = anchore.catalog if name == "catalog" else anchore.catalog.Catalog
        globals()[name] = value
        return value
    raise AttributeError(f"module 'anchore' has no attribute {name!r}")
