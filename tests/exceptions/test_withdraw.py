"""Withdrawing an exception request: only its requester, only while it is pending. Afterwards
security no longer sees it waiting, nobody can approve it, and decisions and reports never
count it (it was never in force)."""

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.utils import timezone

from compliance.collectors import COLLECTORS
from compliance.period import period_parse
from decisions.selectors import decision_facts
from exceptions import services
from exceptions.models import ExceptionApproval, PolicyException
from exceptions.rules import exception_is_in_force
from tests.exceptions.conftest import ROLES, in_days
from tests.exceptions.factories import ExceptionFactory, active_exception
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/exceptions/"
REFUSAL = "Only the person who requested the exception can withdraw it."


@pytest.fixture
def tom(world):
    """A member of team payments: he files for pay-bot, which eve owns."""
    member = make_user("tom", "engineer", email="tom@example.com")
    world["agent"].team.members.add(member)
    return member


@pytest.fixture
def asked(world, tom):
    """tom's pending high-risk exception for pay-bot (two security approvers needed)."""
    return ExceptionFactory(agent=world["agent"], requested_by=tom, title="Read the signing key")


def snapshot():
    return list(PolicyException.objects.order_by("pk").values()), ExceptionApproval.objects.count()


def withdraw(api, user, exception):
    return api.as_user(user).post(f"{URL}{exception.pk}/withdraw/", {}, format="json")


def test_the_requester_withdraws_through_the_api_and_security_is_told(
    api, tom, asked, security, committed
):
    with committed(execute=True):
        response = withdraw(api, tom, asked)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["id"], data["status"], data["in_force"]) == (asked.pk, "withdrawn", False)
    assert data["withdrawn_at"] is not None
    entry = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(PolicyException),
            object_pk=str(asked.pk),
            action=LogEntry.Action.UPDATE,
        )
        .order_by("-pk")
        .first()
    )
    assert entry is not None
    assert entry.actor == tom
    assert entry.changes_dict["status"] == ["pending", "withdrawn"]
    told = [message for message in mail.outbox if "withdrawn" in message.subject]
    assert len(told) == 1
    assert told[0].subject.endswith(f"Exception #{asked.pk} withdrawn: Read the signing key")
    assert security.email in told[0].to
    assert "tom@example.com" not in told[0].to


def test_the_requester_withdraws_from_the_page_after_confirming(client, tom, asked):
    client.force_login(tom)
    page = client.get(asked.get_absolute_url()).content.decode()
    assert "Withdraw this request…" in page
    assert f'<dialog id="confirm-exceptions-withdraw-{asked.pk}"' in page
    confirm = client.get(f"/exceptions/{asked.pk}/withdraw/").content.decode()
    assert f"Withdraw exception request #{asked.pk}: Read the signing key?" in confirm
    assert "Keep the request" in confirm
    assert PolicyException.objects.get().status == "pending"  # asking changes nothing
    done = client.post(f"/exceptions/{asked.pk}/withdraw/", follow=True)
    assert done.redirect_chain == [(asked.get_absolute_url(), 302)]
    page = done.content.decode()
    assert f"Exception request #{asked.pk} withdrawn: security no longer sees it." in page
    assert 'data-testid="exception-status">withdrawn</span>' in page
    assert 'data-testid="withdrawn">by tom, ' in page
    assert "Withdraw this request…" not in page


