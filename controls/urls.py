"""HTML pages of controls: frameworks, controls, mappings, evidence, the crosswalk.

Fixed words (controls, crosswalk, evidence) come before `<key>/`, so no framework key may be
one of them; the audit report's pages (compliance/urls.py) share the `/compliance/` prefix.
"""

from django.urls import path

from controls import views

app_name = "controls"

urlpatterns = [
    path("", views.index, name="index"),
    path("crosswalk/", views.crosswalk, name="crosswalk"),
    path("controls/", views.control_list, name="control-list"),
    path("controls/<str:ref_id>/", views.control_detail, name="control"),
    path("controls/<str:ref_id>/edit/", views.control_edit, name="control-edit"),
    path("controls/<str:ref_id>/mappings/", views.mapping_add, name="mapping-add"),
    path("controls/<str:ref_id>/mappings/<int:pk>/edit/", views.mapping_edit, name="mapping-edit"),
    path(
        "controls/<str:ref_id>/mappings/<int:pk>/delete/",
        views.mapping_delete,
        name="mapping-delete",
    ),
    path("controls/<str:ref_id>/evidence/", views.evidence_add, name="evidence-add"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence-download"),
    # An item's ref_id may contain '/' (MAESTRO threats), hence `path:`.
    path(
        "<str:key>/items/<path:ref_id>/applicability/",
        views.item_applicability,
        name="item-applicability",
    ),
    path("<str:key>/", views.framework_detail, name="framework"),
]
