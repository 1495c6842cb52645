"""API of compliance: frameworks, controls and their mappings, reports, evidence packages."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from portal.compliance.api import reports, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("frameworks", views.FrameworkViewSet, basename="framework")
router.register("controls", views.ControlViewSet, basename="control")

urlpatterns = [
    path(
        "controls/<str:ref_id>/mappings/",
        views.ControlMappingCreate.as_view(),
        name="control-mappings",
    ),
    # The item ref_id is last and may contain '/' (MAESTRO threats), hence `path:`.
    path(
        "controls/<str:ref_id>/mappings/<str:framework_key>/<path:item_ref_id>/",
        views.ControlMappingDetail.as_view(),
        name="control-mapping",
    ),
    path("reports/<str:framework_key>/", reports.ReportView.as_view(), name="api-report"),
    path("evidence-packages/", reports.EvidencePackageList.as_view(), name="api-evidence-packages"),
    path(
        "evidence-packages/<int:pk>/",
        reports.EvidencePackageDetail.as_view(),
        name="api-evidence-package",
    ),
    path(
        "evidence-packages/<int:pk>/download/",
        reports.EvidencePackageDownload.as_view(),
        name="api-evidence-package-download",
    ),
    *router.urls,
]
