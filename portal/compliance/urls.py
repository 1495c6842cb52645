"""HTML pages of compliance (frameworks, controls, reports)."""

app_name = "compliance"

urlpatterns: list = []
