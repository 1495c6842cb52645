from rest_framework.routers import DefaultRouter

from exceptions.api.views import ExceptionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("exceptions", ExceptionViewSet, basename="exception")

urlpatterns = router.urls
