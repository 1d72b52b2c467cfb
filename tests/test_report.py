"""Report machinery on real run folders made by the runner on a small tabular cohort."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cohorts import write_tabular_cohort

from benchmark import BaseMethod
from benchmark.cli import main as cli_main
from benchmark.contract import registry
from benchmark.execution.runner import RunConfig, run
from benchmark.report import build, check_results, load_run
from benchmark.report.figures import segmentation_overlays

LEVEL_TABLES = (
    "metrics_patient",
    "table2_patient",
    "table2_patient_unpaired",
    "table2_patient_paper_layout",
    "correlation_patient",
    "transfer_patient",
    "metrics_across_splits_patient",
)


class _ImageMeanRegressor(BaseMethod):
    """A real (weak) image method: GA from mean lung intensity by gradient descent.

    It segments (bright pixels) and records two-stage training curves, so the report's
    DSC table, overlay and training-curve figures have something true to draw.
    """

    name = "demo-seg"
    segments = True  # declared: the engine scores the DSC of `segment`
    epochs = 4
    segments = True

    def _feature(self, view) -> pd.Series:
        return pd.Series(
            {
                r.image_id: float(r.pixels[r.mask].mean()) / 255
                if r.mask is not None
                else float(r.pixels.mean()) / 255
                for r in view.iter_images()
            }
        )

    def fit(self, train) -> _ImageMeanRegressor:
        x = self._feature(train).to_numpy()
        y = train.ga_by_image.loc[self._feature(train).index].to_numpy()
        self.mu_, self.sd_ = x.mean(), x.std() or 1.0
        z = (x - self.mu_) / self.sd_
        self.w_, self.b_ = 0.0, float(y.mean()) if self.name.endswith("scratch") else 30.0
        rows = []
        for stage in ("1", "2"):
            for epoch in range(1, self.epochs + 1):
                resid = self.w_ * z + self.b_ - y
                self.w_ -= 0.3 * float((resid * z).mean())
                self.b_ -= 0.3 * float(resid.mean())
                rows.append(
                    {
                        "stage": stage,
                        "epoch": epoch,
                        "train_loss": float((resid**2).mean()),
                        "val_loss": np.nan,
                    }
                )
        self.training_curves_ = pd.DataFrame(rows)
        return self

    def predict(self, test) -> pd.Series:
        x = self._feature(test)
        return (self.w_ * (x - self.mu_) / self.sd_ + self.b_).astype(float)

    def segment(self, record) -> np.ndarray:
        return (record.pixels > 100).astype(np.float32)


class _Scratch(_ImageMeanRegressor):
    name = "demo-seg-scratch"
    control_of = "demo-seg"


#: The declared roles (docs/methods.md) the runner records in cells.csv; written here only when
#: the runner of this checkout does not record them yet, exactly as it will.
ROLES = {"biometry-hadlock": "reference", "dummy-mean": "floor"}
CONTROLS = {"demo-seg-scratch": "demo-seg"}


def _ensure_roles(run_dir: Path) -> None:
    cells = pd.read_csv(run_dir / "cells.csv")
    if "role" in cells and "control_of" in cells:
        return
    cells["role"] = cells["label"].map(ROLES)
    cells["control_of"] = cells["label"].map(CONTROLS)
    cells.to_csv(run_dir / "cells.csv", index=False)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    for cls in (_ImageMeanRegressor, _Scratch):
        registry.register_method(cls)
    root = tmp_path_factory.mktemp("report")
    cohort = write_tabular_cohort(root / "cohort", n=36, seed=3, size=32)
    try:
        result = run(
            RunConfig(
                dataset=str(cohort),
                split="paper",
                run_dir=str(root / "run"),
                methods=[
                    "biometry-hadlock",
                    "biometry-intergrowth",
                    "dummy-mean",
                    "demo-seg",
                    "demo-seg-scratch",
                ],
            )
        )
    finally:
        for cls in (_ImageMeanRegressor, _Scratch):
            registry._METHODS.pop(cls.name, None)
    assert result.n_failed == 0
    _ensure_roles(result.run_dir)
    build(result.run_dir)
    return result.run_dir


def test_every_table_in_three_formats_with_level_in_caption(run_dir):
    tables = run_dir / "tables"
    for name in ("table1", "dsc", "costs", *LEVEL_TABLES):
        for suffix in ("md", "csv", "tex"):
            assert (tables / f"{name}.{suffix}").is_file(), f"{name}.{suffix}"
    for name in LEVEL_TABLES:
        assert "Patient level" in (tables / f"{name}.md").read_text().splitlines()[0]
        assert r"\begin{tabular}" in (tables / f"{name}.tex").read_text()
    assert "Image level" in (tables / "dsc.md").read_text()


def test_tables_are_computed_from_predictions(run_dir):
    preds = pd.read_csv(run_dir / "predictions.csv", dtype={"patient_id": str})
    pat = preds[preds["level"] == "patient"]
    metrics = pd.read_csv(run_dir / "tables" / "metrics_patient.csv")
    for label, sub in pat.groupby("label"):
        row = metrics[(metrics["method"] == label) & (metrics["group"] == "all")].iloc[0]
        assert row["n_rows"] == sub["patient_id"].nunique()
        assert row["mae"] == pytest.approx((sub["ga_pred"] - sub["ga_true"]).abs().mean(), rel=1e-5)
    t2 = pd.read_csv(run_dir / "tables" / "table2_patient.csv")
    assert set(t2["method"]) == set(pat["label"])
    transfer = pd.read_csv(run_dir / "tables" / "transfer_patient.csv")
    assert set(zip(transfer["method_a"], transfer["method_b"])) == {
        ("demo-seg", "demo-seg-scratch")
    }
    dsc = pd.read_csv(run_dir / "tables" / "dsc.csv")
    assert set(dsc["method"]) == {"demo-seg", "demo-seg-scratch"}
    assert dsc["dsc_mean"].between(0, 100).all()


def test_figures_png_and_svg_with_unique_names(run_dir):
    figures = run_dir / "figures"
    stems = {p.stem for p in figures.glob("*.png")}
    assert stems == {p.stem for p in figures.glob("*.svg")}
    assert {
        "fig_pred_vs_true_patient",
        "fig_bland_altman_patient",
        "fig_error_boxes_patient",
        "fig_training_curves",
        "fig_segmentation_overlays",
        "fig_cost_vs_accuracy",
    } <= stems


def test_html_is_self_contained_and_explains_itself(run_dir):
    html = (run_dir / "report.html").read_text()
    assert "<script" not in html.lower()
    assert "src='http" not in html and 'src="http' not in html and "@import" not in html
    assert html.count("data:image/png;base64,") >= 6
    assert "How to read this report" in html and "Provenance" in html
    run_json = json.loads((run_dir / "run.json").read_text())
    assert run_json["git_commit"] in html
    assert "Table 2" in html and "Table 1" in html


def test_rebuild_is_byte_identical(run_dir):
    before = {p.name: p.read_bytes() for p in (run_dir / "tables").iterdir()}
    shutil.rmtree(run_dir / "tables")
    build(run_dir, figures=False)
    after = {p.name: p.read_bytes() for p in (run_dir / "tables").iterdir()}
    assert after == before


def test_image_level_tables(run_dir, tmp_path):
    build(run_dir, tmp_path, level="image", figures=False)
    metrics = pd.read_csv(tmp_path / "tables" / "metrics_image.csv")
    preds = pd.read_csv(run_dir / "predictions.csv")
    n_images = preds[(preds["level"] == "image") & (preds["label"] == "dummy-mean")].shape[0]
    row = metrics[(metrics["method"] == "dummy-mean") & (metrics["group"] == "all")].iloc[0]
    assert row["n_rows"] == n_images and row["n_patients"] == n_images // 2
    assert "Image level" in (tmp_path / "tables" / "table2_image.md").read_text()


def test_missing_cohort_is_a_reported_skip(run_dir, tmp_path):
    moved = tmp_path / "run"
    shutil.copytree(run_dir, moved)
    meta = json.loads((moved / "run.json").read_text())
    meta["config"]["dataset_root"] = str(tmp_path / "gone")
    (moved / "run.json").write_text(json.dumps(meta))
    result = build(moved, figures=False)
    assert any("Table 1" in s and "not available" in s for s in result.skips)
    data = load_run(moved)
    assert segmentation_overlays(data, tmp_path / "figures") is None
    assert any("overlays" in s for s in data.skips)
    assert not (moved / "tables" / "table1.md").exists()  # no stale copy left behind
    assert (moved / "tables" / "table2_patient.md").is_file()
    assert "Not shown" in (moved / "report.html").read_text()


def test_export_then_check_results_detects_any_change(run_dir, tmp_path, capsys):
    out = tmp_path / "results"
    assert cli_main(["report", str(run_dir), "--out", str(out), "--no-figures"]) == 0
    assert not (out / "cells").exists() and (out / "report.html").is_file()
    assert {
        "predictions.csv",
        "cells.csv",
        "run.json",
        "dsc.csv",
        "curves.csv",
        "table1_patients.csv",
    } <= {p.name for p in out.iterdir()}
    assert json.loads((out / "run.json").read_text())["config"]["dataset_root"] is None
    for table in (out / "tables").glob("*"):
        assert str(tmp_path) not in table.read_text()
    assert check_results(out) == []
    # the exported folder is itself a valid report source (tables rebuild identically)
    data = load_run(out)
    assert data.table1_patients is not None and len(data.dsc)
    victim = out / "tables" / "table2_patient.csv"
    victim.write_text(victim.read_text().replace("biometry-hadlock", "biometry-hadlocK", 1))
    assert cli_main(["check-results", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{victim}: differs from the regenerated table" in err
    assert err.count("differs") == 1


def test_terminal_summary_is_short(run_dir, capsys):
    assert cli_main(["report", str(run_dir), "--no-figures"]) == 0
    out = capsys.readouterr().out
    table_lines = [line for line in out.splitlines() if line.startswith("| ")]
    assert len(table_lines) == 1 + 5  # header + one line per method
    assert max(len(line) for line in table_lines) < 140
    assert "n measured / n" in table_lines[0] and "±7 d" in table_lines[0]
    assert "report:" in out


def test_registered_tables_and_figures_follow_their_order():
    from benchmark.report import registry as reg

    tables = reg.list_tables()
    assert tables[:3] == ["table1", "metrics", "table2"] and tables[-1] == "paper_check"
    assert {"pred_vs_true", "bland_altman"} <= set(reg.list_figures())
    with pytest.raises(KeyError, match="no table 'nope'"):
        reg.create_table("nope", None)


def test_a_registered_table_reaches_every_output(run_dir, tmp_path):
    from benchmark.report import registry as reg
    from benchmark.report.formatting import Table

    @reg.register_table("demo_extra", order=999)
    def demo_extra(ctx):
        frame = pd.DataFrame({"methods": [len(ctx.data.labels)]})
        return Table("demo_extra", "Demo", "A table registered by a test.", frame, frame)

    try:
        build(run_dir, tmp_path, figures=False)
    finally:
        del reg._TABLES["demo_extra"]
    assert (tmp_path / "tables" / "demo_extra.md").read_text().endswith("| 5 |\n")
    assert (tmp_path / "tables" / "all.md").read_text().rstrip().endswith("| 5 |")
    assert "A table registered by a test." in (tmp_path / "report.html").read_text()
    with pytest.raises(ValueError, match="registered twice"):
        reg.register_table("metrics", order=1)(lambda ctx: None)


def test_roles_come_from_cell_records_not_names(run_dir, tmp_path):
    moved = tmp_path / "run"
    shutil.copytree(run_dir, moved)
    cells = pd.read_csv(moved / "cells.csv").drop(columns=["role", "control_of"])
    cells.to_csv(moved / "cells.csv", index=False)
    result = build(moved, figures=False)
    tables = {p.name for p in (moved / "tables").glob("*.md")}
    # no declared reference or control: Table 2 and the control table are not guessed
    assert "table2_patient.md" not in tables and "transfer_patient.md" not in tables
    assert any("declares the role 'reference'" in s for s in result.skips)
    build(moved, figures=False, reference="biometry-intergrowth")
    t2 = pd.read_csv(moved / "tables" / "table2_patient.csv")
    assert t2[t2["method"] == "biometry-intergrowth"]["t"].isna().all()


def test_paper_check_only_for_the_reference_run_or_on_request(run_dir, tmp_path, capsys):
    assert not (run_dir / "tables" / "paper_check.md").exists()
    assert "agrees" not in (run_dir / "report.html").read_text()
    assert (
        cli_main(
            ["report", str(run_dir), "--out", str(tmp_path / "o"), "--no-figures", "--paper-check"]
        )
        == 0
    )
    assert (tmp_path / "o" / "tables" / "paper_check.md").is_file()
    from benchmark.report.tables import is_reference_run

    assert is_reference_run(
        {
            "config": {
                "dataset": "synthetic",
                "dataset_options": {},
                "split": "paper",
                "seeds": [0],
                "group_edges": [30, 36],
            }
        }
    )
    assert not is_reference_run(json.loads((run_dir / "run.json").read_text()))


def test_unchanged_inputs_reuse_the_report_and_any_change_rebuilds(run_dir, tmp_path):
    moved = tmp_path / "run"
    shutil.copytree(run_dir, moved)
    (moved / "report_inputs.json").unlink(missing_ok=True)
    first = build(moved, figures=False)
    assert not first.reused and (moved / "report_inputs.json").is_file()
    again = build(moved, figures=False)
    assert again.reused and again.skips == first.skips
    assert not build(moved, figures=False, level="image").reused  # other options
    build(moved, figures=False)
    (moved / "tables" / "results.md").unlink()
    assert not build(moved, figures=False).reused  # an output went missing
    assert (moved / "tables" / "results.md").is_file()
    preds = pd.read_csv(moved / "predictions.csv", dtype={"patient_id": str})
    preds.loc[0, "ga_pred"] += 1.0
    preds.to_csv(moved / "predictions.csv", index=False)
    assert not build(moved, figures=False).reused  # other inputs


def test_clinical_tables_from_the_run(run_dir):
    tables = run_dir / "tables"
    for name in ("clinical_days_patient", "intervals_patient", "maturity_classes"):
        assert (tables / f"{name}.md").is_file(), name
    bounds = pd.read_csv(tables / "prediction_intervals_patient.csv", dtype={"patient_id": str})
    preds = pd.read_csv(run_dir / "predictions.csv", dtype={"patient_id": str})
    pat = preds[preds["level"] == "patient"]
    assert len(bounds) == len(pat)  # one interval per method × test patient (one seed)
    cov = pd.read_csv(tables / "intervals_patient.csv")
    for label, sub in bounds.groupby("method"):
        row = cov[(cov["method"] == label) & (cov["grouping"] == "all")].iloc[0]
        inside = sub.dropna(subset=["lower"])
        covered = (
            (inside["ga_true"] >= inside["lower"]) & (inside["ga_true"] <= inside["upper"])
        ).sum()
        assert row["covered"] == covered and row["n"] == len(inside)
    days = pd.read_csv(tables / "clinical_days_patient.csv")
    metrics = pd.read_csv(tables / "metrics_patient.csv")
    merged = days.merge(metrics, on=["method", "group"], suffixes=("", "_m"))
    assert np.allclose(merged["mae_days"], 7 * merged["mae_m"])
    assert (days["n_measured"] <= days["n_rows"]).all()
    # no simulated truth in this cohort: the estimand is skipped, and said so
    assert not (tables / "maturity_beyond_ga.md").exists()
    assert "only a simulator can score it" in (run_dir / "report.html").read_text()


def test_sites_table_appears_for_a_multi_site_cohort(run_dir, tmp_path):
    out = tmp_path / "results"
    assert cli_main(["report", str(run_dir), "--out", str(out), "--no-figures"]) == 0
    patients = pd.read_csv(out / "table1_patients.csv", dtype={"patient_id": str})
    patients["site"] = np.where(np.arange(len(patients)) % 2, "north", "south")
    patients.to_csv(out / "table1_patients.csv", index=False)
    build(out, figures=False)
    sites = pd.read_csv(out / "tables" / "sites_patient.csv")
    test_ids = patients[patients["side"] == "test"]
    for (_label, site), row in sites.set_index(["method", "site"]).iterrows():
        assert row["n"] == (test_ids["site"] == site).sum()
    assert "not a site split" in (out / "tables" / "sites_patient.md").read_text()
