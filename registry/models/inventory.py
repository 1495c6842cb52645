"""Who runs which agents, and which tools and capabilities exist."""

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.urls import reverse

from kernel.validation import SLUG_MAX_LENGTH

# An agent's description: a few paragraphs, not a document (form, API and model alike).
AGENT_DESCRIPTION_MAX_LENGTH = 4000
CAPABILITY_KEY_MAX_LENGTH = 130  # "tool:action": two slugs and the colon fit, with one to spare

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$",
    "Use lowercase letters, digits, and single '-' or '_' between them (e.g. payments-fixer).",
)


class Tier(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    INTERNAL = "internal", "Internal"
    PRODUCTION = "production", "Production"


class AgentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    RETIRED = "retired", "Retired"


class ToolCategory(models.TextChoices):
    CODE = "code", "Code"
    TICKETING = "ticketing", "Ticketing"
    CI_CD = "ci_cd", "CI/CD"
    SECRETS = "secrets", "Secrets"
    CLOUD = "cloud", "Cloud"
    INTERNAL_API = "internal_api", "Internal API"


class Team(models.Model):
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    business_unit = models.CharField(max_length=200, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(
        blank=True,
        max_length=AGENT_DESCRIPTION_MAX_LENGTH,
        validators=[MaxLengthValidator(AGENT_DESCRIPTION_MAX_LENGTH)],
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_agents"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="agents")
    tier = models.CharField(max_length=16, choices=Tier.choices)
    status = models.CharField(
        max_length=16, choices=AgentStatus.choices, default=AgentStatus.ACTIVE
    )
    vendor = models.CharField(
        max_length=200, blank=True, help_text="Vendor/model, e.g. claude-code"
    )
    workload_identity = models.CharField(
        max_length=255, unique=True, help_text="SPIFFE ID or service principal, unique per agent"
    )
    repositories = models.JSONField(default=list, blank=True)
    last_attested_at = models.DateTimeField(null=True, blank=True)
    # Why the status last changed (suspended, reactivated, retired), by whom and when.
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        indexes = [models.Index(fields=["tier", "status"])]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("registry:agent-detail", kwargs={"slug": self.slug})


class Tool(models.Model):
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=ToolCategory.choices)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Capability(models.Model):
    """`tool:action`. `key` repeats it so a capability is found by one indexed lookup."""

    tool = models.ForeignKey(Tool, on_delete=models.PROTECT, related_name="capabilities")
    action = models.SlugField(max_length=SLUG_MAX_LENGTH, validators=[slug_validator])
    key = models.CharField(max_length=CAPABILITY_KEY_MAX_LENGTH, unique=True, editable=False)
    high_risk = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "capabilities"
        constraints = [
            models.UniqueConstraint(fields=["tool", "action"], name="capability_unique_tool_action")
        ]

    def __str__(self) -> str:
        return self.key


auditlog.register(Team, m2m_fields={"members"})
auditlog.register(Agent)
auditlog.register(Tool)
auditlog.register(Capability)
