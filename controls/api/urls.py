"""API of controls: frameworks, controls and their mappings."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from controls.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("frameworks", views.FrameworkViewSet, basename="framework")
router.register("controls", views.ControlViewSet, basename="control")

urlpatterns = [
    # Item ref_ids contain spaces, dots and '/', hence `path:` for the item, last but one.
    path(
        "frameworks/<str:key>/items/<path:ref_id>/applicability/",
        views.ItemApplicabilityView.as_view(),
        name="framework-item-applicability",
    ),
    path(
        "controls/<str:ref_id>/mappings/",
        views.ControlMappingCreate.as_view(),
        name="control-mappings",
    ),
    # The item ref_id is last and may contain '/' (MAESTRO threats), hence `path:`.
    path(
        "controls/<str:ref_id>/mappings/<str:framework_key>/<path:item_ref_id>/",
        views.ControlMappingDetail.as_view(),
        name="control-mapping",
    ),
    *router.urls,
]
