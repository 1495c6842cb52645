"""Reads of the registry. Each selector owns its select_related/prefetch_related."""
