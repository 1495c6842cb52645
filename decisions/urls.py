"""HTML pages of the decisions context: security's review of drift flags."""

from django.urls import path

from decisions import views

app_name = "decisions"

urlpatterns = [
    path("review/", views.review_queue, name="review"),
    path("review/<int:pk>/", views.review_submit, name="review-submit"),
]
