"""Grants get pages (issue #15, point 9) and are revoked through a confirmation with a reason
(point 3), from their page, the request page or the agent page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access import services
from access.models import AccessRequest, Grant
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, other_engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    agent = AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox")
    request = services.access_request_submit(
        actor=engineer,
        agent=agent,
        capability=capability("github:write"),
        justification="Fix the docs build.",
        duration_hours=8,
        scope="acme/docs",
        ticket="DOC-7",
    )
    return {"agent": agent, "request": request, "grant": request.grant}


def test_the_grant_page_says_what_for_whom_from_which_request_and_time_left(
    client, engineer, world
):
    grant = world["grant"]
    client.force_login(engineer)
    page = client.get(f"/grants/{grant.pk}/").content.decode()
    assert f"Grant #{grant.pk}: <code>github:write</code> for docs-bot" in page
    assert 'data-testid="grant-state">active<' in page
    assert "<code>acme/docs</code>" in page
    assert "owned by eve, team <code>payments</code>" in page
    assert f'<a href="/requests/{world["request"].pk}/">request #{world["request"].pk}</a>' in page
    assert "ticket DOC-7" in page
    assert "Fix the docs build." in page
    assert "Under 24 hours:</strong> 7" in page
    assert "/revoke/" not in page  # engineers do not revoke


@pytest.mark.parametrize(
    ("role", "page_status", "revoke_offered", "revoke_status"),
    [
        ("engineer", 200, False, 403),  # the owner reads it
        ("other_engineer", 404, False, 403),  # another team: as if it did not exist
        ("auditor", 200, False, 403),  # reads everything, changes nothing
        ("security", 200, True, 200),
        ("gateway", 403, False, 403),
    ],
)
def test_grant_page_per_role(
    client, role_users, other_engineer, world, role, page_status, revoke_offered, revoke_status
):
    user = other_engineer if role == "other_engineer" else role_users[role]
    grant = world["grant"]
    client.force_login(user)
    response = client.get(f"/grants/{grant.pk}/")
    assert response.status_code == page_status
    if page_status == 200:
        assert (f"/grants/{grant.pk}/revoke/" in response.content.decode()) is revoke_offered
    assert client.get(f"/grants/{grant.pk}/revoke/").status_code == revoke_status
    refused = client.post(f"/grants/{grant.pk}/revoke/", {"reason": "try"})
    assert refused.status_code == (302 if role == "security" else 403)
    grant.refresh_from_db()
    assert (grant.revoked_at is not None) is (role == "security")


def test_grant_list_per_role(client, role_users, other_engineer, world):
    grant = world["grant"]
    for user, sees in [
        (role_users["engineer"], True),
        (other_engineer, False),
        (role_users["auditor"], True),
        (role_users["security"], True),
    ]:
        client.force_login(user)
        page = client.get("/grants/").content.decode()
        assert (f'data-grant="{grant.pk}"' in page) is sees
    client.force_login(role_users["gateway"])
    assert client.get("/grants/").status_code == 403


def test_revoking_asks_for_confirmation_and_a_reason_and_works_without_javascript(
    client, security, world
):
    grant = world["grant"]
    client.force_login(security)
    page = client.get("/agents/docs-bot/").content.decode()
    # The agent page offers Revoke as a link to the confirmation page, which a script turns
    # into a native dialog holding the same form.
    link = f'href="/grants/{grant.pk}/revoke/?next=%2Fagents%2Fdocs-bot%2F"'
    assert link in page
    assert f'<dialog id="confirm-access-grant-revoke-{grant.pk}"' in page
    assert "/static/js/confirm-dialog.js" in page
    confirm = client.get(f"/grants/{grant.pk}/revoke/?next=/agents/docs-bot/").content.decode()
    assert f"Revoke grant #{grant.pk}: github:write for docs-bot?" in confirm
    assert "Decisions deny this access from the moment you confirm." in confirm
    reason = f'id="confirm-access-grant-revoke-{grant.pk}-reason" name="reason" rows="3" required'
    assert reason in confirm
    assert '<a href="/agents/docs-bot/" data-close>Keep the grant</a>' in confirm
    # No reason: the page again, the error beside the field, nothing revoked.
    empty = client.post(
        f"/grants/{grant.pk}/revoke/", {"reason": "  ", "next": "/agents/docs-bot/"}
    )
    assert empty.status_code == 400
    assert 'role="alert"' in empty.content.decode()
    assert "Say why the grant is revoked" in empty.content.decode()
    assert Grant.objects.get().revoked_at is None
    done = client.post(
        f"/grants/{grant.pk}/revoke/",
        {"reason": "The docs build is fixed.", "next": "/agents/docs-bot/"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == "/agents/docs-bot/"
    assert f"Grant #{grant.pk} revoked" in done.content.decode()
    assert "No active grants." in done.content.decode()
    grant.refresh_from_db()
    assert (grant.revoked_by, grant.revoke_reason) == (security, "The docs build is fixed.")
    page = client.get(f"/grants/{grant.pk}/").content.decode()
    assert 'data-testid="grant-state">revoked<' in page
    assert "by sec1" in page
    assert "The docs build is fixed." in page
    # Nothing left to revoke: said before anyone confirms.
    again = client.get(f"/grants/{grant.pk}/revoke/")
    assert again.status_code == 400
    assert "revoked: there is nothing to revoke" in again.content.decode()


def test_a_foreign_next_is_ignored(client, security, world):
    grant = world["grant"]
    client.force_login(security)
    page = client.get(f"/grants/{grant.pk}/revoke/?next=https://evil.example/").content.decode()
    assert "evil.example" not in page
    done = client.post(
        f"/grants/{grant.pk}/revoke/", {"reason": "r", "next": "https://evil.example/"}
    )
    assert done["Location"] == f"/grants/{grant.pk}/"


@pytest.mark.parametrize("bare", ["NaN", "-1", "9999-12-31T23:59:59", "admin:index"])
def test_a_next_that_is_not_a_path_is_ignored(client, security, world, bare):
    """A bare word is no page: the step is done and the user lands on the grant's page (it
    was taken for a URL name, failed to reverse, and answered 500)."""
    grant = world["grant"]
    client.force_login(security)
    done = client.post(f"/grants/{grant.pk}/revoke/", {"reason": "r", "next": bare})
    assert done.status_code == 302
    assert done["Location"] == f"/grants/{grant.pk}/"
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_unknown_and_forged_grants_are_404(client, security):
    client.force_login(security)
    for url in ("/grants/999/", "/grants/999/revoke/"):
        assert client.get(url).status_code == 404


def test_grant_list_filters_sorts_and_pages_keep_them(client, security, engineer, world):
    agent, write = world["agent"], capability("github:write")
    now = timezone.now()
    for hours in (0.5, 30, 5):  # urgent, later, soon
        Grant.objects.create(
            agent=agent, capability=write, starts_at=now, expires_at=now + timedelta(hours=hours)
        )
    Grant.objects.create(
        agent=agent, capability=write, starts_at=now - timedelta(days=2), expires_at=now
    )
    client.force_login(security)
    page = client.get("/grants/").content.decode()
    assert '<option value="true" selected>Active now</option>' in page  # the default, shown
    assert "4 grants" in page
    urgencies = [part.split('"')[0] for part in page.split('data-urgency="')[1:]]
    assert urgencies == ["urgent", "soon", "soon", "later"]  # soonest ending first
    assert "Under 1 hour:</strong> 29" in page
    ended = client.get("/grants/?active=false").content.decode()
    assert "1 grant<" in ended
    assert 'data-testid="grant-state">expired<' in ended
    everything = client.get("/grants/?active=&sort=-expires").content.decode()
    assert "5 grants" in everything
    assert everything.index('data-urgency="later"') < everything.index('data-urgency="urgent"')
    assert 'aria-sort="descending"' in everything
    # The header links keep the filters and turn the order around.
    assert 'href="?active=&amp;sort=expires"' in everything
    bad = client.get("/grants/?agent=ghost&sort=secret").content.decode()
    assert "ghost is not one of the available choices" in bad
    assert "cannot be sorted by “secret”" in bad


def test_grant_list_query_count_is_constant(client, security, world, django_assert_num_queries):
    agent, write = world["agent"], capability("github:write")
    client.force_login(security)
    client.get("/grants/")
    # session, user, roles, the agents and capabilities to filter by, count, page
    with django_assert_num_queries(7):
        client.get("/grants/")
    now = timezone.now()
    for i in range(30):
        Grant.objects.create(
            agent=agent,
            capability=write,
            scope=f"acme/{i}",
            starts_at=now,
            expires_at=now + timedelta(hours=i + 1),
            request=AccessRequest.objects.create(
                agent=agent,
                capability=write,
                justification="j",
                duration_hours=1,
                requested_by=make_user(f"r{i}", "engineer"),
                effect="jit",
                policy_version=1,
                status="approved",
                required_approvals=0,
            ),
        )
    with django_assert_num_queries(7):
        response = client.get("/grants/")
    assert len(response.context["page"].object_list) == 25
