"""HTML pages of compliance: the audit report, its exports, every record a control checked,
and evidence packages."""

from django.urls import path

from compliance import views

app_name = "compliance"

urlpatterns = [
    path("packages/<int:pk>/", views.package_status, name="package"),
    path("packages/<int:pk>/download/", views.package_download, name="package-download"),
    path("<str:key>/report/", views.report, name="report"),
    path("<str:key>/report/package/", views.package_request, name="package-request"),
    path(
        "<str:key>/report/controls/<str:ref_id>/",
        views.control_records,
        name="control-records",
    ),
    path(
        "<str:key>/report/controls/<str:ref_id>/csv/",
        views.control_records_csv,
        name="control-records-csv",
    ),
    path("<str:key>/report/<str:fmt>/", views.report_export, name="report-export"),
]
