"""``--methods all`` is the reference run: both inputs of both U-Nets and of their floor."""

from __future__ import annotations

from benchmark.execution.gridspec import expand


def test_all_runs_both_inputs_of_both_unets_and_of_their_floor():
    labels = [label for _, _, label in expand(["all"])]
    for name in ("unet-transfer", "unet-scratch"):  # light default: image; the paper's: fixed
        assert name in labels and f"{name}[norm=fixed]" in labels
    assert {"patchstats-ridge", "patchstats-ridge[norm=image]"} <= set(labels)
    params = {label: p for _, p, label in expand(["all"])}
    assert params["unet-scratch[norm=fixed]"]["norm"] == "fixed"
    assert params["unet-scratch"]["norm"] is None  # the profile's (light: image)


def test_a_method_named_exactly_runs_alone_and_a_glob_takes_its_variants():
    assert [label for *_, label in expand(["unet-transfer"])] == ["unet-transfer"]
    assert [label for *_, label in expand(["patchstats-*"])] == [
        "patchstats-ridge",
        "patchstats-ridge[norm=image]",
    ]
