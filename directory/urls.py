from django.urls import path

from directory import views

urlpatterns = [
    path("oidc/authenticate/", views.sign_in, name="oidc_authentication_init"),
    path("oidc/callback/", views.callback, name="oidc_authentication_callback"),
    path("accounts/sso-failed/", views.sso_failed, name="sso-failed"),
    path("accounts/no-role/", views.no_role, name="no-role"),
    path("accounts/logout/", views.logout, name="logout"),
]
