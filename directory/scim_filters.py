"""SCIM filters (`filter=userName eq "alice"`) as SQL over the user and group tables
(django-scim2 with scim2-filter-parser: bound parameters, only mapped attributes)."""

from django_scim.filters import FilterQuery
from django_scim.filters import UserFilterQuery as BaseUserFilterQuery

from directory.models import DirectoryGroup


class UserFilterQuery(BaseUserFilterQuery):
    attr_map = {
        **BaseUserFilterQuery.attr_map,
        ("emails", None, None): "email",
        ("emails", "value", None): "email",
    }


class GroupFilterQuery(FilterQuery):
    model_getter = staticmethod(lambda: DirectoryGroup)
    attr_map = {("displayName", None, None): "name"}
