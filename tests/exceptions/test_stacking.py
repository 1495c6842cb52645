"""No stacking: a second exception for the same agent and capability is refused, when filed and
again when approved, while another approved one runs over any part of its window (renewing it
is the way to go on: exceptions.renewals.refuse_stacking). The clock stands still at
2026-12-01 10:00 UTC so that the times in the messages read as written."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from exceptions import services
from exceptions.models import ExceptionApproval, PolicyException
from kernel.errors import ApplicationError
from tests.exceptions.factories import active_exception
from tests.exceptions.test_form_list_revoke import field_errors, local
from tests.registry.factories import capability

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
COVERS = "already covers 2026-12-01 10:00 to 2026-12-15 10:00 UTC: renew it instead."


@pytest.fixture(autouse=True)
def _still_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def at(days: float) -> datetime:
    return NOW + timedelta(days=days)


@pytest.fixture
def running(engineer, world):
    """eve's low-risk jira:write exception on pay-bot, in force from now for 14 days."""
    return active_exception(
        agent=world["agent"],
        capability=world["jira"],
        requested_by=engineer,
        risk="low",
        starts_at=NOW,
        expires_at=at(14),
    )


def file(actor, agent, capability, *, starts=None, ends=None):
    return services.exception_request(
        actor=actor,
        title="Ticket comments",
        agent=agent,
        capability=capability,
        justification="the release needs it",
        risk="low",
        starts_at=starts,
        expires_at=ends or at(30),
    )


def test_filing_over_a_running_exception_is_refused_naming_it(engineer, world, running):
    with pytest.raises(ApplicationError) as refused:
        file(engineer, world["agent"], world["jira"])
    assert refused.value.message == f"Exception #{running.pk} for jira:write on pay-bot {COVERS}"
    assert (refused.value.code, refused.value.field) == ("overlapping_exception", "starts_at")
    assert refused.value.extra == {"exception_id": running.pk}
    assert PolicyException.objects.count() == 1


