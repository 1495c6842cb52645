"""HTML pages of the registry: agents and tier policy (the API lives in registry/api/urls.py)."""

from django.urls import path

from registry.views import agents, policy

app_name = "registry"

urlpatterns = [
    path("agents/", agents.agent_list, name="agent-list"),
    path("agents/new/", agents.agent_create, name="agent-create"),
    path("agents/<slug:slug>/", agents.agent_detail, name="agent-detail"),
    path("agents/<slug:slug>/edit/", agents.agent_edit, name="agent-edit"),
    # Before the transitions: "reassign" takes a form, the transitions take none.
    path("agents/<slug:slug>/reassign/", agents.agent_reassign, name="agent-reassign"),
    path("agents/<slug:slug>/<str:transition>/", agents.agent_transition, name="agent-transition"),
    path("policy/", policy.policy_overview, name="policy"),
    path("policy/draft/", policy.policy_draft_open, name="policy-draft-open"),
    path("policy/import/", policy.policy_import, name="policy-import"),
    path("policy/draft/<int:number>/rules/", policy.policy_draft_save, name="policy-draft-save"),
    path("policy/draft/<int:number>/publish/", policy.policy_draft_publish, name="policy-publish"),
    path("policy/draft/<int:number>/discard/", policy.policy_draft_discard, name="policy-discard"),
]
