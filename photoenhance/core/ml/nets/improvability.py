"""The improvability network: a MobileNet-V2-style backbone over a global view and crops.

One backbone (inverted residual blocks: 1x1 expand, 3x3 depthwise, 1x1 linear project, with
a skip when shapes match) embeds the global view and each full-resolution detail crop into a
``feat``-wide vector. The crop vectors are pooled by mean (how degraded the photo is overall)
and max (its worst detailed region), concatenated with the global vector, and passed
through a small shared MLP. Two last layers read that hidden vector:

- ``overall``: the predicted PSNR gain of the shipped enhancer, in dB (regression);
- ``factors``: logits of the factor strengths (0-1 after sigmoid): noise, blur, jpeg,
  exposure, colour, clipping (:data:`FACTORS`; nets from before version 6 have the four
  of :data:`OLD_FACTORS`; a net's config names its own);
- ``tone`` (version 6 on): the further gain in dB of the tone step on the restored photo.

Calibration from user ratings replaces only ``overall`` (see :mod:`photoenhance.core.rank.userfit`).

Contract: ``forward(global_view (B, 3, G, G), crops (B, K, 3, C, C))``, float in [0, 1],
returns ``(B, 1 + F [+ 1])``: gain in dB, the F factor logits, then the tone gain in dB
when the net has a tone head.
"""

from __future__ import annotations

import torch
from torch import nn

Stages = tuple[tuple[int, int, int, int], ...]
#: (expansion, out channels, repeats, first stride) per stage: MobileNet-V2's layout, slimmed
#: (expansion 4, one block fewer per stage, no full-width stage at 1/2 resolution) to about
#: 90 MMAC per photo for the global view and four crops, so that the net costs less than
#: the decode.
DEFAULT_STAGES: Stages = (
    (4, 24, 1, 2), (4, 32, 2, 2), (4, 64, 2, 2), (4, 96, 1, 1), (4, 128, 1, 2),
)
FACTORS = ("noise", "blur", "jpeg", "exposure", "colour", "clipping")
#: the factors of nets from before version 6 (configs without ``factors``)
OLD_FACTORS = ("noise", "blur", "jpeg", "clipping")
N_FACTORS = len(FACTORS)
_MEAN = (0.45, 0.45, 0.45)
_STD = (0.25, 0.25, 0.25)


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1,
             act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


def fold_batch_norms(net: nn.Module) -> int:
    """Fold every batch norm that follows a convolution into that convolution, in place, for
    inference (eval mode): the same function, one pass fewer per layer (a quarter of the
    backbone's time on the CPU). Returns the number folded. Not for a net that trains
    further: its batch statistics are gone."""
    folded = 0
    for seq in [m for m in net.modules() if isinstance(m, nn.Sequential)]:
        mods = list(seq)
        for i in range(len(mods) - 1):
            conv, bn = mods[i], mods[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                seq[i] = nn.utils.fusion.fuse_conv_bn_eval(conv.eval(), bn.eval())
                seq[i + 1] = nn.Identity()
                folded += 1
    return folded


class InvertedResidual(nn.Module):
    """MobileNet-V2 block: expand 1x1, depthwise 3x3, project 1x1 (linear bottleneck)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = [] if expand == 1 else [_conv_bn(cin, hidden, 1)]
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden),
                   _conv_bn(hidden, cout, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.block(x)
        return x + y if self.skip else y


class Backbone(nn.Module):
    """Stem, inverted residual stages, a 1x1 to ``feat`` channels, global average pool."""

    def __init__(self, stem: int = 16, stages: Stages = DEFAULT_STAGES,
                 feat: int = 192) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_bn(3, stem, 3, 2)]
        cin = stem
        for expand, cout, repeats, stride in stages:
            for i in range(repeats):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers.append(_conv_bn(cin, feat, 1))
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.features(x)
        return out.mean(dim=(2, 3))


class ImprovabilityNet(nn.Module):
    """Predicts the enhancer's gain (dB), factor strengths and the tone step's gain from a
    global view and detail crops."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, stem: int = 16, stages: Stages = DEFAULT_STAGES,
                 feat: int = 192, hidden: int = 128, factors: tuple[str, ...] = FACTORS,
                 tone: bool = True) -> None:
        super().__init__()
        self.config: dict[str, object] = {
            "stem": stem, "stages": [list(s) for s in stages], "feat": feat,
            "hidden": hidden, "factors": list(factors), "tone": tone}
        self.factor_names = tuple(factors)
        self.backbone = Backbone(stem, stages, feat)
        self.mlp = nn.Sequential(nn.Linear(3 * feat, hidden), nn.ReLU(inplace=True),
                                 nn.Dropout(0.1))
        self.overall = nn.Linear(hidden, 1)
        self.factors = nn.Linear(hidden, len(factors))
        self.tone = nn.Linear(hidden, 1) if tone else None
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    @classmethod
    def from_config(cls, config: dict[str, object]) -> ImprovabilityNet:
        stages = tuple(tuple(s) for s in config["stages"])  # type: ignore[attr-defined]
        factors = tuple(config.get("factors", OLD_FACTORS))  # type: ignore[call-overload]
        return cls(int(config["stem"]), stages, int(config["feat"]),  # type: ignore[call-overload]
                   int(config["hidden"]), factors,  # type: ignore[call-overload]
                   bool(config.get("tone", False)))

    def embed(self, global_view: torch.Tensor, crops: torch.Tensor) -> torch.Tensor:
        """The hidden vector (B, hidden) that the last layers read."""
        b, k = crops.shape[:2]
        g = self.backbone((global_view - self.mean) / self.std)
        c = self.backbone((crops.flatten(0, 1) - self.mean) / self.std).view(b, k, -1)
        pooled = torch.cat([g, c.mean(dim=1), c.amax(dim=1)], dim=1)
        hidden: torch.Tensor = self.mlp(pooled.float())
        return hidden

    def forward(self, global_view: torch.Tensor, crops: torch.Tensor) -> torch.Tensor:
        h = self.embed(global_view, crops)
        heads = [self.overall(h), self.factors(h)] + ([self.tone(h)] if self.tone else [])
        return torch.cat(heads, dim=1)
