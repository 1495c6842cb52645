from django.urls import include, path, re_path

from portal.api.views import TokenView, api_not_found, api_root

urlpatterns = [
    path("", api_root, name="api-root"),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include("registry.api.urls")),
    path("", include("portal.compliance.api.urls")),
    re_path(r"^.*$", api_not_found),  # an unknown API address is a JSON 404, not an HTML page
]
