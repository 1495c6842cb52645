"""List filters of the agent inventory, shared by the /agents/ page and GET /api/v1/agents/."""

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from kernel.sorting import SortSpec
from registry.models import Agent, AgentStatus, Tier
from registry.rules import attestation_overdue_q, orphaned_q

# The sortable columns of the /agents/ page (kernel.sorting).
AGENT_SORT = SortSpec(
    {
        "agent": ("slug",),
        "team": ("team__slug",),
        "owner": ("owner__username",),
        "tier": ("tier",),
        "status": ("status",),
        "vendor": ("vendor",),
        "attested": ("last_attested_at",),
    },
    default="agent",
)


def search_q(text: str) -> Q:
    """Free-text search over the fields people remember an agent by."""
    return (
        Q(slug__icontains=text)
        | Q(name__icontains=text)
        | Q(description__icontains=text)
        | Q(vendor__icontains=text)
        | Q(workload_identity__icontains=text)
    )


class AgentFilter(filters.FilterSet):
    tier = filters.ChoiceFilter(choices=Tier.choices)
    status = filters.ChoiceFilter(choices=AgentStatus.choices)
    team = filters.CharFilter(field_name="team__slug")
    owner = filters.CharFilter(field_name="owner__username")
    search = filters.CharFilter(method="filter_search")
    # `true`: the owner left (registry.rules); `false`: the rest. Anything else is a 400.
    orphaned = filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_orphaned"
    )

    # `true`: not retired and not attested within ATTESTATION_MAX_AGE (its owner re-attests).
    stale = filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_stale"
    )

    class Meta:
        model = Agent
        fields = ["tier", "status", "team", "owner", "search", "orphaned", "stale"]

    def filter_search(self, queryset: QuerySet[Agent], name: str, value: str) -> QuerySet[Agent]:
        return queryset.filter(search_q(value))

    def filter_orphaned(self, queryset: QuerySet[Agent], name: str, value: str) -> QuerySet[Agent]:
        return queryset.filter(orphaned_q()) if value == "true" else queryset.exclude(orphaned_q())

    def filter_stale(self, queryset: QuerySet[Agent], name: str, value: str) -> QuerySet[Agent]:
        overdue = attestation_overdue_q()
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)
