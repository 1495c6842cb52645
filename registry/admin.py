from django.contrib import admin

from kernel.admin_mixins import ReadOnlyWorkflowAdmin
from registry.models import Agent, Capability, PolicyRule, PolicyVersion, Team, Tool


@admin.register(Team)
class TeamAdmin(ReadOnlyWorkflowAdmin):
    list_display = ["slug", "name", "business_unit"]
    search_fields = ["slug", "name"]


@admin.register(Agent)
class AgentAdmin(ReadOnlyWorkflowAdmin):
    list_display = ["slug", "name", "owner", "team", "tier", "status", "last_attested_at"]
    list_filter = ["tier", "status", "team"]
    search_fields = ["slug", "name", "workload_identity"]
    list_select_related = ["owner", "team"]


class CapabilityInline(admin.TabularInline):
    model = Capability
    fields = ("key", "high_risk", "description")
    readonly_fields = fields
    extra = 0


@admin.register(Tool)
class ToolAdmin(ReadOnlyWorkflowAdmin):
    list_display = ["slug", "name", "category"]
    inlines = [CapabilityInline]


class PolicyRuleInline(admin.TabularInline):
    model = PolicyRule
    fields = ("tier", "capability", "effect", "max_duration_hours")
    readonly_fields = fields
    extra = 0


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyWorkflowAdmin):
    list_display = ["number", "status", "created_by", "published_by", "published_at"]
    inlines = [PolicyRuleInline]
