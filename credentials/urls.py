"""HTML pages of trust: providers, signing keys, issued credentials and identity bindings.

Binding pages under an agent use three segments (`identities/add/`): registry's
`agents/<slug>/<transition>/` would catch two.
"""

from django.urls import path

from credentials import views

app_name = "credentials"

urlpatterns = [
    path("trust/", views.providers, name="providers"),
    path("trust/providers/new/", views.provider_create, name="provider-create"),
    path("trust/providers/<slug:slug>/edit/", views.provider_edit, name="provider-edit"),
    path("trust/providers/<slug:slug>/delete/", views.provider_delete, name="provider-delete"),
    path("trust/credentials/", views.credential_list, name="credential-list"),
    path("trust/bindings/<int:pk>/approve/", views.binding_approve, name="binding-approve"),
    path("trust/bindings/<int:pk>/reject/", views.binding_reject, name="binding-reject"),
    path("agents/<slug:slug>/identities/add/", views.binding_add, name="binding-add"),
    path(
        "agents/<slug:slug>/identities/<int:pk>/remove/",
        views.binding_remove,
        name="binding-remove",
    ),
]
