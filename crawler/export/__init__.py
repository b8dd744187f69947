"""Datasets out of the archive: one module per format, sharing selection, output and manifest."""
