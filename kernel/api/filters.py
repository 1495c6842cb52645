"""The list endpoints' filter backend: it only documents the view's `filterset_class` in the
schema. The list selector applies the FilterSet itself (kernel.filtering), the same way for
the API and the HTML page, so the backend must not filter a second time."""

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend


class SelectorFilters(DjangoFilterBackend):
    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        return queryset
