"""The HTML login: API-only roles are refused, and failed attempts are throttled."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from kernel.permissions import roles_of
from kernel.roles import API_ONLY_MESSAGE, API_ONLY_ROLES
from kernel.throttle import (
    client_address,
    login_failed,
    login_retry_after,
    login_succeeded,
    throttled_message,
)

SIGN_IN_WITH_SSO_ONLY = (
    "Password sign-in is turned off: sign in with your company account (single sign-on). "
    "Only administrators may use a password, as a break-glass path."
)


def password_login_refusal(user) -> str | None:
    """Why this account may not authenticate with a password, or None.

    With PASSWORD_LOGIN off, people sign in through the IdP only; superusers keep the password
    (break-glass when the IdP is down) and so do API-only service accounts (gateways), which
    the IdP does not manage."""
    if settings.PASSWORD_LOGIN or user.is_superuser or roles_of(user) & API_ONLY_ROLES:
        return None
    return SIGN_IN_WITH_SSO_ONLY


class LoginForm(AuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if roles_of(user) & API_ONLY_ROLES:
            raise ValidationError(API_ONLY_MESSAGE, code="api_only")
        refusal = password_login_refusal(user)
        if refusal:
            raise ValidationError(refusal, code="password_login_off")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_name"] = settings.OIDC_PROVIDER_NAME if settings.OIDC_ISSUER else ""
        context["password_login"] = settings.PASSWORD_LOGIN
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")
        address = client_address(request)
        wait = login_retry_after(username=username, address=address)
        if wait is not None:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, throttled_message(wait))
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        login_succeeded(username=form.get_user().get_username())
        return super().form_valid(form)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        login_failed(
            username=self.request.POST.get("username", ""), address=client_address(self.request)
        )
        return super().form_invalid(form)
