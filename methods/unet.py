"""The paper's two-stage transfer U-Net and its no-transfer control.

- ``unet-transfer``: stage 1 (lung vs non-lung 32 mm patches) then stage 2 (normalised GA
  on lung patches) starting from the stage-1 weights; lung maps for DSC from the stage-1
  weights by sliding patch classification.
- ``unet-scratch``: the same net trained on stage 2 only, with the same stage-2 budget.

Network: ``benchmark.kits.nets.unet`` (our reading of the paper, in its docstring); protocol
and profiles: ``benchmark.kits.nets.method``; choices and measurements: ``docs/nets.md``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from benchmark import register_method
from benchmark.kits.nets.method import TwoStageNet


class _UNet(TwoStageNet):
    dense_output = True  # the decoder's sigmoid map (ResidualUNet.dense)
    parameters: ClassVar[dict[str, list[Any]]] = {
        **TwoStageNet.parameters,
        "width": [None],  # filters of the first block; None = the profile's (8 light, 64 paper)
    }
    #: no ``all_variants``: the paper's fixed grey levels (``unet-*[norm=fixed]``,
    #: ``profile=paper``) fail the positive control at convergence, so ``--methods all`` runs
    #: the light default (image) only (docs/nets.md, "Input normalisation")
    #: the common checks need a trained net, not a good one: one epoch per stage
    test_params: ClassVar[dict[str, Any]] = {"max_epochs": 1}

    def build_model(self, profile):
        from benchmark.kits.nets.unet import ResidualUNet

        return ResidualUNet(profile.width, profile.dropout, profile.norm, profile.norm_layers)

    def describe_model(self) -> dict[str, Any]:
        from benchmark.kits.nets.unet import count_layers

        model = self.model_ if hasattr(self, "model_") else self.build_model(self.profile_)
        return {
            "layers": count_layers(model),
            "width": self.profile_.width,
            "norm_layers": self.profile_.norm_layers,
            "parameters": int(sum(p.numel() for p in model.parameters())),
        }


@register_method
class UNetTransfer(_UNet):
    name = "unet-transfer"
    summary = "the paper's 39-layer residual U-Net, stage 1 lung/non-lung → stage 2 GA"
    transfer = True
    saves = True
    segments = True


@register_method
class UNetScratch(_UNet):
    name = "unet-scratch"
    summary = "the same U-Net trained on stage 2 only (the paper's no-transfer control)"
    transfer = False
    saves = True
    segments = False  # no lung head: no lung maps, no DSC
    control_of = "unet-transfer"
