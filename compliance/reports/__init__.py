"""The audit report and its exports (CSV, JSON, OSCAL assessment results, printable HTML)."""
