"""List filters of access requests and grants, shared by the pages and the API (the list
selectors in access.selectors apply them)."""

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from access.limits import GRANT_EXPIRING_FILTER_MAX_HOURS
from access.models import AccessRequest, Grant, RequestStatus
from access.permissions import to_confirm_q
from access.rules import grant_active_q, grant_expiring_within_q
from approvals.selectors import awaiting_approval_by
from kernel.filtering import UserFilterSet
from kernel.sorting import SortSpec
from registry.models import Tier

# The sortable columns of the requests and grants pages (kernel.sorting).
REQUEST_SORT = SortSpec(
    {
        "number": ("id",),
        "agent": ("agent__slug",),
        "capability": ("capability__key",),
        "duration": ("duration_hours",),
        "status": ("status",),
        "filed": ("created_at",),
    },
    default="-filed",
)
GRANT_SORT = SortSpec(
    {
        "number": ("id",),
        "agent": ("agent__slug",),
        "capability": ("capability__key",),
        "starts": ("starts_at",),
        "expires": ("expires_at",),
    },
    default="expires",
)


def _flag(method: str) -> filters.ChoiceFilter:
    """`true` or `false`; anything else is a 400 (a BooleanFilter would silently ignore it)."""
    return filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method=method)


class AccessRequestFilter(UserFilterSet):
    status = filters.ChoiceFilter(choices=RequestStatus.choices)
    agent = filters.CharFilter(field_name="agent__slug")
    capability = filters.CharFilter(field_name="capability__key")
    mine = _flag("filter_mine")
    awaiting_me = _flag("filter_awaiting_me")
    to_confirm = _flag("filter_to_confirm")
    break_glass = _flag("filter_break_glass")

    class Meta:
        model = AccessRequest
        fields = [
            "status",
            "agent",
            "capability",
            "mine",
            "awaiting_me",
            "to_confirm",
            "break_glass",
        ]

    def filter_mine(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(requested_by=self.user) if value == "true" else queryset

    def filter_awaiting_me(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value != "true":
            return queryset
        # The same rule as access.selectors.requests_awaiting, within the rows already visible.
        awaiting = awaiting_approval_by(self.user, queryset).exclude(confirmed_by=self.user.pk)
        return queryset.filter(pk__in=awaiting.values("pk"))

    def filter_to_confirm(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """What agents filed for this person (owner, team) to confirm; `false`: the rest."""
        to_confirm = to_confirm_q(self.user)
        return queryset.filter(to_confirm) if value == "true" else queryset.exclude(to_confirm)

    def filter_break_glass(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(break_glass=value == "true")


class GrantFilter(UserFilterSet):
    agent = filters.CharFilter(field_name="agent__slug")
    capability = filters.CharFilter(field_name="capability__key")
    active = _flag("filter_active")
    tier = filters.ChoiceFilter(field_name="agent__tier", choices=Tier.choices)
    expiring_within_hours = filters.NumberFilter(
        method="filter_expiring", min_value=1, max_value=GRANT_EXPIRING_FILTER_MAX_HOURS
    )

    class Meta:
        model = Grant
        fields = ["agent", "capability", "active", "tier", "expiring_within_hours"]

    def filter_expiring(self, queryset: QuerySet, name: str, value) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(grant_expiring_within_q(int(value)))

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        active = grant_active_q()
        return queryset.filter(active) if value == "true" else queryset.exclude(active)
