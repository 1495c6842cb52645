"""List filters shared by the /exceptions/ page and GET /api/v1/exceptions/ (the list selector
applies them)."""

from django import forms
from django.db.models import Case, IntegerField, Value, When
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from exceptions.limits import EXPIRING_FILTER_MAX_DAYS
from exceptions.models import ExceptionStatus, PolicyException, Risk
from exceptions.rules import exception_ending_after_q, exception_expiring_within_q
from kernel.filtering import UserFilterSet
from kernel.sorting import SortSpec

# Risks sort by how risky, not alphabetically.
RISK_RANK = Case(
    *(When(risk=risk.value, then=Value(rank)) for rank, risk in enumerate(Risk)),
    output_field=IntegerField(),
)
# The sortable columns of the exceptions page (kernel.sorting).
EXCEPTION_SORT = SortSpec(
    {
        "number": ("id",),
        "title": ("title",),
        "agent": ("agent__slug",),
        "capability": ("capability__key",),
        "risk": (RISK_RANK,),
        "status": ("status",),
        "expires": ("expires_at",),
        "requested": ("created_at",),
    },
    default="-requested",
)


@extend_schema_field(OpenApiTypes.INT)
class WholeNumberFilter(filters.Filter):
    field_class = forms.IntegerField


class ExceptionFilter(UserFilterSet):
    status = filters.ChoiceFilter(choices=ExceptionStatus.choices, empty_label="Any status")
    risk = filters.ChoiceFilter(choices=Risk.choices, empty_label="Any risk")
    agent = filters.CharFilter(field_name="agent__slug", label="Agent (slug)")
    capability = filters.CharFilter(field_name="capability__key", label="Capability")
    expiring_within_days = WholeNumberFilter(
        method="filter_expiring",
        min_value=0,
        max_value=EXPIRING_FILTER_MAX_DAYS,
        label="Expiring within (days)",
        help_text="active exceptions ending within this many days",
    )
    ending_after_days = WholeNumberFilter(
        method="filter_ending_after",
        min_value=0,
        max_value=EXPIRING_FILTER_MAX_DAYS,
        label="Ending after (days)",
        help_text="active exceptions ending later than this many days from now",
    )
    mine = filters.BooleanFilter(
        method="filter_mine",
        label="Requested by",
        widget=forms.Select(choices=[("", "Anyone"), ("true", "Me"), ("false", "Others")]),
    )

    class Meta:
        model = PolicyException
        fields = [
            "status",
            "risk",
            "agent",
            "capability",
            "expiring_within_days",
            "ending_after_days",
            "mine",
        ]

    def filter_expiring(self, queryset, name, value):
        return queryset if value is None else queryset.filter(exception_expiring_within_q(value))

    def filter_ending_after(self, queryset, name, value):
        return queryset if value is None else queryset.filter(exception_ending_after_q(value))

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(requested_by=self.user)
        return queryset.exclude(requested_by=self.user)
