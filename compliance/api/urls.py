"""API of compliance: audit reports and evidence packages."""

from django.urls import path

from compliance.api import views
from compliance.api.policy_impact import PolicyImpact

urlpatterns = [
    path("policy/versions/<int:number>/impact/", PolicyImpact.as_view(), name="api-policy-impact"),
    path("reports/<str:framework_key>/", views.ReportView.as_view(), name="api-report"),
    path(
        "reports/<str:framework_key>/controls/<str:ref_id>/records/",
        views.ReportRecordsView.as_view(),
        name="api-report-records",
    ),
    path("evidence-packages/", views.EvidencePackageList.as_view(), name="api-evidence-packages"),
    path(
        "evidence-packages/<int:pk>/",
        views.EvidencePackageDetail.as_view(),
        name="api-evidence-package",
    ),
    path(
        "evidence-packages/<int:pk>/download/",
        views.EvidencePackageDownload.as_view(),
        name="api-evidence-package-download",
    ),
]
