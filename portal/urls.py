from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from agent_mcp.views import protected_resource_metadata as mcp_resource_metadata
from decisions.api.views import decisions_endpoint
from kernel.login import LoginView
from portal import views

urlpatterns = [
    # First: the decision API sits in every agent action's path; resolve it before the rest.
    path("api/v1/decisions/", decisions_endpoint, name="decision-list"),
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page links: send them to the static icon
    # (its hashed name, read per request: the manifest may not exist when this is imported).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("img/favicon.ico"))),
    path("", include("credentials.api.oauth_urls")),
    re_path(r"^\.well-known/oauth-protected-resource(?:/mcp)?$", mcp_resource_metadata),
    path("audit/", views.audit_trail, name="audit-trail"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
    path("deliveries/retry-failed/", views.deliveries_retry_failed, name="deliveries-retry-failed"),
    path(
        "accounts/login/",
        LoginView.as_view(),
        name="login",
    ),
    path("", include("directory.urls")),  # SSO sign-in and -out, /accounts/logout/
    path("scim/v2/", include("directory.scim_urls", namespace="scim")),
    *(path("", include(f"{app}.urls")) for app in ("registry", "access", "approvals", "decisions")),
    path("", include("credentials.urls")),
    path("compliance/", include("compliance.urls")),
    path("compliance/", include("controls.urls")),
    path("exceptions/", include("exceptions.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # The split view serves Swagger's start-up script as a file (no inline script); the
        # page's own <style> block and Swagger's data: images need a looser policy, here only.
        csp_replace({"style-src": [SELF, UNSAFE_INLINE], "img-src": [SELF, "data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
