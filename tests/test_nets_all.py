"""``--methods all`` is the reference run: the U-Nets with the default input and both inputs
of their floor; the paper's fixed grey levels stay reachable by name."""

from __future__ import annotations

from benchmark.execution.gridspec import expand


def test_all_runs_the_default_unets_and_both_inputs_of_their_floor():
    labels = [label for _, _, label in expand(["all"])]
    for name in ("unet-transfer", "unet-scratch"):  # light default: image
        assert name in labels
        # dropped: fails the positive control at convergence (docs/nets.md)
        assert f"{name}[norm=fixed]" not in labels
    assert {"patchstats-ridge", "patchstats-ridge[norm=image]"} <= set(labels)
    params = {label: p for _, p, label in expand(["all"])}
    assert params["unet-scratch"]["norm"] is None  # the profile's (light: image)


def test_the_papers_fixed_input_stays_reachable_by_name():
    [(_, params, label)] = expand(["unet-scratch[norm=fixed]"])
    assert (label, params["norm"]) == ("unet-scratch[norm=fixed]", "fixed")


def test_a_method_named_exactly_runs_alone_and_a_glob_takes_its_variants():
    assert [label for *_, label in expand(["unet-transfer"])] == ["unet-transfer"]
    assert [label for *_, label in expand(["patchstats-*"])] == [
        "patchstats-ridge",
        "patchstats-ridge[norm=image]",
    ]
