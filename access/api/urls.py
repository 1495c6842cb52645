from rest_framework.routers import DefaultRouter

from access.api.views import AccessRequestViewSet, GrantViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("access-requests", AccessRequestViewSet, basename="access-request")
router.register("grants", GrantViewSet, basename="grant")

urlpatterns = router.urls
