"""photoenhance: rank a photo library by how much each photo would gain from enhancement."""

__version__ = "0.1.0"
