"""Network architectures for photoenhance's models: the enhancer's U-Net and the ranker's
improvability net."""

from photoenhance.core.ml.nets.improvability import FACTORS, ImprovabilityNet
from photoenhance.core.ml.nets.unet import EnhanceUNet, build

__all__ = ["FACTORS", "EnhanceUNet", "ImprovabilityNet", "build"]
