"""Decode photos, and write enhanced copies that keep every bit of their metadata."""

from photoenhance.core.imaging.decode import DecodedImage, Picture, decode_rgb, load_image
from photoenhance.core.imaging.header import SourceMetadata, read_metadata
from photoenhance.core.imaging.metadata import Provenance, estimate_jpeg_quality
from photoenhance.core.imaging.write import (
    OutputPolicy,
    cleanup_stale_temp_files,
    write_enhanced_copy,
)

__all__ = [
    "DecodedImage",
    "Picture",
    "OutputPolicy",
    "Provenance",
    "SourceMetadata",
    "cleanup_stale_temp_files",
    "decode_rgb",
    "estimate_jpeg_quality",
    "load_image",
    "read_metadata",
    "write_enhanced_copy",
]
