"""One file per table or figure added after the built-in ones; each registers itself with
:func:`benchmark.report.registry.register_table` / ``register_figure`` and is imported
by the registry (modules starting with ``_`` are helpers, not imported for registration)."""
