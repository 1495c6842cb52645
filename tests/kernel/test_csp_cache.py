"""kernel.middleware.ContentSecurityPolicyMiddleware answers exactly as django-csp's
CSPMiddleware (the headers it sets, and the nonce after the response), case by case."""

import pytest
from csp.constants import NONCE, SELF
from csp.decorators import csp, csp_exempt, csp_replace, csp_update
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings

from kernel.middleware import ContentSecurityPolicyMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def plain(request):
    return JsonResponse({"ok": True})


def uses_nonce(request):
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")


def not_found(request):
    return HttpResponse("missing", status=404)


@csp_replace({"style-src": [SELF, "'unsafe-inline'"], "img-src": [SELF, "data:"]})
def replaced(request):
    return HttpResponse("docs")


@csp_update({"form-action": ["https://idp.example"]})
def updated(request):
    return HttpResponse("login")


@csp({"default-src": ["'none'"], "upgrade-insecure-requests": True})
def configured(request):
    return HttpResponse("own")


@csp_exempt()
def exempt(request):
    return HttpResponse("exempt")


VIEWS = [plain, uses_nonce, not_found, replaced, updated, configured, exempt]
POLICIES = {
    "default": {},
    "report_only": {
        "CONTENT_SECURITY_POLICY_REPORT_ONLY": {
            "DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}
        }
    },
    "excluded": {
        "CONTENT_SECURITY_POLICY": {
            "EXCLUDE_URL_PREFIXES": ["/api/"],
            "DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]},
        }
    },
    "debug": {"DEBUG": True},
}


def answer(middleware_class, view, path):
    request = RequestFactory().get(path)
    response = middleware_class(view)(request)
    try:
        nonce = str(request.csp_nonce)  # after the response: django-csp refuses, or makes one
    except CSPNonceError:
        nonce = "refused"
    made = getattr(request, "_csp_nonce", None)
    headers = {
        name: (response.get(name) or "").replace(made or "\0", "<nonce>") for name in HEADERS
    }
    return headers, nonce.replace(made or "\0", "<nonce>")


@pytest.mark.parametrize("settings_case", list(POLICIES))
@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
@pytest.mark.parametrize("path", ["/api/v1/decisions/", "/"])
def test_same_headers_as_django_csp(settings_case, view, path):
    with override_settings(**POLICIES[settings_case]):
        for _ in range(2):  # the second time from the cache
            ours = answer(ContentSecurityPolicyMiddleware, view, path)
            theirs = answer(CSPMiddleware, view, path)
            assert ours == theirs


def test_a_nonce_appears_in_the_header_as_before():
    request = RequestFactory().get("/")
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": [SELF, NONCE]}}):
        response = ContentSecurityPolicyMiddleware(uses_nonce)(request)
    assert f"'nonce-{request._csp_nonce}'" in response["Content-Security-Policy"]


def test_single_sign_on_widens_form_action_by_the_identity_providers_origin_only():
    from directory.csp import SignInCSPMiddleware

    with override_settings(OIDC_ISSUER="https://idp.example/realms/acme"):
        headers, _ = answer(SignInCSPMiddleware, plain, "/")
    policy = headers["Content-Security-Policy"]
    assert "form-action 'self' https://idp.example" in policy
    with override_settings(OIDC_ISSUER=""):
        headers, _ = answer(SignInCSPMiddleware, plain, "/")
    assert "https://idp.example" not in headers["Content-Security-Policy"]
