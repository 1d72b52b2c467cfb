"""Bring-your-own cohort: manifests, annotation formats, per-image loading, file readers.

Submodules are imported where used (``benchmark.ingest.manifest`` etc.): this package
imports nothing eagerly, so ``benchmark.io`` can use ``benchmark.ingest.readers`` without an
import cycle.
"""
