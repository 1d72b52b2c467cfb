"""timm backbones under the two-stage protocol (tiny data, one epoch per stage)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from _nets_cohort import write_nets_cohort  # noqa: E402

from benchmark.contract.registry import create_method, get_method_class, list_methods  # noqa: E402
from benchmark.data.cohort import Cohort  # noqa: E402

TINY = {"patch_mm": 4.0, "max_steps": 2, "seg_stride_mm": 4.0}


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    cohort = Cohort.load(write_nets_cohort(tmp_path_factory.mktemp("timm") / "c", n=8))
    ids = list(cohort.patients.index)
    return cohort.train_view(ids[:6]), cohort.test_view(ids[6:])


def test_family_names_and_presets():
    presets = list_methods("timm-*")
    assert {"timm-test_resnet", "timm-test_resnet-scratch"} <= set(presets)
    assert list_methods("timm-resnet18") == ["timm-resnet18"]  # any architecture by name
    assert list_methods("timm-mobilenetv3_small_050") == ["timm-mobilenetv3_small_050"]
    cls = get_method_class("timm-efficientnet_b0-scratch")  # any architecture by name
    assert cls.arch == "efficientnet_b0" and cls.transfer is False
    assert get_method_class("timm-resnet18").transfer is True


@pytest.mark.parametrize("name", ["timm-resnet18", "timm-mobilenetv3_small_050-scratch"])
def test_timm_runs_the_protocol(views, name):
    train, test = views
    method = create_method(name, **TINY)
    method.random_state, method.device = 0, "cpu"
    method.fit(train)
    pred = method.predict(test)
    assert list(pred.index) == list(test.images.index) and np.isfinite(pred).all()
    stages = set(method.training_curves_["stage"])
    assert method.cost_["arch"] == name.split("-")[1] and method.cost_["flops_per_step"] > 0
    if method.transfer:
        assert stages == {"stage1", "stage2"}
        assert method.stage_start_digest_["stage2"] != method.stage_start_digest_["stage1"]
        record = test.load_image(test.images.index[0])
        prob = method.segment(record)
        assert prob.shape == record.pixels.shape and 0 <= prob.min() <= prob.max() <= 1
    else:
        assert stages == {"stage2"} and not method.segments


def test_local_weights_file_is_adapted_by_timm(tmp_path):
    import timm

    from benchmark.kits.nets.timm_net import TimmPatchNet

    torch.manual_seed(0)
    rgb = timm.create_model("resnet18", pretrained=False)  # 3 channels, 1000 classes
    torch.save(rgb.state_dict(), tmp_path / "resnet18.pth")
    net = TimmPatchNet("resnet18", str(tmp_path / "resnet18.pth"))
    state = net.body.state_dict()
    assert torch.equal(state["layer3.0.conv1.weight"], rgb.state_dict()["layer3.0.conv1.weight"])
    stem = rgb.state_dict()["conv1.weight"].sum(dim=1, keepdim=True)
    assert torch.allclose(state["conv1.weight"], stem, atol=1e-6)  # RGB stem summed to grey
    assert state["fc.weight"].shape == (1, 512)
    out = net(torch.rand(2, 1, 32, 32) * 255)
    assert out.shape == (2,)


def test_unknown_architecture_or_weights_file_is_one_line(views, tmp_path):
    method = create_method("timm-not_a_real_net", **TINY)
    method.random_state, method.device = 0, "cpu"
    with pytest.raises(ValueError, match="timm has no architecture 'not_a_real_net'") as err:
        method.fit(views[0])
    assert "\n" not in str(err.value)
    from benchmark.kits.nets.timm_net import TimmPatchNet

    with pytest.raises(FileNotFoundError, match="weights file not found"):
        TimmPatchNet("resnet18", str(tmp_path / "missing.pth"))
