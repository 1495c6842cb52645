"""Sign-in and sign-out through the IdP, and the pages that explain when it did not work."""

import logging

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_POST, require_safe

from directory import oidc
from directory.mapping import role_groups
from directory.models import DirectoryAccount
from kernel.http import AuthenticatedHttpRequest
from kernel.permissions import roles_of

logger = logging.getLogger(__name__)

FAILURE = "directory_sso_failure"


def _unavailable(request: HttpRequest, reason: str) -> HttpResponse:
    logger.warning("Single sign-on unavailable: %s", reason)
    title = f"{settings.OIDC_PROVIDER_NAME} sign-in is unavailable"
    return _sso_problem(request, title, reason, status=503)


def _sso_problem(
    request: HttpRequest, title: str, reason: str, *, status: int, retry: bool = False
) -> HttpResponse:
    """Why signing in through the IdP did not work, and the password sign-in (settings'
    LOGIN_URL, the shell's page) as the way in meanwhile."""
    return render(
        request,
        "directory/sso_problem.html",
        {
            "title": title,
            "reason": reason,
            "retry": retry,
            "break_glass": not settings.PASSWORD_LOGIN,
            "login_url": resolve_url(settings.LOGIN_URL),
        },
        status=status,
    )


def sign_in(request: HttpRequest) -> HttpResponse:
    """/oidc/authenticate/: to the provider's login page (PKCE, nonce, state)."""
    try:
        return oidc.SignInView.as_view()(request)
    except oidc.IdentityProviderUnavailable as exc:
        return _unavailable(request, str(exc))


def callback(request: HttpRequest) -> HttpResponse:
    """/oidc/callback/: the provider sends the browser back with a code."""
    try:
        response = oidc.CallbackView.as_view()(request)
    except oidc.IdentityProviderUnavailable as exc:
        return _unavailable(request, str(exc))
    except (SuspiciousOperation, requests.RequestException) as exc:
        logger.warning("Single sign-on refused: %s", exc)
        request.session[FAILURE] = str(exc)[:300]
        return redirect("sso-failed")
    if request.user.is_authenticated and not roles_of(request.user):
        return redirect("no-role")
    return response


def sso_failed(request: HttpRequest) -> HttpResponse:
    reason = request.session.pop(FAILURE, "") or (
        "The identity provider's answer could not be accepted (an expired or replayed sign-in, "
        "or a deactivated account)."
    )
    return _sso_problem(request, "Sign-in was refused", reason, status=400, retry=True)


@login_required
@require_safe
def no_role(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Signed in, but no IdP group gives a role: say so, and whom to ask. A page to read, with
    no form of its own: a POST is the wrong kind of request (405), said on the error page."""
    account = DirectoryAccount.objects.filter(user=request.user).first()
    mapping = sorted((group, sorted(roles)) for group, roles in role_groups().items())
    return render(
        request,
        "directory/no_role.html",
        {"groups": account.last_groups if account else [], "mapping": mapping},
        status=403,
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the portal session, and the provider's where it offers RP-initiated logout."""
    target = resolve_url(settings.LOGIN_URL)
    if request.user.is_authenticated and request.session.get("oidc_id_token"):
        target = oidc.provider_logout_url(request)
    auth.logout(request)
    return HttpResponseRedirect(target)
