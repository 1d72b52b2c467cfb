"""Execution: the grid of cells, running one cell in isolation, the backends that run
them, the run store on disk, provenance, and the ``predict`` use case."""
