"""``timm-<arch>``: any timm architecture under the paper's two-stage protocol.

Naming: ``timm-<arch>`` is the transfer variant (stage 1 lung vs non-lung, then stage 2
GA from the stage-1 weights; lung maps for DSC from the stage-1 weights), and
``timm-<arch>-scratch`` its no-transfer control (stage 2 only, same budget).  ``<arch>`` is
any ``timm.list_models()`` name (timm names never contain ``-``, so the suffix is
unambiguous).  The network is ``timm.create_model(arch, pretrained=False, in_chans=1,
num_classes=1)`` + sigmoid; parameter ``weights`` takes a local checkpoint (never a
download).  Protocol, profiles and patches are those of ``unet-*``
(``benchmark.kits.nets.method``).

``--methods all`` includes only the presets below: timm's smallest registered ResNet,
``test_resnet`` (0.37 M parameters, a real residual architecture that timm keeps for its
own fast checks), and its control.  The whole ``all`` run has a 10-minute budget on a
2-core CPU; one training step (batch 16, 16 px) measured 30 ms for ``test_resnet``,
57 ms for ``lcnet_035``, 162 ms for ``resnet10t`` and 371 ms for ``resnet18``, so
``timm-resnet18`` alone costs ~4 CPU-minutes.  ``timm-resnet18``,
``timm-mobilenetv3_small_050`` (both tested) and any other architecture run by name,
e.g. ``--methods timm-efficientnet_b0``; on a CPU mobile nets are slower than their FLOPs
suggest (many small depthwise ops: ~7 % of the matmul peak, see docs/nets.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from benchmark import register_family
from benchmark.kits.nets.method import TwoStageNet

#: what ``--methods all`` runs: a residual backbone small enough for the CPU budget
PRESET_ARCHS = ("test_resnet",)
PRESETS = tuple(f"timm-{a}{s}" for a in PRESET_ARCHS for s in ("", "-scratch"))


class _TimmNet(TwoStageNet):
    requirements: ClassVar[tuple[str, ...]] = ("torch", "timm")
    arch: ClassVar[str] = ""
    parameters: ClassVar[dict[str, list[Any]]] = {
        **TwoStageNet.parameters,
        "weights": [None],  # local checkpoint file to start from (timm adapts it)
    }
    #: the common checks need a trained net, not a good one: one epoch per stage
    test_params: ClassVar[dict[str, Any]] = {"max_epochs": 1}

    def build_model(self, profile):
        from benchmark.kits.nets.timm_net import TimmPatchNet

        return TimmPatchNet(self.arch, self.weights, profile.norm)

    def describe_model(self) -> dict[str, Any]:
        model = self.model_ if hasattr(self, "model_") else self.build_model(self.profile_)
        return {"arch": self.arch, "parameters": int(sum(p.numel() for p in model.parameters()))}


def _make(name: str) -> type[TwoStageNet]:
    body = name[len("timm-") :]
    scratch = body.endswith("-scratch")
    arch = body[: -len("-scratch")] if scratch else body
    if not arch or "-" in arch:
        raise LookupError(f"{name!r}: expected timm-<arch> or timm-<arch>-scratch")
    variant = "stage 2 only (no-transfer control)" if scratch else "two-stage transfer"
    attrs: dict[str, Any] = {
        "name": name,
        "arch": arch,
        "transfer": not scratch,
        "summary": f"timm {arch}, {variant}",
        "__module__": __name__,
        "saves": True,
        "segments": not scratch,  # a scratch net has no lung head: no lung maps, no DSC
        "control_of": f"timm-{arch}" if scratch else None,
    }
    return type(f"Timm_{arch}{'_scratch' if scratch else ''}", (_TimmNet,), attrs)


register_family(
    "timm-", _make, presets=PRESETS, summary="any timm architecture under the two-stage protocol"
)
