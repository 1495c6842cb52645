"""The Content-Security-Policy, widened by exactly one origin when single sign-on is on:
the sign-in button and the logout form lead the browser to the identity provider, and
`form-action` governs where a form's redirects may go."""

from urllib.parse import urlsplit

from csp.middleware import PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from kernel.middleware import ContentSecurityPolicyMiddleware


def identity_provider_origin() -> str | None:
    if not settings.OIDC_ISSUER:
        return None
    parts = urlsplit(settings.OIDC_ISSUER)
    return f"{parts.scheme}://{parts.netloc}"


class SignInCSPMiddleware(ContentSecurityPolicyMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origin = identity_provider_origin()
        if origin is None or report_only:
            return parts
        update = dict(parts.update or {})
        update["form-action"] = [*update.get("form-action", []), origin]
        parts.update = update
        return parts
