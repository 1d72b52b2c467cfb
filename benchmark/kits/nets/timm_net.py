"""Any timm architecture as a patch regressor: grey patch → one sigmoid output.

``timm.create_model(arch, pretrained=False, in_chans=1, num_classes=1)`` — nothing is ever
downloaded.  With a local weights file, timm's own loader reads it
(``pretrained_cfg_overlay={"file": path}``) and adapts it: RGB stem weights are summed to
one input channel and a classifier of another size is dropped (timm's standard
``in_chans``/``num_classes`` handling), so ImageNet checkpoints work as a starting point.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from benchmark.kits.nets.unet import input_layer


class TimmPatchNet(nn.Module):
    """(N, 1, g, g) grey levels 0–255 → (N,) in [0, 1]."""

    def __init__(self, arch: str, weights: str | None = None, norm: str = "fixed") -> None:
        super().__init__()
        import timm

        if not timm.is_model(arch):
            raise ValueError(
                f"timm has no architecture {arch!r} "
                f"(timm.list_models('{arch[:4]}*') lists similar names)"
            )
        kwargs = {"in_chans": 1, "num_classes": 1}
        if weights:
            path = Path(weights).expanduser()
            if not path.is_file():
                raise FileNotFoundError(f"timm weights file not found: {path}")
            self.body = timm.create_model(
                arch, pretrained=True, pretrained_cfg_overlay={"file": str(path)}, **kwargs
            )
        else:
            self.body = timm.create_model(arch, pretrained=False, **kwargs)
        self.rescale = input_layer(norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(self.rescale(x))).flatten()
