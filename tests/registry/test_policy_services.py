import pytest
from auditlog.models import LogEntry

from kernel.errors import ApplicationError, Forbidden
from registry.models import PolicyRule, PolicyStatus, PolicyVersion
from registry.selectors.policy import policy_diff, policy_latest_published, policy_matrix
from registry.services import policy as services
from tests.registry.factories import capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def v1(security):
    return demo_policy(security)


def test_draft_copies_the_published_rules_and_gets_the_next_number(security, v1):
    draft = services.policy_draft_create(actor=security, notes="tighten merges")
    assert draft.number == 2
    assert draft.status == PolicyStatus.DRAFT
    assert draft.based_on == v1
    assert draft.rules.count() == v1.rules.count() == 18
    assert policy_latest_published() == v1


def test_only_one_draft_at_a_time(security, v1):
    services.policy_draft_create(actor=security)
    with pytest.raises(ApplicationError, match="Draft v2 is already open"):
        services.policy_draft_create(actor=security)
    assert PolicyVersion.objects.count() == 2


@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway"])
def test_only_security_authors_policy(role_users, v1, role):
    with pytest.raises(Forbidden, match="Only security"):
        services.policy_draft_create(actor=role_users[role])
    assert PolicyVersion.objects.count() == 1


def test_publish_makes_the_draft_current_and_records_who(security, v1):
    draft = services.policy_draft_create(actor=security)
    merge = capability("github:merge", high_risk=True)
    services.policy_rule_set(
        actor=security, version=draft, tier="sandbox", capability=merge, effect="deny"
    )
    # Denying in sandbox what production still allows makes production the easier tier: a
    # loosening that a publish answers with a reason, kept on the version.
    services.policy_publish(actor=security, version=draft, reason="Sandbox stops merging.")
    current = policy_latest_published()
    assert current.number == 2
    assert current.published_by == security
    assert current.publish_reason == "Sandbox stops merging."
    assert [w["kind"] for w in current.publish_warnings] == ["production_less_strict"]
    assert current.rules.get(tier="sandbox", capability=merge).effect == "deny"
    assert v1.rules.get(tier="sandbox", capability=merge).effect == "approval"  # untouched
    assert LogEntry.objects.get_for_object(current).filter(actor=security).exists()


def test_published_versions_are_immutable(security, v1):
    read = capability("github:read")
    with pytest.raises(ApplicationError, match="published and immutable"):
        services.policy_rule_set(
            actor=security, version=v1, tier="sandbox", capability=read, effect="deny"
        )
    with pytest.raises(ApplicationError, match="published and immutable"):
        services.policy_publish(actor=security, version=v1)
    with pytest.raises(ApplicationError, match="published and immutable"):
        services.policy_draft_discard(actor=security, version=v1)
    assert v1.rules.get(tier="sandbox", capability=read).effect == "allow"


@pytest.mark.parametrize(
    ("effect", "hours", "message"),
    [
        ("jit", None, "needs a maximum duration"),
        ("approval", 0, "between 1 and 168"),
        ("jit", 10_000, "between 1 and 168"),
        ("allow", 8, "has no maximum duration"),
        ("sometimes", None, "Unknown effect 'sometimes'"),
    ],
)
def test_rule_shape_is_validated(security, v1, effect, hours, message):
    draft = services.policy_draft_create(actor=security)
    before = list(draft.rules.values_list("tier", "capability_id", "effect", "max_duration_hours"))
    with pytest.raises(ApplicationError, match=message):
        services.policy_rule_set(
            actor=security,
            version=draft,
            tier="sandbox",
            capability=capability("github:read"),
            effect=effect,
            max_duration_hours=hours,
        )
    after = list(draft.rules.values_list("tier", "capability_id", "effect", "max_duration_hours"))
    assert after == before


def test_removing_a_rule_means_deny_and_shows_in_the_diff(security, v1):
    draft = services.policy_draft_create(actor=security)
    read = capability("github:read")
    services.policy_rule_remove(actor=security, version=draft, tier="sandbox", capability=read)
    services.policy_rule_set(
        actor=security,
        version=draft,
        tier="production",
        capability=capability("jira:write"),
        effect="approval",
        max_duration_hours=4,
    )
    changes = policy_diff(draft, v1)
    assert [(c.tier, c.capability, c.change) for c in changes] == [
        ("sandbox", "github:read", "removed"),
        ("production", "jira:write", "changed"),
    ]
    assert changes[1].before == {"effect": "jit", "max_duration_hours": 24}
    assert changes[1].after == {"effect": "approval", "max_duration_hours": 4}
    row = next(r for r in policy_matrix(draft) if r["capability"].key == "github:read")
    assert row["cells"][0] == {"tier": "sandbox", "rule": None}


def test_discarding_a_draft_leaves_published_versions(security, v1):
    draft = services.policy_draft_create(actor=security)
    services.policy_draft_discard(actor=security, version=draft)
    assert list(PolicyVersion.objects.values_list("number", flat=True)) == [1]
    assert PolicyRule.objects.count() == 18