def test_the_api_answers_400_with_the_message_and_files_nothing(api, engineer, world, running):
    response = api.as_user(engineer).post(
        "/api/v1/exceptions/",
        {
            "title": "Ticket comments",
            "agent": "pay-bot",
            "capability": "jira:write",
            "justification": "the release needs it",
            "risk": "low",
            "starts_at": at(7).isoformat(),
            "expires_at": at(30).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    message = f"Exception #{running.pk} for jira:write on pay-bot {COVERS}"
    assert response.json() == {
        "detail": message,
        "code": "overlapping_exception",
        "errors": {"starts_at": [message]},
        "exception_id": running.pk,
    }
    assert PolicyException.objects.count() == 1


def test_the_form_shows_it_beside_the_start_with_a_link(client, engineer, world, running):
    client.force_login(engineer)
    response = client.post(
        "/exceptions/new/",
        {
            "title": "Ticket comments",
            "agent": "pay-bot",
            "capability": "jira:write",
            "risk": "low",
            "expires_at": local(at(30)),
            "justification": "the release needs it",
        },
    )
    assert response.status_code == 400  # the form again, refused
    page = response.content.decode()
    assert field_errors(page) == {
        "starts_at": f"Exception #{running.pk} for jira:write on pay-bot {COVERS} "
        f"See exception #{running.pk}."
    }
    assert f'<a href="/exceptions/{running.pk}/">See exception #{running.pk}</a>' in page
    assert PolicyException.objects.count() == 1


def test_running_into_a_scheduled_one_is_shown_on_the_end(engineer, world):
    later = active_exception(
        agent=world["agent"], capability=world["jira"], risk="low", starts_at=at(20),
        expires_at=at(34),
    )  # fmt: skip
    with pytest.raises(ApplicationError) as refused:
        file(engineer, world["agent"], world["jira"], ends=at(21))
    assert refused.value.message == (
        f"Exception #{later.pk} for jira:write on pay-bot already covers 2026-12-21 10:00 to "
        "2027-01-04 10:00 UTC: renew it once it is in force instead."
    )
    assert refused.value.field == "expires_at"


def test_approving_is_refused_when_the_other_was_approved_after_this_was_filed(
    api, engineer, security, world
):
    """The pending-duplicate rule keeps a second one from being filed while the first waits;
    two filings racing past it, or rows from before this rule, leave two to approve. The
    second approval is judged by the present, under the row lock."""
    filed = file(engineer, world["agent"], world["jira"])
    other = active_exception(
        agent=world["agent"], capability=world["jira"], risk="low", starts_at=NOW,
        expires_at=at(14),
    )  # fmt: skip
    response = api.as_user(security).post(f"/api/v1/exceptions/{filed.pk}/approve/", {})
    assert response.status_code == 400
    assert response.json()["detail"] == f"Exception #{other.pk} for jira:write on pay-bot {COVERS}"
    filed.refresh_from_db()
    assert filed.status == "pending"
    assert not ExceptionApproval.objects.filter(exception=filed).exists()


def test_the_approve_button_shows_the_refusal(client, engineer, security, world):
    filed = file(engineer, world["agent"], world["jira"])
    other = active_exception(
        agent=world["agent"], capability=world["jira"], risk="low", starts_at=NOW,
        expires_at=at(14),
    )  # fmt: skip
    client.force_login(security)
    response = client.post(f"/exceptions/{filed.pk}/approve/")
    assert response.status_code == 400
    assert f"Exception #{other.pk} for jira:write on pay-bot {COVERS}" in response.content.decode()
    filed.refresh_from_db()
    assert filed.status == "pending"


def test_one_starting_as_the_running_one_ends_is_filed_and_approved(
    engineer, security, world, running
):
    """Touching windows share no moment: 14 days from now it ends and the new one starts."""
    filed = file(engineer, world["agent"], world["jira"], starts=at(14), ends=at(30))
    assert services.exception_approve(actor=security, exception=filed).status == "active"


def test_one_ending_as_a_scheduled_one_starts_is_filed_and_approved(engineer, security, world):
    active_exception(
        agent=world["agent"], capability=world["jira"], risk="low", starts_at=at(10),
        expires_at=at(20),
    )  # fmt: skip
    filed = file(engineer, world["agent"], world["jira"], ends=at(10))
    assert services.exception_approve(actor=security, exception=filed).status == "active"


@pytest.mark.parametrize("other", ["capability", "agent"])
def test_another_capability_or_agent_is_not_stacking(
    other, engineer, other_engineer, security, world, running
):
    if other == "capability":
        filed = file(engineer, world["agent"], capability("jira:comment"))
    else:
        filed = file(other_engineer, world["other_agent"], world["jira"])
    assert services.exception_approve(actor=security, exception=filed).status == "active"


@pytest.mark.parametrize("state", ["revoked", "expired", "past-expiry"])
def test_an_exception_no_longer_running_does_not_block(state, engineer, security, world, running):
    """Revoked now with days left, or over a minute ago (marked expired, or not yet by the
    periodic task) while the new one starts three minutes ago (the start's clock-skew
    tolerance): the windows share moments, but the other is not running."""
    if state == "revoked":
        services.exception_revoke(actor=security, exception=running, reason="done")
    else:
        ended = {"starts_at": at(-14), "expires_at": NOW - timedelta(minutes=1)}
        status = "expired" if state == "expired" else "active"
        PolicyException.objects.filter(pk=running.pk).update(status=status, **ended)
    starts = NOW - timedelta(minutes=3)
    filed = file(engineer, world["agent"], world["jira"], starts=starts)
    assert services.exception_approve(actor=security, exception=filed).status == "active"


def test_renewing_the_running_one_is_still_the_way_on(engineer, security, running):
    renewal = services.exception_renew(
        actor=engineer, exception=running, expires_at=at(30), justification="still needed"
    )
    renewal = services.exception_approve(actor=security, exception=renewal)
    assert (renewal.status, renewal.starts_at, renewal.renews_id) == ("active", at(14), running.pk)


def test_a_renewal_running_into_another_exception_is_refused(engineer, world, running):
    """Its chain is the renewal rules' business; an exception outside it is not."""
    later = active_exception(
        agent=world["agent"], capability=world["jira"], risk="low", starts_at=at(20),
        expires_at=at(34),
    )  # fmt: skip
    with pytest.raises(ApplicationError) as refused:
        services.exception_renew(
            actor=engineer, exception=running, expires_at=at(25), justification="still needed"
        )
    assert refused.value.message.startswith(f"Exception #{later.pk} for jira:write on pay-bot")
    assert (refused.value.code, refused.value.field) == ("overlapping_exception", "expires_at")
    assert PolicyException.objects.count() == 2
