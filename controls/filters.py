"""The list filters of the controls catalogue, for HTML and API alike (run by the selectors)."""

from django_filters import rest_framework as filters


class ItemFilter(filters.FilterSet):
    """A framework's items: `kind` (subcategory, risk, threat, ...)."""

    kind = filters.CharFilter(field_name="kind")
