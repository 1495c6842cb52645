"""HTML pages of just-in-time access: requests, their decisions, grants."""

from django.urls import path

from access import grant_views, views

app_name = "access"

urlpatterns = [
    path("requests/", views.request_list, name="request-list"),
    path("requests/new/", views.request_create, name="request-create"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/approve/", views.request_approve, name="request-approve"),
    path("requests/<int:pk>/deny/", views.request_deny, name="request-deny"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request-cancel"),
    path("requests/<int:pk>/confirm/", views.request_confirm, name="request-confirm"),
    path("requests/<int:pk>/decline/", views.request_decline, name="request-decline"),
    path(
        "requests/<int:pk>/review-break-glass/",
        views.request_review_break_glass,
        name="request-review-break-glass",
    ),
    path("grants/", grant_views.grant_list, name="grant-list"),
    path("grants/<int:pk>/", grant_views.grant_detail, name="grant-detail"),
    path("grants/<int:pk>/revoke/", grant_views.grant_revoke, name="grant-revoke"),
]
