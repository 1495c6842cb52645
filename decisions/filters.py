"""List filters of the decision log and of reported activity (the decision API lists)."""

from django_filters import rest_framework as filters

from decisions.models import Activity, Decision, DecisionOutcome, ReviewStatus
from kernel.validation import sane_year_validator


class DecisionFilter(filters.FilterSet):
    agent = filters.CharFilter(field_name="agent_slug")
    capability = filters.CharFilter(field_name="capability_key")
    decision = filters.ChoiceFilter(choices=DecisionOutcome.choices)
    since = filters.IsoDateTimeFilter(
        field_name="decided_at", lookup_expr="gte", validators=[sane_year_validator("since")]
    )
    until = filters.IsoDateTimeFilter(
        field_name="decided_at", lookup_expr="lt", validators=[sane_year_validator("until")]
    )

    class Meta:
        model = Decision
        fields = ["agent", "capability", "decision", "since", "until"]


class ActivityFilter(filters.FilterSet):
    flagged = filters.BooleanFilter()
    review_status = filters.ChoiceFilter(choices=ReviewStatus.choices)
    agent = filters.CharFilter(field_name="agent_slug")
    capability = filters.CharFilter(field_name="capability_key")

    class Meta:
        model = Activity
        fields = ["flagged", "review_status", "agent", "capability"]
