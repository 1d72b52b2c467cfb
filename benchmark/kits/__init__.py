"""Method kits: shared code of method families (nets, texture features, patches).

Only plugins (``methods/``) and tests import a kit; the engine never does (an
import-linter contract in ``pyproject.toml`` and ``tests/test_layers.py`` enforce it).
"""
