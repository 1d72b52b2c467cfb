"""The nets' CUDA path: device routing, mixed precision, pinned memory, determinism and
CPU/GPU agreement, and both paper profiles on the device.

Marked ``cuda``: skipped where torch sees no CUDA device (tests/conftest.py), run on one by
``scripts/gpu_check.sh`` (docs/gpu-check.md).  Tolerances are those of scripts/gpu_check.py,
with the reasons given there.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _nets_cohort import write_nets_cohort  # noqa: E402

from benchmark.contract.registry import create_method  # noqa: E402
from benchmark.data.cohort import Cohort  # noqa: E402

pytestmark = pytest.mark.cuda

#: 4 mm patches on 16 px in the 64 px tiny images; 60 steps learn the (easy) lung
TINY = {"patch_mm": 4.0, "max_steps": 60, "seg_stride_mm": 2.0, "stage1_px": 32}
INFER_TOL_WK = 0.05  # same weights, CPU fp32 vs CUDA fp16 autocast, per image
DETERMINISM_TOL_WK = 0.01  # two CUDA fits of one seed, per image
LUNG_MAP_TOL = 0.02  # same stage-1 weights, per pixel (probability)


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    cohort = Cohort.load(write_nets_cohort(tmp_path_factory.mktemp("nets") / "c"))
    ids = list(cohort.patients.index)
    return cohort.train_view(ids[::2] + ids[1::4]), cohort.test_view(ids[3::4])


def _fit(train, device: str, seed: int = 0, name: str = "unet-transfer", **params):
    method = create_method(name, **{**TINY, **params})
    method.random_state, method.device = seed, device
    return method.fit(train)


def _nondeterministic_ops(caught) -> list[str]:
    return sorted({str(w.message).split(" does not")[0] for w in caught if "determin" in str(w)})


@pytest.fixture(scope="module")
def cuda_fits(views):
    """Two CUDA fits of one seed (the first CUDA work of the module: the kit sets
    CUBLAS_WORKSPACE_CONFIG when its first fit starts), with the ops that warned."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fits = [_fit(views[0], "cuda") for _ in range(2)]
    return fits, _nondeterministic_ops(caught)


def test_cuda_fits_are_deterministic(views, cuda_fits):
    (a, b), ops = cuda_fits
    print(f"ops without a deterministic CUDA implementation (warn-only): {ops or 'none'}")
    diff = (a.predict(views[1]) - b.predict(views[1])).abs().max()
    assert diff <= DETERMINISM_TOL_WK, (diff, ops)
    assert a.stage_start_digest_ == b.stage_start_digest_


def test_device_routing_puts_the_net_and_its_lung_maps_on_the_gpu(views, cuda_fits):
    from benchmark.kits.nets.runtime import resolve_device

    fit = cuda_fits[0][0]
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:0") == "cuda:0"
    assert fit.device_ == "cuda" and fit.cost_["device"] == "cuda"
    assert all(p.is_cuda for p in fit.model_.parameters())
    record = views[1].load_image(views[1].images.index[0])
    prob = fit.segment(record)
    assert next(fit._stage1_model().parameters()).is_cuda
    assert prob.shape == record.pixels.shape and 0 <= prob.min() <= prob.max() <= 1


def test_the_runner_sends_net_cells_to_a_gpu_and_the_rest_to_the_cpu(tmp_path):
    import ast

    import pandas as pd

    from benchmark.data.sources import resolve_dataset
    from benchmark.execution.backends import cuda_device_count
    from benchmark.execution.runner import RunConfig, run

    assert cuda_device_count() >= 1
    root = resolve_dataset("synthetic", patients=24, images_per_patient=1, size=256)
    result = run(
        RunConfig(
            dataset=str(root),
            runs_dir=str(tmp_path / "runs"),
            device="auto",
            backend="joblib",
            n_jobs=2,
            methods=["unet-transfer[max_steps=2,seg_stride_mm=8]", "dummy-mean"],
        )
    )
    cells = pd.read_csv(result.run_dir / "cells.csv").set_index("method")
    assert result.n_failed == 0, cells.get("error")
    cost = ast.literal_eval(cells.loc["unet-transfer", "cost"])
    assert cost["device"] == "cuda:0"  # the device pool lent GPU 0 to the net cell


