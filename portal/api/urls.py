from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from kernel.api.audit import AuditEventViewSet
from kernel.api.views import TokenView, api_not_found, api_root

router = SimpleRouter()
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("", api_root, name="api-root"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    *router.urls,
    path("", include("registry.api.urls")),
    path("", include("controls.api.urls")),
    path("", include("access.api.urls")),
    path("", include("exceptions.api.urls")),
    path("", include("decisions.api.urls")),
    path("", include("compliance.api.urls")),
    re_path(r"^.*$", api_not_found),  # an unknown API address is a JSON 404, not an HTML page
]
