"""HTML pages of the registry (the API lives in registry/api/urls.py)."""

from django.urls import path

from registry.views import agents, policy, requests, review

app_name = "registry"

urlpatterns = [
    path("agents/", agents.agent_list, name="agent-list"),
    path("agents/new/", agents.agent_create, name="agent-create"),
    path("agents/<slug:slug>/", agents.agent_detail, name="agent-detail"),
    path("agents/<slug:slug>/edit/", agents.agent_edit, name="agent-edit"),
    path("requests/", requests.request_list, name="request-list"),
    path("requests/new/", requests.request_create, name="request-create"),
    path("requests/<int:pk>/", requests.request_detail, name="request-detail"),
    path("requests/<int:pk>/approve/", requests.request_approve, name="request-approve"),
    path("requests/<int:pk>/deny/", requests.request_deny, name="request-deny"),
    path("requests/<int:pk>/cancel/", requests.request_cancel, name="request-cancel"),
    path(
        "requests/<int:pk>/review-break-glass/",
        requests.request_review_break_glass,
        name="request-review-break-glass",
    ),
    path("grants/<int:pk>/revoke/", requests.grant_revoke, name="grant-revoke"),
    path("approvals/", requests.approvals, name="approvals"),
    path("review/", review.review_queue, name="review"),
    path("review/<int:pk>/", review.review_submit, name="review-submit"),
    path("agents/<slug:slug>/<str:transition>/", agents.agent_transition, name="agent-transition"),
    path("policy/", policy.policy_overview, name="policy"),
    path("policy/draft/", policy.policy_draft_open, name="policy-draft-open"),
    path("policy/draft/<int:number>/rule/", policy.policy_draft_rule, name="policy-draft-rule"),
    path("policy/draft/<int:number>/publish/", policy.policy_draft_publish, name="policy-publish"),
    path("policy/draft/<int:number>/discard/", policy.policy_draft_discard, name="policy-discard"),
]
