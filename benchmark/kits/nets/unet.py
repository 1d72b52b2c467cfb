"""The paper's network, as we read it: a 39-layer residual U-Net with a scalar sigmoid output.

What the paper says (Yao et al., ``docs/paper-protocol.md``): "U-Net structure", 39 layers,
9 convolutional blocks analysing texture, residual connections between blocks, ReLU, sigmoid output,
MSE loss, Adam lr 1e-5, batch 16, the same input/body/output in both stages; Fig 2 names
a "CDP" module, a "CD" structure and a "C" module "with residual input".  Everything
below that is not in that list is our reading, stated so it can be argued with.

Our reading
-----------
- **9 blocks = the classic U-Net's 9 double-convolution blocks**: 4 encoder blocks, one
  bottleneck, 4 decoder blocks (Ronneberger et al. 2015 has exactly this shape).
- **CDP** (encoder block) = Conv3×3+ReLU → Dropout → Conv3×3+ReLU → MaxPool 2×2.
  **CD** (bottleneck) = Conv3×3+ReLU → Dropout → Conv3×3+ReLU.
  **C with residual input** (decoder block) = ConvTranspose 2×2 (up-sampling to the
  skip's width) → *Add* the encoder block's output (the "residual connection between
  blocks": U-Net skips are additive here, as in LinkNet, instead of concatenated) →
  Conv3×3+ReLU → Conv3×3+ReLU.
- **How a scalar comes out of a U-Net**: the decoder ends in a 1×1 convolution with a
  sigmoid, i.e. a dense map in [0, 1] at patch resolution; the scalar output is its
  global average.  Stage 1 then reads "how much of this patch is lung", stage 2 "the
  normalised GA of this patch", with identical input, body and output in both stages.
  The dense map is available (:meth:`ResidualUNet.dense`) but the suite's lung maps use
  sliding patch classification with the scalar (see ``benchmark.kits.nets.method``).
- **39 layers**, counted the way ``keras.Model.summary()`` lists layers (activations
  inside their convolution): Input 1 + Rescaling 1 + 4 CDP × 4 (conv, dropout, conv,
  pool) + CD 3 + 4 C × 4 (up-conv, add, conv, conv) + 1×1 conv-sigmoid 1 + global
  average pooling 1 = 39.  :func:`count_layers` counts them on the built module.
- **Width** (filters of the first block; doubled per level, 16× at the bottleneck) is a
  parameter: 64 in the ``paper`` profile (the original U-Net's, as the paper's figure is
  illegible), 8 in the light CPU profile.
- Dropout rate is not given by the paper: 0.1.  The input is the uint8 patch as float;
  the Rescaling layer maps 0–255 to about −2…2 ((x/255 − 0.5) / 0.25).
"""

from __future__ import annotations

import torch
from torch import nn

#: ``norm_layers``: none (the paper: no normalisation layers) or batch (BatchNorm per conv)
NORM_LAYERS = ("none", "batch")


class Input(nn.Identity):
    """Marks the input layer (Keras lists it; it computes nothing)."""


class Rescaling(nn.Module):
    """uint8 grey levels (0–255) → roughly zero-mean, unit-scale floats."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x / 255.0 - 0.5) / 0.25


class PatchStandardise(nn.Module):
    """``norm="patch"``: each window to zero mean and unit SD (its own grey levels): what
    survives any per-scan gain offset and dynamic range (an affine grey map) is left."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        sd = x.std(dim=(1, 2, 3), keepdim=True)
        return (x - mean) / (sd + 1.0)  # +1 grey level: a flat window stays finite


def input_layer(norm: str) -> nn.Module:
    """The net's first layer for the profile's ``norm`` (fixed / image: Rescaling)."""
    return PatchStandardise() if norm == "patch" else Rescaling()


class Add(nn.Module):
    """The residual input of a decoder block (a layer in the Keras count)."""

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return x + skip


