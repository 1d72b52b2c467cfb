"""``python -m benchmark scenarios``: one method selection over every synthetic scenario."""

from __future__ import annotations

import pandas as pd

from benchmark.cli import main


def test_scenarios_command_writes_the_summary_contract(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    code = main(
        [
            "scenarios",
            "--methods",
            "dummy-mean",
            "biometry-hadlock",
            "--patients",
            "24",
            "--images-per-patient",
            "1",
            "--n-jobs",
            "1",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    table = pd.read_csv(out / "summary.csv")
    required = {"scenario", "method", "n", "r", "r_low", "r_high", "mae", "oracle_r"}
    assert required <= set(table.columns)
    scenarios = ["synthetic", "synthetic-texture", "synthetic-anatomy", "synthetic-null"]
    assert list(dict.fromkeys(table["scenario"])) == scenarios
    # the oracle (declares reads_truth) is added and gives every row its scenario's ceiling
    assert set(table["method"]) == {"dummy-mean", "biometry-hadlock", "oracle"}
    for _, rows in table.groupby("scenario"):
        oracle = rows.loc[rows["method"] == "oracle", "r"].item()
        assert (rows["oracle_r"] == oracle).all()
        assert rows["n"].nunique() == 1 and 0 < rows["n"].iloc[0] < 24  # the test patients
    by = table.set_index(["scenario", "method"])
    # texture carries maturity in synthetic and synthetic-texture, not in the other two
    assert by.loc[("synthetic-texture", "oracle"), "r"] > 0.7
    assert abs(by.loc[("synthetic-null", "oracle"), "r"]) < by.loc[("synthetic", "oracle"), "r"]
    # biometry is tabular: identical in every scenario (same seed, same tabular side)
    assert by.xs("biometry-hadlock", level="method")["mae"].nunique() == 1
    assert by.xs("biometry-hadlock", level="method")["uses_images"].eq(False).all()
    text = (out / "summary.md").read_text()
    assert "| method | synthetic | synthetic-texture |" in text
    assert (out / "scenarios.png").stat().st_size > 1000


def test_unknown_scenario_is_one_line_error(tmp_path, capsys) -> None:
    code = main(
        [
            "scenarios",
            "--methods",
            "dummy-mean",
            "--scenarios",
            "nope",
            "--runs-dir",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "nope" in capsys.readouterr().err
