"""Exception pages per role, forms, the approval-queue section, agent and dashboard panels."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from exceptions.models import ExceptionApproval, PolicyException
from exceptions.sections import approval_queue_section
from tests.exceptions.conftest import ROLES, in_days
from tests.exceptions.factories import ExceptionFactory, active_exception
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    if user is not None:
        client.force_login(user)
    return client


def local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def form_data(**overrides):
    return {
        "title": "Read the signing key",
        "agent": "pay-bot",
        "capability": "vault:read_secret",
        "risk": "high",
        "expires_at": local(in_days(10)),
        "justification": "Key rotation",
        "compensating_controls": "Alert on every read",
        **overrides,
    }


PAGES = {
    "list": (
        "/exceptions/",
        {"engineer", "other_engineer", "security", "second_security", "auditor"},
    ),
    "new": ("/exceptions/new/", {"engineer", "other_engineer", "security", "second_security"}),
    "detail": ("/exceptions/{pk}/", {"engineer", "security", "second_security", "auditor"}),
    "renew": ("/exceptions/{pk}/renew/", {"engineer"}),
}


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_pages_per_role(client, users, world, page, role):
    exception = active_exception(agent=world["agent"], requested_by=users["engineer"])
    url, allowed = PAGES[page]
    response = login(client, users[role]).get(url.format(pk=exception.pk))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role in allowed:
        assert response.status_code == 200
    else:
        # Another engineer's exception does not exist for them; wrong roles are refused.
        hidden = role == "other_engineer" and page in ("detail", "renew")
        assert response.status_code == (404 if hidden else 403)


POSTS = {
    "approve": ({"comment": "ok"}, "pending"),
    "reject": ({"comment": "no"}, "pending"),
    "revoke": ({"reason": "leaked"}, "active"),
}


@pytest.mark.parametrize("action", list(POSTS))
@pytest.mark.parametrize("role", ROLES)
def test_decisions_per_role(client, users, world, action, role):
    data, status = POSTS[action]
    factory = active_exception if status == "active" else ExceptionFactory
    exception = factory(
        agent=world["agent"], requested_by=users["engineer"], risk="low", capability=world["jira"]
    )
    response = login(client, users[role]).post(f"/exceptions/{exception.pk}/{action}/", data)
    exception.refresh_from_db()
    if role in ("security", "second_security"):
        assert response.status_code == 302
        assert exception.status != status
    else:
        # Decisions are gated by role before the lookup: the same 403 for any id.
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert exception.status == status


def test_filing_through_the_form_explains_limits_and_shows_refusals(client, engineer, world):
    client.force_login(engineer)
    page = client.get(
        "/exceptions/new/?agent=pay-bot&capability=vault:read_secret"
    ).content.decode()
    assert '"high": 30' in page  # the limits the hint script reads
    assert re.search(r'data-risk="critical" data-approvals="2"><td>critical</td><td>14 days', page)
    assert 'data-risk="low" data-approvals="1"><td>low</td>' in page  # the hint reads these
    assert 'value="pay-bot" selected' in page
    assert 'value="other-bot"' not in page  # only agents I may ask for

    too_long = client.post("/exceptions/new/", form_data(expires_at=local(in_days(40))))
    assert too_long.status_code == 400
    assert "A high-risk exception lasts at most 30 days" in too_long.content.decode()
    no_controls = client.post("/exceptions/new/", form_data(compensating_controls=""))
    assert "needs compensating controls" in no_controls.content.decode()
    bad_risk = client.post("/exceptions/new/", form_data(risk="extreme"))
    assert "Pick a risk: low, medium, high or critical." in bad_risk.content.decode()
    assert not PolicyException.objects.exists()

    done = client.post("/exceptions/new/", form_data(), follow=True)
    exception = PolicyException.objects.get()
    assert done.redirect_chain[-1][0] == f"/exceptions/{exception.pk}/"
    assert "needs 2 security approvals." in done.content.decode()
    assert exception.requested_by == engineer


def test_a_forged_agent_in_the_form_is_refused(client, engineer, world):
    client.force_login(engineer)
    response = client.post("/exceptions/new/", form_data(agent="other-bot"))
    assert "Pick one of the agents listed" in response.content.decode()
    assert not PolicyException.objects.exists()


def test_detail_offers_decisions_only_to_who_may_take_them(client, engineer, security, world):
    exception = ExceptionFactory(agent=world["agent"], requested_by=engineer, risk="high")
    client.force_login(engineer)
    page = client.get(exception.get_absolute_url()).content.decode()
    assert f"/exceptions/{exception.pk}/approve/" not in page
    assert f"/exceptions/{exception.pk}/reject/" not in page
    client.force_login(security)
    page = client.get(exception.get_absolute_url()).content.decode()
    assert f"/exceptions/{exception.pk}/approve/" in page
    assert f"/exceptions/{exception.pk}/reject/" in page
    client.post(f"/exceptions/{exception.pk}/approve/", {"comment": "fine"})
    page = client.get(exception.get_absolute_url()).content.decode()
    assert "You approved; waiting for a second security approver." in page
    assert "sec1 approved" in page
    assert "History" in page


def test_owner_in_security_sees_why_they_cannot_approve(client, world):
    owner = make_user("secowner", "security")
    agent = AgentFactory(slug="sec-bot", owner=owner)
    exception = ExceptionFactory(agent=agent, requested_by=make_user("sam2", "security"))
    client.force_login(owner)
    page = client.get(exception.get_absolute_url()).content.decode()
    assert "You own this agent" in page
    response = client.post(f"/exceptions/{exception.pk}/approve/")
    assert response.status_code == 403
    assert "You own this agent" in response.content.decode()


def test_reject_without_a_comment_shows_why_and_changes_nothing(client, security, world):
    exception = ExceptionFactory(agent=world["agent"])
    client.force_login(security)
    response = client.post(f"/exceptions/{exception.pk}/reject/", {"comment": " "})
    assert response.status_code == 400
    assert "Say why the exception is rejected" in response.content.decode()
    exception.refresh_from_db()
    assert exception.status == "pending"


def test_revoked_and_expired_stay_readable(client, auditor, security, world):
    revoked = active_exception(agent=world["agent"], risk="low")
    client.force_login(security)
    client.post(f"/exceptions/{revoked.pk}/revoke/", {"reason": "Key leaked"})
    expired = ExceptionFactory(
        agent=world["agent"], status="expired", starts_at=in_days(-20), expires_at=in_days(-1)
    )
    client.force_login(auditor)
    page = client.get(revoked.get_absolute_url()).content.decode()
    assert "Key leaked" in page
    assert client.get(expired.get_absolute_url()).status_code == 200


def test_renew_page_files_a_linked_renewal(client, engineer, world):
    old = active_exception(
        agent=world["agent"],
        requested_by=engineer,
        risk="low",
        capability=world["jira"],  # not high-risk: low risk, 180 days at most
        expires_at=in_days(3),
    )
    client.force_login(engineer)
    assert "Renew" in client.get(old.get_absolute_url()).content.decode()
    bad = client.post(f"/exceptions/{old.pk}/renew/", {"justification": "x"})
    assert "Say when the renewal ends." in bad.content.decode()
    too_long = client.post(
        f"/exceptions/{old.pk}/renew/",
        {"expires_at": local(in_days(200)), "justification": "x"},
    )
    assert "at most 180 days" in too_long.content.decode()
    done = client.post(
        f"/exceptions/{old.pk}/renew/",
        {"expires_at": local(in_days(60)), "justification": "Another quarter"},
        follow=True,
    )
    renewal = PolicyException.objects.get(renews=old)
    assert done.redirect_chain[-1][0] == renewal.get_absolute_url()
    assert f'renews <a href="/exceptions/{old.pk}/"' in done.content.decode()
    old_page = client.get(old.get_absolute_url()).content.decode()
    assert f'Renewed by <a href="/exceptions/{renewal.pk}/"' in old_page


def test_list_filters_and_highlights_what_expires_soon(client, security, world):
    soon = active_exception(agent=world["agent"], expires_at=in_days(2))
    later = active_exception(agent=world["other_agent"], expires_at=in_days(60))
    client.force_login(security)
    page = client.get("/exceptions/").content.decode()
    assert f'<tr data-exception="{soon.pk}" class="expiring-soon">' in page
    assert f'<tr data-exception="{later.pk}">' in page
    filtered = client.get("/exceptions/?agent=other-bot").content.decode()
    assert f'data-exception="{later.pk}"' in filtered
    assert f'data-exception="{soon.pk}"' not in filtered
    expiring = client.get("/exceptions/?expiring_within_days=7").content.decode()
    assert f'data-exception="{later.pk}"' not in expiring
    bad = client.get("/exceptions/?risk=extreme")
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()


@pytest.mark.parametrize("rows", [2, 40])
def test_list_page_query_count_is_constant(
    client, security, world, rows, django_assert_num_queries
):
    for i in range(rows):
        exception = ExceptionFactory(agent=world["agent"], status="active", risk="high")
        ExceptionApproval.objects.create(
            exception=exception, approver=make_user(f"a{i}", "security")
        )
    client.force_login(security)
    client.get("/exceptions/")
    # session, user, roles, the agents and capabilities to filter by, count, page, approvals,
    # controls
    with django_assert_num_queries(9):
        assert client.get("/exceptions/").status_code == 200


def test_approval_queue_section(rf: RequestFactory, engineer, security, second_security, world):
    assert approval_queue_section(engineer) is None
    old = ExceptionFactory(agent=world["agent"], requested_by=engineer, risk="high")
    new = ExceptionFactory(agent=world["other_agent"], risk="low", capability=world["jira"])
    mine = ExceptionFactory(agent=world["agent"], requested_by=security, capability=world["merge"])
    own_agent = AgentFactory(slug="sec-bot", owner=security)
    for_my_agent = ExceptionFactory(agent=own_agent)
    ExceptionApproval.objects.create(exception=new, approver=second_security)
    active_exception(agent=world["agent"], capability=world["jira"])

    section = approval_queue_section(security)
    assert section["key"] == "exceptions"
    assert section["template"] == "approvals/_queue_section.html"
    assert [e.pk for e in section["items"]] == [old.pk, new.pk]  # oldest first
    # Not what they approved already; what another security member filed or owns is theirs.
    assert [e.pk for e in approval_queue_section(second_security)["items"]] == [
        old.pk,
        mine.pk,
        for_my_agent.pk,
    ]

    request = rf.get("/approvals/")
    request.user = security
    html = render_to_string(section["template"], {"section": section}, request=request)
    assert f'action="/exceptions/{old.pk}/approve/"' in html
    assert f'action="/exceptions/{old.pk}/reject/"' in html
    assert 'name="comment" required' in html
    assert 'name="next" value="/approvals/"' in html


def test_agent_page_lists_exceptions_in_force_and_awaiting_approval(
    client, engineer, security, world
):
    """In force, and (whoever filed one looks for it there, as for a pending request) awaiting
    approval, each saying which; nothing over, revoked or withdrawn."""
    shown = active_exception(agent=world["agent"], title="Shown one")
    revoked = active_exception(agent=world["agent"], capability=world["merge"], title="Gone one")
    revoked.status, revoked.revoked_at = "revoked", in_days(-0.1)
    revoked.save()
    waiting = ExceptionFactory(
        agent=world["agent"], capability=world["jira"], title="Waiting one", required_approvals=2
    )
    ExceptionFactory(agent=world["agent"], title="Withdrawn one", status="withdrawn")
    client.force_login(engineer)
    page = client.get("/agents/pay-bot/").content.decode()
    section = page[page.index('data-section="exceptions"') :]
    assert "Shown one" in section
    assert "Gone one" not in section
    assert "Withdrawn one" not in section
    row = section[section.index(f'data-exception="{waiting.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="exception-status">awaiting approval, 0 / 2</span>' in row
    assert "Request an exception for this agent" in section
    assert f'data-exception="{shown.pk}"' in section


def test_agent_page_of_another_team_says_who_sees_its_exceptions(client, other_engineer, world):
    active_exception(agent=world["agent"], title="Hidden one")
    client.force_login(other_engineer)
    page = client.get("/agents/pay-bot/").content.decode()
    section = page[page.index('data-section="exceptions"') :]
    assert "Hidden one" not in section
    assert "visible to its owner, its team, security and auditors" in section
    assert "Request an exception for this agent" not in section


def test_dashboard_shows_active_exceptions_by_risk_and_expiring(client, security, auditor, world):
    active_exception(agent=world["agent"], risk="high", expires_at=in_days(3))
    active_exception(agent=world["agent"], risk="low", capability=world["jira"])
    ExceptionFactory(agent=world["agent"], risk="critical", capability=world["merge"])
    client.force_login(auditor)
    page = client.get("/").content.decode()
    assert 'data-panel="exceptions-by-risk"' in page
    # The chart's numbers, as its table: high ends within 7 days (1), critical has none.
    high = r'data-row="high"><th scope="row">High</th><td data-series="soon"><a [^>]+>1</a>'
    assert re.search(high, page)
    critical = (
        r'data-row="critical"><th scope="row">Critical</th><td data-series="soon">'
        r'<a [^>]+>0</a></td><td data-series="later"><a [^>]+>0</a>'
    )
    assert re.search(critical, page)
    assert "2 approved exceptions in force or starting later; 1 ends within 7 days." in page
    expiring = page[page.index('data-panel="exceptions-expiring"') :]
    assert re.search(r'class="figure">1<', expiring)
    assert 'data-panel="exceptions-awaiting-me"' not in page
    client.force_login(security)
    assert 'data-panel="exceptions-awaiting-me"' in client.get("/").content.decode()


def test_navigation_links_the_exceptions_page(client, auditor):
    client.force_login(auditor)
    assert 'href="/exceptions/"' in client.get("/").content.decode()


def test_approving_from_the_queue_returns_to_the_queue(client, security, world):
    exception = ExceptionFactory(agent=world["agent"], risk="low", capability=world["jira"])
    client.force_login(security)
    queue = client.get("/approvals/").content.decode()
    assert f'tr data-exception="{exception.pk}"' in queue
    response = client.post(
        f"/exceptions/{exception.pk}/approve/", {"comment": "", "next": "/approvals/"}
    )
    assert response["Location"] == "/approvals/"
    exception.refresh_from_db()
    assert exception.status == "active"
    assert f'tr data-exception="{exception.pk}"' not in client.get("/approvals/").content.decode()


@pytest.mark.parametrize("endpoint", ["approve", "reject", "revoke"])
def test_an_engineer_deciding_an_exception_is_a_403_like_for_access_requests(
    client, other_engineer, endpoint
):
    """Another team's exception, or none at all: the role is refused first (403, not 404)."""
    client.force_login(other_engineer)
    response = client.post(f"/exceptions/999999/{endpoint}/", {"comment": "x"})
    assert response.status_code == 403
    assert b"Only security approves" in response.content


@pytest.mark.parametrize("query", ["status=bogus", "expiring_within_days=soon", "risk=huge"])
def test_a_bad_filter_value_is_shown_on_the_form_not_a_500(client, engineer, world, query):
    client.force_login(engineer)
    response = client.get(f"/exceptions/?{query}")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert response.context["page"].paginator.count == 0


COMMENT_INPUT = r'<input type="text" name="comment" [^>]*maxlength="4000">'


def test_approve_and_reject_comments_stop_at_the_servers_limit(client, security, world):
    exception = ExceptionFactory(agent=world["agent"], risk="low", capability=world["jira"])
    client.force_login(security)
    page = client.get(exception.get_absolute_url()).content.decode()
    assert len(re.findall(COMMENT_INPUT, page)) == 2
