"""Reading container images without a daemon: formats, layers, file trees, content."""

from anchore.image.compression import Compression
from anchore.image.filetree import FileEntry, FileTree, FileType
from anchore.image.image import FileSystemView, Image, Layer, open_image
from anchore.image.model import ContainerConfig, HistoryEntry, Platform

__all__ = [
    "Compression",
    "ContainerConfig",
    "FileEntry",
    "FileSystemView",
    "FileTree",
    "FileType",
    "HistoryEntry",
    "Image",
    "Layer",
    "Platform",
    "open_image",
]
