from rest_framework.routers import DefaultRouter

from decisions.api.views import ActivityViewSet, DecisionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("decisions", DecisionViewSet, basename="decision")
router.register("activity", ActivityViewSet, basename="activity")

urlpatterns = router.urls
