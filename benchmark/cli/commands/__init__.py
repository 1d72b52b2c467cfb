"""CLI verbs, one module each (discovered by :mod:`benchmark.cli`)."""
