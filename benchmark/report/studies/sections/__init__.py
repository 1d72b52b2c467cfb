"""Study tables and figures, one module each (discovered by
:mod:`benchmark.report.studies.registry`); ``_``-prefixed modules are shared helpers."""
