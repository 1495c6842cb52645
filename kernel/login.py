"""The HTML login: API-only roles are refused, and failed attempts are throttled."""

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


class LoginForm(AuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if roles_of(user) & API_ONLY_ROLES:
            raise ValidationError(API_ONLY_MESSAGE, code="api_only")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

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
