"""Studies as data: a study file lists runs and the registered study outputs built from
their predictions (``docs/studies.md``).  The runs themselves are made by
:mod:`benchmark.execution.study`."""

from benchmark.report.studies.registry import (
    StudyContext,
    StudyFiles,
    StudyRunData,
    list_study_figures,
    list_study_tables,
    register_study_figure,
    register_study_table,
)
from benchmark.report.studies.spec import RunSpec, Study, StudyFileError, load_study

__all__ = [
    "RunSpec",
    "Study",
    "StudyContext",
    "StudyFileError",
    "StudyFiles",
    "StudyRunData",
    "list_study_figures",
    "list_study_tables",
    "load_study",
    "register_study_figure",
    "register_study_table",
]
