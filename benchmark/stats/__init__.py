"""Statistics computed from a run's stored predictions only (docs/report.md).

- :mod:`~benchmark.stats.metrics` — MAE, RMSE, bias, Pearson r (Fisher-z and patient
  bootstrap CIs), Spearman, Bland–Altman; per split and mean ± SD across splits; DSC.
- :mod:`~benchmark.stats.comparisons` — Table 2 (paired t, Wilcoxon, Holm; the paper's
  unpaired t; :func:`ttest_from_summary`).
- :mod:`~benchmark.stats.correlation` — dependent-correlation test for transfer vs scratch.
- :mod:`~benchmark.stats.cohort_table` — Table 1 (ANOVA + LSD, χ²/Fisher).
"""

from benchmark.stats.cohort_table import count_test, lsd_anova, table1
from benchmark.stats.comparisons import holm, table2, ttest_from_summary
from benchmark.stats.correlation import (
    compare_correlations,
    paired_bootstrap_r_diff,
    williams_t,
)
from benchmark.stats.metrics import (
    aggregate_splits,
    agreement,
    bland_altman,
    bootstrap_r_ci,
    dsc_summary,
    pearson_fisher_ci,
    pooled_metrics,
    pooled_patient_predictions,
    split_metrics,
)

__all__ = [
    "aggregate_splits",
    "agreement",
    "bland_altman",
    "bootstrap_r_ci",
    "compare_correlations",
    "count_test",
    "dsc_summary",
    "holm",
    "lsd_anova",
    "paired_bootstrap_r_diff",
    "pearson_fisher_ci",
    "pooled_metrics",
    "pooled_patient_predictions",
    "split_metrics",
    "table1",
    "table2",
    "ttest_from_summary",
    "williams_t",
]
