from django.urls import path
from rest_framework.routers import DefaultRouter

from decisions.api.batch import DecisionBatch
from decisions.api.cedar import AgentCedarEntities, PolicyVersionCedar
from decisions.api.effective import effective_endpoint
from decisions.api.views import ActivityViewSet, DecisionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("decisions", DecisionViewSet, basename="decision")
router.register("activity", ActivityViewSet, basename="activity")

urlpatterns = [
    path("decisions/batch/", DecisionBatch.as_view(), name="decision-batch"),
    path("agents/<slug:slug>/effective/", effective_endpoint, name="agent-effective"),
    path("policy/versions/<int:number>/cedar/", PolicyVersionCedar.as_view(), name="policy-cedar"),
    path(
        "agents/<slug:slug>/cedar-entities/",
        AgentCedarEntities.as_view(),
        name="agent-cedar-entities",
    ),
    *router.urls,
]
