"""One line per table and figure telling a clinician how to read it.

Keyed by the start of the table name or figure file stem, so ``metrics_patient`` and
``metrics_image`` share a line.  A table or figure without an entry falls back to the first
sentence of its caption; add a line here when you register a new one.
"""

from __future__ import annotations

TABLE_READINGS: tuple[tuple[str, str], ...] = (
    # longest prefixes first: the first match wins
    (
        "results",
        "Lower MAE is better; compare each method with the floor control (no "
        "information) and the ceiling (best possible); r near 1 = estimates follow "
        "true GA.",
    ),
    (
        "scenario_matrix",
        "Down a column: which methods find GA in that world; the positive "
        "control should light up, the null world should not.",
    ),
    (
        "table2_patient_paper_layout",
        "Each cell: mean absolute error ± SD in weeks; a small p "
        "means the error differs from the reference's in that "
        "group.",
    ),
    (
        "table2_image_paper_layout",
        "Each cell: mean absolute error ± SD in weeks; a small p "
        "means the error differs from the reference's in that "
        "group.",
    ),
    (
        "table2_patient_unpaired",
        "The paper's unpaired tests; with the same patients in both "
        "arms the paired Table 2 above is the right test.",
    ),
    (
        "table2_image_unpaired",
        "The paper's unpaired tests; with the same patients in both "
        "arms the paired Table 2 above is the right test.",
    ),
    ("table2", "t > 0: the method errs more than the reference; read the Holm-corrected p."),
    (
        "clinical_days",
        "Days as clinicians date: more patients within ±7 d and a narrower "
        "interval are better; compare each method with the reference.",
    ),
    (
        "calibration",
        "Slope near 1 with its CI covering 1 = true GA follows the estimate one "
        "for one; above 1 = the method hedges toward the mean, below 1 = it "
        "overstates the extremes.",
    ),
    (
        "equivalence",
        "'equivalent' = the 90 % CI of the MAE difference lies inside the stated "
        "margin; 'not shown equivalent' is not proof of a difference.",
    ),
    (
        "acog_tolerance",
        "The share of patients a method dates within the ACOG redating "
        "tolerance of their window; higher is better, compare with the "
        "reference.",
    ),
    (
        "decision_curve",
        "A method helps at a threshold only where its net benefit beats both "
        "GA alone and treat-all; read events / n first.",
    ),
    (
        "maturity_class_calibration",
        "Lower Brier is better; near the share-only value = the estimate says "
        "little about which lungs are preterm.",
    ),
    (
        "outcome_calibration",
        "Lower Brier is better; a Brier near the prevalence-only value = "
        "the risk says little beyond the base rate.",
    ),
    (
        "maturity_hypothesis",
        "A small p and an OR CI away from 1 = the method's residual "
        "predicts the outcome beyond GA, i.e. it reads lung maturity.",
    ),
    (
        "subgroups",
        "Compare each subgroup's MAE and coverage with the method's overall row; "
        "subgroups marked too small cannot be read.",
    ),
    (
        "intervals",
        "Coverage inside its binomial band = the intervals are honest; then the "
        "narrower the width, the more useful.",
    ),
    (
        "prediction_intervals",
        "One interval per patient: the true GA should fall inside for "
        "about the nominal share of patients.",
    ),
    (
        "maturity_classes",
        "Accuracy and κ near 1 = the estimate puts patients in the right GA "
        "class; AUC 0.5 = no better than chance.",
    ),
    (
        "maturity_beyond_ga",
        "r above 0 = the method sees how much more or less mature this "
        "lung is than its GA; biometry should sit at 0.",
    ),
    (
        "outcome_auc",
        "AUC above the GA-alone baseline = the estimate predicts the outcome "
        "beyond what GA already tells.",
    ),
    (
        "metrics_across_splits",
        "Small SDs mean the result does not hinge on one split of the patients.",
    ),
    (
        "metrics",
        "Read each method's 'all' row first, then its GA groups: lower MAE and "
        "narrower Bland–Altman limits are better.",
    ),
    (
        "correlation",
        "r near 1 = estimates follow true GA; inside one narrow GA group r is "
        "naturally lower than overall.",
    ),
    (
        "transfer",
        "If the Δr interval includes 0, this data cannot tell the method from its control.",
    ),
    ("dsc", "Higher is better; 100 % = the method's lung matches the hand tracing exactly."),
    ("costs", "Seconds and memory per cell beside MAE: what each method's accuracy costs."),
    ("not_run", "These methods are missing from every other table; the reason is given."),
    ("table1", "Train and test patients should look alike; a small p flags an imbalance."),
    ("paper_check", "'yes' = the paper's published statistics agree with its own summaries."),
)

FIGURE_READINGS: tuple[tuple[str, str], ...] = (
    (
        "fig_pred_vs_true",
        "One dot per patient: on the dashed line = exact; a flat cloud = "
        "the method ignores GA; triangles = estimates beyond the axes.",
    ),
    (
        "fig_bland_altman",
        "One dot per patient: dashed limits close to 0 = good agreement; "
        "a sloping cloud = the error depends on GA.",
    ),
    (
        "fig_error_boxes",
        "Boxes further left are better (smaller error); compare one method "
        "across GA groups, and every method with the floor control.",
    ),
    (
        "fig_intervals",
        "One line per patient: blue = the interval holds the true GA, red = "
        "it misses; short lines near the dashed identity are best.",
    ),
    (
        "fig_calibration",
        "Red smoother on the dashed line = calibrated; flatter = estimates too "
        "spread, steeper = shrunk toward the mean.",
    ),
    (
        "fig_rejection_curve",
        "A curve that falls as more patients are referred = wide intervals "
        "flag the estimates that are off.",
    ),
    (
        "fig_decision_curve",
        "Red above blue and above the dashed treat-all line = the estimate "
        "adds clinical value at that threshold.",
    ),
    (
        "fig_maturity_reliability",
        "Points on the dashed line = the stated P(preterm lung) matches how "
        "often the lung was preterm.",
    ),
    (
        "fig_outcome_reliability",
        "Points on the dashed line = predicted risks match observed event shares.",
    ),
    (
        "fig_training_curves",
        "Falling then flattening lines = learning; validation far above "
        "training = overfitting; a line that stops early hit a cap.",
    ),
    ("fig_segmentation_overlays", "Orange should fill the cyan outline and nothing else."),
    (
        "fig_cost_vs_accuracy",
        "Lower = more accurate, further left = cheaper: the best trade-offs sit bottom-left.",
    ),
    (
        "scenario",
        "Each panel is one simulated world: a method should find GA where the "
        "world puts it and nothing in the null world.",
    ),
)


def _first_sentence(text: str) -> str:
    head = text.strip().split(". ")[0].rstrip(".")
    return f"{head}." if head else ""


def table_reading(name: str, caption: str) -> str:
    for prefix, line in TABLE_READINGS:
        if name.startswith(prefix):
            return line
    return _first_sentence(caption)


def figure_reading(stem: str, caption: str) -> str:
    for prefix, line in FIGURE_READINGS:
        if stem.startswith(prefix):
            return line
    return _first_sentence(caption)
