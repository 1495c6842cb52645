"""List filters of the decision log and of reported activity (the decision API lists)."""

from django_filters import rest_framework as filters

from access.limits import WORKLOAD_MAX_LENGTH
from decisions.models import Activity, Decision, DecisionOutcome, ReviewStatus
from kernel.filtering import time_window


class DecisionFilter(filters.FilterSet):
    agent = filters.CharFilter(field_name="agent_slug")
    capability = filters.CharFilter(field_name="capability_key")
    decision = filters.ChoiceFilter(choices=DecisionOutcome.choices, empty_label="Allow or deny")
    credential = filters.CharFilter(
        method="for_credential", max_length=64, label="Credential (jti)"
    )
    workload = filters.CharFilter(
        method="for_workload", max_length=WORKLOAD_MAX_LENGTH, label="Asked as workload"
    )
    since, until = time_window("decided_at", "Decided")

    class Meta:
        model = Decision
        fields = ["agent", "capability", "decision", "credential", "workload", "since", "until"]

    def for_credential(self, queryset, name, value):
        """Decisions of one token exchange (`credential_jti > ""` matches the partial index)."""
        return queryset.filter(credential_jti__gt="", credential_jti=value)

    def for_workload(self, queryset, name, value):
        """Decisions an agent asked as this workload identity, written "provider: subject"
        as the log shows it (`caller_workload > ""` matches the partial index)."""
        return queryset.filter(caller_workload__gt="", caller_workload=value)


class ActivityFilter(filters.FilterSet):
    flagged = filters.BooleanFilter()
    review_status = filters.ChoiceFilter(
        choices=ReviewStatus.choices, label="Review", empty_label="Any review status"
    )
    agent = filters.CharFilter(field_name="agent_slug")
    capability = filters.CharFilter(field_name="capability_key")
    since, until = time_window("occurred_at", "Occurred")

    class Meta:
        model = Activity
        fields = ["flagged", "review_status", "agent", "capability", "since", "until"]