def test_mixed_precision_on_cuda(views, monkeypatch):
    """Convolutions run in fp16 under autocast in training and inference; the gradient
    scaler is on; inference agrees with fp32 on the same weights."""
    from benchmark.kits.nets.training import predict_scores

    dtypes, scalers = set(), []

    def hook(module, args, output):
        if isinstance(module, torch.nn.Conv2d):
            dtypes.add(output.dtype)

    init = torch.amp.GradScaler.__init__

    def spy(self, *args, **kwargs):
        init(self, *args, **kwargs)
        scalers.append(self)

    monkeypatch.setattr(torch.amp.GradScaler, "__init__", spy)
    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        fit = _fit(views[0], "cuda", max_steps=2)
    finally:
        handle.remove()
    assert torch.float16 in dtypes
    assert scalers and all(s.is_enabled() for s in scalers)
    patches = np.random.default_rng(0).integers(0, 256, (64, 16, 16), dtype=np.uint8)
    amp = predict_scores(fit.model_, patches, "cuda")
    with torch.no_grad():
        x = torch.from_numpy(patches).float().unsqueeze(1).cuda()
        fp32 = fit.model_(x.contiguous(memory_format=torch.channels_last)).cpu().numpy()
    assert np.abs(amp - fp32).max() * 24 <= INFER_TOL_WK  # target units → weeks


def test_batches_go_through_pinned_memory(monkeypatch):
    from benchmark.kits.nets.training import _as_tensor

    pinned = []
    original = torch.Tensor.pin_memory

    def spy(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        pinned.append(out.is_pinned())
        return out

    monkeypatch.setattr(torch.Tensor, "pin_memory", spy)
    x = _as_tensor(np.zeros((4, 16, 16), np.uint8), "cuda", channels_last=True)
    assert pinned == [True]
    assert x.is_cuda and x.dtype == torch.float32 and x.shape == (4, 1, 16, 16)
    assert x.is_contiguous(memory_format=torch.channels_last)
    _as_tensor(np.zeros((4, 16, 16), np.uint8), "cpu", channels_last=True)
    assert pinned == [True]  # CPU batches are not pinned


def test_a_cpu_trained_model_predicts_the_same_on_the_gpu(views, tmp_path):
    from benchmark.contract.registry import get_method_class

    cpu_fit = _fit(views[0], "cpu")
    cpu_fit.save(tmp_path / "model")
    on_gpu = get_method_class("unet-transfer").load(tmp_path / "model", device="cuda")
    test = views[1]
    diff = (on_gpu.predict(test) - cpu_fit.predict(test)).abs().max()
    assert diff <= INFER_TOL_WK
    record = test.load_image(test.images.index[0])
    assert np.abs(on_gpu.segment(record) - cpu_fit.segment(record)).max() <= LUNG_MAP_TOL


@pytest.mark.parametrize("profile", ["paper", "paper-px"])
def test_paper_profiles_train_and_predict_on_cuda(tmp_path, profile):
    # the cohorts of tests/test_unet_paper.py: one whole-patch lung window for `paper`
    # (32 mm at 0.125 mm/px), an 8 mm patch in a 16 mm lung for `paper-px`
    if profile == "paper":
        lung, size, spacing, n = (slice(0, 256), slice(0, 256)), 512, 0.125, 2
    else:
        lung, size, spacing, n = (slice(16, 80), slice(8, 72)), 128, 0.25, 3
    cohort = Cohort.load(write_nets_cohort(tmp_path / "c", n, size, spacing, lung=lung))
    ids = list(cohort.patients.index)
    method = create_method("unet-transfer", profile=profile, max_steps=1)
    method.random_state, method.device = 0, "cuda"
    method.fit(cohort.train_view(ids[:-1]))
    assert method.cost_["device"] == "cuda" and method.cost_["train_steps"] == 2
    pred = method.predict(cohort.test_view(ids[-1:]))
    assert np.isfinite(pred).all() and pred.between(20, 44).all()