class ConvReLU(nn.Sequential):
    """Conv3×3 + ReLU; ``batch_norm``: Conv3×3 (no bias) + BatchNorm + ReLU (Ioffe &
    Szegedy 2015), the light profile's ``norm_layers="batch"``."""

    def __init__(self, c_in: int, c_out: int, batch_norm: bool = False) -> None:
        if batch_norm:
            super().__init__(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            )
        else:
            super().__init__(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True))


class CDP(nn.Module):
    """Encoder block: conv, dropout, conv, pool; returns (skip, pooled)."""

    def __init__(self, c_in: int, c_out: int, dropout: float, bn: bool = False) -> None:
        super().__init__()
        self.conv1 = ConvReLU(c_in, c_out, bn)
        self.drop = nn.Dropout(dropout)
        self.conv2 = ConvReLU(c_out, c_out, bn)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skip = self.conv2(self.drop(self.conv1(x)))
        return skip, self.pool(skip)


class CD(nn.Sequential):
    """Bottleneck block: conv, dropout, conv."""

    def __init__(self, c_in: int, c_out: int, dropout: float, bn: bool = False) -> None:
        super().__init__(ConvReLU(c_in, c_out, bn), nn.Dropout(dropout), ConvReLU(c_out, c_out, bn))


class CResidual(nn.Module):
    """Decoder block: up-convolution, add the encoder's output, conv, conv."""

    def __init__(self, c_in: int, c_out: int, bn: bool = False) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
        self.add = Add()
        self.conv1 = ConvReLU(c_out, c_out, bn)
        self.conv2 = ConvReLU(c_out, c_out, bn)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(self.add(self.up(x), skip)))


class ResidualUNet(nn.Module):
    """Patch (N, 1, g, g) uint8-valued floats → scalar in [0, 1] per patch, shape (N,).

    ``g`` must be divisible by 16 (four 2× poolings).
    """

    def __init__(
        self, width: int = 8, dropout: float = 0.1, norm: str = "fixed", norm_layers: str = "none"
    ) -> None:
        super().__init__()
        if norm_layers not in NORM_LAYERS:
            raise ValueError(f"norm_layers must be one of {NORM_LAYERS}, got {norm_layers!r}")
        bn = norm_layers == "batch"
        chans = [width * 2**i for i in range(5)]  # w, 2w, 4w, 8w | 16w at the bottleneck
        self.input = Input()
        self.rescale = input_layer(norm)
        self.down = nn.ModuleList(
            CDP(c_in, c_out, dropout, bn) for c_in, c_out in zip([1, *chans[:3]], chans[:4])
        )
        self.bottleneck = CD(chans[3], chans[4], dropout, bn)
        self.up = nn.ModuleList(CResidual(chans[i + 1], chans[i], bn) for i in reversed(range(4)))
        self.head = nn.Sequential(nn.Conv2d(chans[0], 1, 1), nn.Sigmoid())
        self.pool = nn.AdaptiveAvgPool2d(1)

    def dense(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's sigmoid map, (N, 1, g, g)."""
        x = self.rescale(self.input(x))
        skips = []
        for block in self.down:
            skip, x = block(x)
            skips.append(skip)
        x = self.bottleneck(x)
        for block, skip in zip(self.up, reversed(skips)):
            x = block(x, skip)
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.dense(x)).flatten()


#: module types that are one layer each in the Keras-style count (ReLU and Sigmoid are
#: activations of their convolution, as ``Conv2D(activation=...)`` in Keras)
_LAYER_TYPES = (
    Input,
    Rescaling,
    PatchStandardise,
    nn.Conv2d,
    nn.ConvTranspose2d,
    nn.Dropout,
    nn.MaxPool2d,
    Add,
    nn.AdaptiveAvgPool2d,
)


def count_layers(model: nn.Module) -> int:
    """Layers as ``keras.Model.summary()`` would list them (see the module docstring)."""
    return sum(isinstance(m, _LAYER_TYPES) for m in model.modules())


def count_blocks(model: ResidualUNet) -> int:
    return len(model.down) + 1 + len(model.up)
