"""OAuth endpoints at the site root: token exchange, introspection, discovery, JWKS."""

from django.urls import path

from credentials.api import oauth

urlpatterns = [
    path("oauth/token/", oauth.token_endpoint, name="oauth-token"),
    path("oauth/introspect/", oauth.introspection_endpoint, name="oauth-introspect"),
    path(".well-known/oauth-authorization-server", oauth.metadata, name="oauth-metadata"),
    path(".well-known/jwks.json", oauth.jwks, name="oauth-jwks"),
]
