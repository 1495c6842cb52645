"""What people write about a policy version (its notes) is limited, in the page's form and
the API alike (POLICY_TEXT_MAX_LENGTH); a refusal opens no draft and says why where it is seen.
Files and the command line: tests/registry/test_policy_file.py, test_policy_command.py."""

import pytest
from django.urls import reverse

from registry.models import PolicyVersion
from registry.models.policy import POLICY_TEXT_MAX_LENGTH
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    demo_policy(security)
    return {"team": team, "agent": agent}


def test_notes_over_the_limit_open_no_draft_and_say_why_beside_the_field(client, security, world):
    client.force_login(security)
    long_notes = "why " * (POLICY_TEXT_MAX_LENGTH // 4) + "!"
    refused = client.post(reverse("registry:policy-draft-open"), {"notes": long_notes})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert f"Ensure this value has at most {POLICY_TEXT_MAX_LENGTH} characters" in page
    assert f'name="notes" value="{long_notes}"' in page  # what was typed is kept
    # said at the top too (the field may be far below the fold), and the response opens at it
    assert "No draft was opened: fix the notes below." in page
    assert f'action="{reverse("registry:policy-draft-open")}#draft"' in page
    assert not PolicyVersion.objects.filter(status="draft").exists()

    at_limit = "n" * POLICY_TEXT_MAX_LENGTH
    done = client.post(reverse("registry:policy-draft-open"), {"notes": f"  {at_limit} "})
    assert done.status_code == 302
    assert PolicyVersion.objects.get(status="draft").notes == at_limit


def test_notes_over_the_limit_while_a_draft_is_open_say_the_draft_is_open(client, security, world):
    """Another security member opened a draft meanwhile: that is what to say."""
    client.force_login(security)
    client.post(reverse("registry:policy-draft-open"), {"notes": "first"})
    long_notes = "x" * (POLICY_TEXT_MAX_LENGTH + 1)
    refused = client.post(reverse("registry:policy-draft-open"), {"notes": long_notes})
    assert refused.status_code == 400
    assert "Draft v2 is already open: edit or publish it, or discard it first." in (
        refused.content.decode()
    )
    assert PolicyVersion.objects.get(status="draft").notes == "first"


def test_draft_notes_over_the_limit_are_refused_and_open_no_draft(api, security, world):
    client = api.as_user(security)
    notes = {"notes": "x" * (POLICY_TEXT_MAX_LENGTH + 1)}
    refused = client.post("/api/v1/policy/versions/", notes, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["notes"] == [
        f"Ensure this field has no more than {POLICY_TEXT_MAX_LENGTH} characters."
    ]
    assert not PolicyVersion.objects.filter(status="draft").exists()
    at_limit = {"notes": "n" * POLICY_TEXT_MAX_LENGTH}
    assert client.post("/api/v1/policy/versions/", at_limit, format="json").status_code == 201
