from django.urls import path
from rest_framework.routers import DefaultRouter

from registry.api.views import policy, policy_file
from registry.api.views.agents import AgentViewSet
from registry.api.views.catalogue import CapabilityViewSet, TeamViewSet, ToolViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("agents", AgentViewSet, basename="agent")
router.register("teams", TeamViewSet, basename="team")
router.register("tools", ToolViewSet, basename="tool")
router.register("capabilities", CapabilityViewSet, basename="capability")

urlpatterns = [
    path("policy/", policy.PolicyCurrent.as_view(), name="policy-current"),
    path("policy/versions/", policy.PolicyVersionList.as_view(), name="policy-versions"),
    path("policy/schema/", policy_file.PolicySchema.as_view(), name="policy-schema"),
    path("policy/versions/import/", policy_file.PolicyImport.as_view(), name="policy-import"),
    path(
        "policy/versions/<int:number>/export/",
        policy_file.PolicyExport.as_view(),
        name="policy-export",
    ),
    path(
        "policy/versions/<int:number>/",
        policy.PolicyVersionDetail.as_view(),
        name="policy-version",
    ),
    path(
        "policy/versions/<int:number>/rules/",
        policy.PolicyVersionRules.as_view(),
        name="policy-version-rules",
    ),
    path(
        "policy/versions/<int:number>/publish/",
        policy.PolicyPublish.as_view(),
        name="policy-publish",
    ),
    path("policy/versions/<int:number>/diff/", policy.PolicyDiff.as_view(), name="policy-diff"),
    *router.urls,
]
