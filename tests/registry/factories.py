import factory
from django.urls import reverse
from django.utils import timezone

from registry.models import Agent, Capability, PolicyRule, PolicyStatus, PolicyVersion, Team, Tool
from tests.portal.factories import UserFactory


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if extracted:
            self.members.add(*extracted)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    slug = factory.Sequence(lambda n: f"agent-{n}")
    name = factory.LazyAttribute(lambda a: a.slug.replace("-", " ").title())
    owner = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    tier = "sandbox"
    status = "active"
    vendor = "claude-code"
    workload_identity = factory.LazyAttribute(lambda a: f"spiffe://test.example/agents/{a.slug}")
    repositories = factory.LazyFunction(lambda: ["acme/app"])
    last_attested_at = factory.LazyFunction(timezone.now)


class ToolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tool
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tool{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())
    category = "code"


class CapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Capability
        django_get_or_create = ("key",)

    tool = factory.SubFactory(ToolFactory)
    action = factory.Sequence(lambda n: f"action{n}")
    key = factory.LazyAttribute(lambda c: f"{c.tool.slug}:{c.action}")
    high_risk = False


def capability(key: str, high_risk: bool = False) -> Capability:
    tool_slug, action = key.split(":")
    return CapabilityFactory(
        tool=ToolFactory(slug=tool_slug), action=action, key=key, high_risk=high_risk
    )


def publish_policy(rules: dict[str, dict[str, tuple[str, int | None]]], author) -> PolicyVersion:
    """Publish the next policy version with exactly these rules: {tier: {cap key: (effect, h)}}."""
    number = (
        PolicyVersion.objects.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = PolicyVersion.objects.create(
        number=number,
        status=PolicyStatus.PUBLISHED,
        created_by=author,
        published_by=author,
        published_at=timezone.now(),
    )
    for tier, tier_rules in rules.items():
        for key, (effect, hours) in tier_rules.items():
            high_risk = key in {"github:merge", "deploy:release", "vault:read_secret"}
            PolicyRule.objects.create(
                version=version,
                tier=tier,
                capability=capability(key, high_risk=high_risk),
                effect=effect,
                max_duration_hours=hours,
            )
    return version


def demo_policy(author) -> PolicyVersion:
    """The demo matrix (registry/demo.py POLICY_V1) as a published version."""
    from portal.demo.registry import POLICY_V1

    return publish_policy(POLICY_V1, author)


def draft_matrix(client) -> dict[str, str]:
    """The policy draft form's fields as the page renders them (what a browser posts back)."""
    form = client.get(reverse("registry:policy")).context["draft_form"]
    return {
        name: "" if form[name].value() is None else str(form[name].value()) for name in form.fields
    }
