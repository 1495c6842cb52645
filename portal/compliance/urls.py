"""HTML pages of compliance (frameworks, controls, crosswalk, the audit report).

Fixed words (controls, crosswalk, evidence, packages) come before `<key>/`, so no framework
key may be one of them.
"""

from django.urls import path

from portal.compliance import report_views, views

app_name = "compliance"

urlpatterns = [
    path("", views.index, name="index"),
    path("crosswalk/", views.crosswalk, name="crosswalk"),
    path("controls/", views.control_list, name="control-list"),
    path("controls/<str:ref_id>/", views.control_detail, name="control"),
    path("controls/<str:ref_id>/edit/", views.control_edit, name="control-edit"),
    path("controls/<str:ref_id>/mappings/", views.mapping_add, name="mapping-add"),
    path("controls/<str:ref_id>/mappings/<int:pk>/edit/", views.mapping_edit, name="mapping-edit"),
    path(
        "controls/<str:ref_id>/mappings/<int:pk>/delete/",
        views.mapping_delete,
        name="mapping-delete",
    ),
    path("controls/<str:ref_id>/evidence/", views.evidence_add, name="evidence-add"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence-download"),
    path("packages/<int:pk>/", report_views.package_status, name="package"),
    path("packages/<int:pk>/download/", report_views.package_download, name="package-download"),
    path("<str:key>/", views.framework_detail, name="framework"),
    path("<str:key>/report/", report_views.report, name="report"),
    path("<str:key>/report/package/", report_views.package_request, name="package-request"),
    path("<str:key>/report/<str:fmt>/", report_views.report_export, name="report-export"),
]
