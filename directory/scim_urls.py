"""/scim/v2/: django-scim2's views, with numeric resource ids (anything else is a SCIM 404,
never a database error) and a SCIM 404 for unknown addresses."""

import json

from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django_scim import constants, views

app_name = "scim"


def not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    body = {
        "schemas": [constants.SchemaURI.ERROR],
        "status": "404",
        "detail": f"No SCIM resource at {request.path}.",
    }
    return HttpResponse(json.dumps(body), content_type=constants.SCIM_CONTENT_TYPE, status=404)


urlpatterns = [
    re_path(r"^$", views.SCIMView.as_view(implemented=False), name="root"),
    re_path(r"^\.search$", views.SearchView.as_view(implemented=False), name="search"),
    re_path(r"^Users/\.search$", views.UserSearchView.as_view(), name="users-search"),
    re_path(r"^Users(?:/(?P<uuid>[0-9]{1,18}))?$", views.UsersView.as_view(), name="users"),
    re_path(r"^Groups/\.search$", views.GroupSearchView.as_view(), name="groups-search"),
    re_path(r"^Groups(?:/(?P<uuid>[0-9]{1,18}))?$", views.GroupsView.as_view(), name="groups"),
    re_path(r"^Me$", views.SCIMView.as_view(implemented=False), name="me"),
    re_path(
        r"^ServiceProviderConfig$",
        views.ServiceProviderConfigView.as_view(),
        name="service-provider-config",
    ),
    re_path(
        r"^ResourceTypes(?:/(?P<uuid>[^/]+))?$",
        views.ResourceTypesView.as_view(),
        name="resource-types",
    ),
    re_path(r"^Schemas(?:/(?P<uuid>[^/]+))?$", views.SchemasView.as_view(), name="schemas"),
    re_path(r"^Bulk$", views.SCIMView.as_view(implemented=False), name="bulk"),
    re_path(r"^.*$", not_found),
]
