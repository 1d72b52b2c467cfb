"""Bring-your-own cohort: manifests, annotation formats, per-image loading, file readers.

Submodules are imported where used (``benchmark.data.ingest.manifest`` etc.): this package
imports nothing eagerly, so ``benchmark.data.io`` can use
``benchmark.data.ingest.readers`` without an import cycle.
"""
