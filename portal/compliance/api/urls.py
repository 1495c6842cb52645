"""API of compliance: frameworks, controls, reports, evidence packages."""

urlpatterns: list = []