# Everyone else, on the pages: eve owns pay-bot but did not ask (403), security rejects rather
# than withdraws (403), oscar does not see the exception (404), the auditor and the gateway lack
# the role (403), and the anonymous are sent to sign in.
REFUSED_ON_PAGES = {
    "engineer": 403,
    "other_engineer": 404,
    "security": 403,
    "second_security": 403,
    "auditor": 403,
    "gateway": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize("role", ROLES)
def test_nobody_but_the_requester_withdraws_from_the_pages(client, users, asked, role):
    if users[role] is not None:
        client.force_login(users[role])
    before = snapshot()
    if role in ("engineer", "security", "auditor"):
        assert "/withdraw/" not in client.get(asked.get_absolute_url()).content.decode()
    confirm = client.get(f"/exceptions/{asked.pk}/withdraw/")
    response = client.post(f"/exceptions/{asked.pk}/withdraw/")
    expected = REFUSED_ON_PAGES[role]
    assert (confirm.status_code, response.status_code) == (expected, expected)
    if role in ("engineer", "security", "second_security"):
        assert REFUSAL in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("who", ["engineer", "security"])
def test_the_agents_owner_and_security_hear_why_they_cannot_withdraw(api, users, asked, who):
    before = snapshot()
    response = withdraw(api, users[who], asked)
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == REFUSAL
    assert snapshot() == before


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (
            "active",
            "is active: only a pending exception request can be withdrawn. It is in force: "
            "ask security to revoke it if it is no longer needed.",
        ),
        ("rejected", "is rejected: only a pending exception request can be withdrawn."),
        ("expired", "is expired: only a pending exception request can be withdrawn."),
        ("revoked", "is revoked: only a pending exception request can be withdrawn."),
        ("withdrawn", "is withdrawn: only a pending exception request can be withdrawn."),
    ],
)
def test_only_a_pending_request_is_withdrawn(api, client, tom, world, status, says):
    exception = (
        active_exception(agent=world["agent"], requested_by=tom)
        if status == "active"
        else ExceptionFactory(agent=world["agent"], requested_by=tom, status=status)
    )
    before = snapshot()
    response = withdraw(api, tom, exception)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["detail"] == f"Exception #{exception.pk} {says}"
    client.force_login(tom)
    assert "Withdraw this request…" not in client.get(exception.get_absolute_url()).content.decode()
    confirm = client.get(f"/exceptions/{exception.pk}/withdraw/")
    assert confirm.status_code == 400
    assert f"Exception #{exception.pk} {says}" in confirm.content.decode()
    assert client.post(f"/exceptions/{exception.pk}/withdraw/").status_code == 400
    assert snapshot() == before


def test_a_withdrawn_request_leaves_securitys_queue_and_cannot_be_approved(
    client, tom, asked, security
):
    client.force_login(security)

    def waiting_for_me():
        dashboard = client.get("/").content.decode()
        figure = re.search(
            r'data-panel="exceptions-awaiting-me".*?class="figure">(\d+)<', dashboard, re.S
        )
        assert figure is not None
        queue = client.get("/approvals/").content.decode()
        return int(figure.group(1)), f'action="/exceptions/{asked.pk}/approve/"' in queue

    assert waiting_for_me() == (1, True)
    services.exception_withdraw(actor=tom, exception=asked)
    assert waiting_for_me() == (0, False)
    approve = client.post(f"/exceptions/{asked.pk}/approve/", {"comment": "fine"})
    assert approve.status_code == 400
    assert f"Exception #{asked.pk} is withdrawn; it cannot become active." in (
        approve.content.decode()
    )
    assert not ExceptionApproval.objects.exists()


def test_decisions_and_reports_never_count_a_withdrawn_exception(tom, asked, world):
    # One approved low-risk exception, so the report shows it counts the others.
    approved = active_exception(agent=world["agent"], capability=world["jira"], risk="low")
    services.exception_withdraw(actor=tom, exception=asked)
    asked.refresh_from_db()
    now = timezone.now()
    assert asked.starts_at <= now < asked.expires_at  # its window covers now...
    assert not exception_is_in_force(asked)  # ...but it was never approved
    facts = decision_facts(agent_slug="pay-bot", capability_id=asked.capability_id, at=now)
    assert facts.exception_ids == []
    evidence = COLLECTORS["AGC-07"].collect(period_parse(None, None))
    assert (evidence.checked, evidence.failed) == (1, 0)
    assert [sample.id for sample in evidence.samples] == [str(approved.pk)]


def test_after_withdrawing_the_requester_may_ask_again_and_lists_show_it(api, client, tom, asked):
    again = {
        "title": "Read the signing key, properly scoped",
        "agent": "pay-bot",
        "capability": "vault:read_secret",
        "justification": "Key rotation INC-7",
        "risk": "high",
        "compensating_controls": "Alert on every read",
        "expires_at": in_days(10).isoformat(),
    }
    refused = api.as_user(tom).post(URL, again, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "duplicate_exception")
    services.exception_withdraw(actor=tom, exception=asked)
    filed = api.as_user(tom).post(URL, again, format="json")
    assert filed.status_code == 201, filed.content
    listed = api.as_user(tom).get(f"{URL}?status=withdrawn").json()["results"]
    assert [row["id"] for row in listed] == [asked.pk]
    client.force_login(tom)
    page = client.get("/exceptions/?status=withdrawn").content.decode()
    assert '<option value="withdrawn" selected>Withdrawn</option>' in page
    assert f'href="/exceptions/{asked.pk}/"' in page
    assert f'href="/exceptions/{filed.json()["id"]}/"' not in page
