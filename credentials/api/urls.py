"""The credentials API, mounted at /api/v1/ (portal/api/urls.py)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from credentials.api.views import CredentialViewSet, IdentityViewSet, TrustProviderViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("trust-providers", TrustProviderViewSet, basename="trust-provider")
router.register("credentials", CredentialViewSet, basename="credential")

identities = IdentityViewSet.as_view({"get": "list", "post": "create"})
identity = IdentityViewSet.as_view({"delete": "destroy"})

urlpatterns = [
    path("agents/<slug:agent_slug>/identities/", identities, name="agent-identities"),
    path("agents/<slug:agent_slug>/identities/<int:pk>/", identity, name="agent-identity"),
    path(
        "agents/<slug:agent_slug>/identities/<int:pk>/approve/",
        IdentityViewSet.as_view({"post": "approve"}),
        name="agent-identity-approve",
    ),
    path(
        "agents/<slug:agent_slug>/identities/<int:pk>/reject/",
        IdentityViewSet.as_view({"post": "reject"}),
        name="agent-identity-reject",
    ),
    *router.urls,
]
