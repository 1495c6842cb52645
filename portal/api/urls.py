from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from kernel.api.audit import AuditEventViewSet
from kernel.api.deliveries import DeliveryViewSet
from kernel.api.views import TokenView, api_not_found
from portal.api.views import api_root

# Every app's API is mounted at /api/v1/ itself, in this order.
API_APPS = (
    "registry",
    "controls",
    "access",
    "exceptions",
    "decisions",
    "credentials",
    "compliance",
)

router = SimpleRouter()
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("", api_root, name="api-root"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    *router.urls,
    *(path("", include(f"{app}.api.urls")) for app in API_APPS),
    re_path(r"^.*$", api_not_found),  # an unknown API address is a JSON 404, not an HTML page
]
