"""Save and load a fitted two-stage net: ``model.pt``, ``stage1.pt`` (if any), ``config.json``.

No pickle: state dicts are read with ``torch.load(weights_only=True)``, the rest is JSON, so a
model folder from elsewhere is safe to load.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from benchmark.kits.nets.profiles import GA_MAX, GA_MIN, Profile


def save_net(method, path: str | Path) -> None:
    import torch

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.cpu() for k, v in method.model_.state_dict().items()}, path / "model.pt")
    if method.stage1_state_ is not None:
        torch.save(method.stage1_state_, path / "stage1.pt")
    config = {
        "method": method.name,
        "params": method.get_params(),
        "profile": asdict(method.profile_),
        "ga_range": [GA_MIN, GA_MAX],
        "ga_mean": method.ga_mean_,
        "random_state": int(method.random_state),
    }
    (path / "config.json").write_text(json.dumps(config, indent=1, default=str))


def load_net(cls, path: str | Path, device: str = "cpu"):
    import torch

    from benchmark.kits.nets.runtime import resolve_device

    path = Path(path)
    config = json.loads((path / "config.json").read_text())
    if config["method"] != cls.name:
        raise ValueError(f"{path}: saved by {config['method']!r}, not {cls.name!r}")
    method = cls(**config["params"])
    method.random_state = config["random_state"]
    method.device = device
    method.device_ = resolve_device(device)
    method.profile_ = Profile(**config["profile"])
    method.ga_mean_ = float(config["ga_mean"])
    method.cost_ = {}
    model = method.build_model(method.profile_)
    model.load_state_dict(
        torch.load(path / "model.pt", weights_only=True, map_location=method.device_)
    )
    # the same memory format as at fit time: channels-last kernels sum in another order,
    # and a reloaded model must reproduce the run's predictions exactly
    method.model_ = model.to(method.device_).to(memory_format=torch.channels_last).eval()
    stage1 = path / "stage1.pt"
    method.stage1_state_ = (
        torch.load(stage1, weights_only=True, map_location=method.device_)
        if stage1.is_file()
        else None
    )
    return method
