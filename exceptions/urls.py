"""HTML pages of policy exceptions (the API lives in exceptions/api/urls.py)."""

from django.urls import path

from exceptions import views

app_name = "exceptions"

urlpatterns = [
    path("", views.exception_list, name="list"),
    path("new/", views.exception_create, name="create"),
    path("<int:pk>/", views.exception_detail, name="detail"),
    path("<int:pk>/renew/", views.exception_renew, name="renew"),
    path("<int:pk>/approve/", views.exception_approve, name="approve"),
    path("<int:pk>/reject/", views.exception_reject, name="reject"),
    path("<int:pk>/revoke/", views.exception_revoke, name="revoke"),
    path("<int:pk>/withdraw/", views.exception_withdraw, name="withdraw"),
]
