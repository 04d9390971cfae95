"""Fuzz targets for anchore's readers and parsers; see docs/development.md (Fuzzing)."""
