"""Writes and transitions of the registry. One module per concern; see each module's doc."""
