"""The contract a plugin author writes against: the method base class, the registries,
plugin discovery and the error vocabulary.  The lowest layer of the engine."""
