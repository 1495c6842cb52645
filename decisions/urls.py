"""HTML pages of the decisions context: the decision log, security's review of drift flags."""

from django.urls import path

from decisions import views

app_name = "decisions"

urlpatterns = [
    path("decisions/", views.decision_log, name="log"),
    path("review/", views.review_queue, name="review"),
    path("review/<int:pk>/", views.review_submit, name="review-submit"),
]
