"""The draft editor: the whole matrix in one form, errors on their cells, nothing lost."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from registry.models import PolicyRule, PolicyVersion
from registry.services import policy as services
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy, draft_matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    demo_policy(security)
    return services.policy_draft_create(actor=security)


def rules(version) -> dict[tuple[str, str], tuple[str, int | None]]:
    return {
        (tier, key): (effect, hours)
        for tier, key, effect, hours in PolicyRule.objects.filter(version=version).values_list(
            "tier", "capability__key", "effect", "max_duration_hours"
        )
    }


def test_saving_the_matrix_changes_exactly_the_edited_cells(client, security, draft):
    client.force_login(security)
    before = rules(draft)
    data = draft_matrix(client)
    data["effect:sandbox:github:write"] = "approval"
    data["hours:sandbox:github:write"] = "2"
    data["effect:sandbox:jira:write"] = ""  # removed: deny
    response = client.post(reverse("registry:policy-draft-save", args=[draft.number]), data)
    assert response.status_code == 302
    after = rules(draft)
    assert after[("sandbox", "github:write")] == ("approval", 2)
    assert ("sandbox", "jira:write") not in after
    unchanged = {key for key in before if key not in {("sandbox", "github:write")}}
    assert {key: after.get(key) for key in unchanged - {("sandbox", "jira:write")}} == {
        key: before[key] for key in unchanged - {("sandbox", "jira:write")}
    }
    page = client.get(reverse("registry:policy")).content.decode()
    assert "Draft v2 saved: 2 rules changed." in page
    edits = LogEntry.objects.filter(actor=security, content_type__model="policyrule")
    assert edits.count() == 2


@pytest.mark.parametrize(
    ("effect", "hours", "message"),
    [
        ("jit", "", "A jit rule needs a maximum duration (1 to 168 hours)."),
        ("approval", "500", "must be between 1 and 168 hours (no standing access)."),
        ("allow", "4", "An allow rule has no maximum duration: leave it empty."),
        ("", "4", "No rule has no maximum: pick an effect."),
        ("jit", "soon", "Give the maximum as a whole number of hours."),
        # An effect not on offer (a forged post): said on its cell, not only "fix the cells".
        ("NaN", "", "Pick an effect from the list (allow, jit, approval, deny) or no rule."),
    ],
)
def test_a_bad_cell_saves_nothing_keeps_what_was_typed_and_says_why_on_it(
    client, security, draft, effect, hours, message
):
    client.force_login(security)
    before = rules(draft)
    data = draft_matrix(client)
    data["effect:internal:github:read"] = effect
    data["hours:internal:github:read"] = hours
    data["effect:sandbox:github:write"] = "approval"  # a good edit, kept on the page
    data["hours:sandbox:github:write"] = "3"
    response = client.post(reverse("registry:policy-draft-save", args=[draft.number]), data)
    assert response.status_code == 400
    assert rules(draft) == before
    page = response.content.decode()
    assert "Nothing was saved: fix the cells marked below." in page
    cell = page.split('data-tier="internal" data-capability="github:read" class="cell-error"')[1]
    assert message in cell.split("</td>")[0]
    form = response.context["draft_form"]
    assert form["hours:sandbox:github:write"].value() == "3"


@pytest.mark.parametrize("role", ["engineer", "auditor"])
def test_only_security_saves_or_discards_the_draft(client, role_users, draft, role):
    client.force_login(role_users[role])
    save = reverse("registry:policy-draft-save", args=[draft.number])
    assert client.post(save, {"effect:sandbox:github:read": "deny"}).status_code == 403
    assert client.get(reverse("registry:policy-discard", args=[draft.number])).status_code == 403
    assert PolicyVersion.objects.filter(number=draft.number).exists()


def test_discarding_asks_first_and_says_what_is_lost(client, security, draft):
    client.force_login(security)
    services.policy_rule_remove(
        actor=security,
        version=draft,
        tier="sandbox",
        capability=draft.rules.get(tier="sandbox", capability__key="jira:write").capability,
    )
    url = reverse("registry:policy-discard", args=[draft.number])
    confirm = client.get(url).content.decode()
    assert "Its 1 rule change is lost (against the published version" in confirm
    assert PolicyVersion.objects.filter(number=draft.number).exists()
    response = client.post(url, follow=True)
    assert "Draft v2 discarded." in response.content.decode()
    assert not PolicyVersion.objects.filter(number=draft.number).exists()
