"""Network architectures for photoenhance's models."""

from photoenhance.core.ml.nets.unet import EnhanceUNet, build

__all__ = ["EnhanceUNet", "build"]
