"""One renewal at a time: an exception renewed twice would put two exceptions in force at
once, from the same day (README: "no gap and no overlap")."""

from datetime import timedelta

import pytest
import time_machine

from exceptions import services
from exceptions.models import PolicyException
from kernel.errors import ApplicationError
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import ExceptionFactory, active_exception

pytestmark = pytest.mark.django_db


@pytest.fixture
def old(engineer, world):
    """eve's low-risk exception on pay-bot, in force for 3 more days."""
    return active_exception(
        agent=world["agent"],
        capability=world["jira"],
        requested_by=engineer,
        risk="low",
        expires_at=in_days(3),
    )


def renew(actor, exception, days=20):
    return services.exception_renew(
        actor=actor, exception=exception, expires_at=in_days(days), justification="still needed"
    )


def approved(renewal, security):
    return services.exception_approve(actor=security, exception=renewal)


def count() -> int:
    return PolicyException.objects.count()


def test_a_second_renewal_is_refused_while_the_first_waits(engineer, old):
    first = renew(engineer, old)
    with pytest.raises(ApplicationError, match=f"already renewed by #{first.pk}") as refused:
        renew(engineer, old, days=25)
    assert (refused.value.code, refused.value.extra["renewal_id"]) == ("already_renewed", first.pk)
    assert "waiting for approval" in refused.value.message
    assert count() == 2


def test_a_second_renewal_is_refused_once_the_first_is_approved(engineer, security, old):
    first = approved(renew(engineer, old), security)
    assert first.status == "active"
    with pytest.raises(ApplicationError, match=f"already renewed by #{first.pk} \\(approved"):
        renew(engineer, old, days=25)
    assert count() == 2


def test_renewing_again_once_the_renewal_is_withdrawn_or_rejected(engineer, security, old):
    services.exception_withdraw(actor=engineer, exception=renew(engineer, old))
    second = renew(engineer, old)
    services.exception_reject(actor=security, exception=second, comment="too long")
    third = renew(engineer, old)
    assert (third.status, third.renews_id) == ("pending", old.pk)


def test_a_renewal_that_has_not_started_is_renewed_once_it_has(engineer, security, old):
    first = approved(renew(engineer, old), security)
    with pytest.raises(ApplicationError, match="has not started yet") as refused:
        renew(engineer, first, days=40)
    assert refused.value.code == "not_started"
    assert count() == 2
    with time_machine.travel(in_days(3) + timedelta(minutes=1)):
        later = renew(engineer, first, days=40)
    assert (later.renews_id, later.starts_at) == (first.pk, first.expires_at)


def test_approving_a_renewal_when_another_already_covers_it_is_refused(
    engineer, security, second_security, old
):
    # Two renewals pending at once, as filed before this rule (or written directly).
    first = renew(engineer, old)
    stale = ExceptionFactory(
        agent=old.agent,
        capability=old.capability,
        risk="low",
        requested_by=engineer,
        renews=old,
        starts_at=old.expires_at,
        expires_at=in_days(25),
    )
    approved(first, security)
    with pytest.raises(ApplicationError, match=f"already renewed by #{first.pk}") as refused:
        approved(stale, second_security)
    assert refused.value.code == "already_renewed"
    stale.refresh_from_db()
    assert (stale.status, stale.approvals.count()) == ("pending", 0)


def test_api_refuses_the_second_renewal_with_a_400_naming_the_first(api, engineer, security, old):
    url = f"/api/v1/exceptions/{old.pk}/renew/"
    body = {"expires_at": in_days(20).isoformat(), "justification": "still needed"}
    first = api.as_user(engineer).post(url, body, format="json")
    assert first.status_code == 201, first.content
    approve = f"/api/v1/exceptions/{first.json()['id']}/approve/"
    assert api.as_user(security).post(approve, {}, format="json").status_code == 200
    again = api.as_user(engineer).post(url, body, format="json")
    assert again.status_code == 400, again.content
    assert f"already renewed by #{first.json()['id']}" in again.json()["detail"]
    assert count() == 2


def test_page_offers_no_second_renewal(client, engineer, old):
    client.force_login(engineer)
    assert (
        f'href="/exceptions/{old.pk}/renew/"'
        in client.get(f"/exceptions/{old.pk}/").content.decode()
    )
    first = renew(engineer, old)
    page = client.get(f"/exceptions/{old.pk}/").content.decode()
    assert f'href="/exceptions/{old.pk}/renew/"' not in page
    assert f"already renewed by #{first.pk}" in page
    posted = client.post(
        f"/exceptions/{old.pk}/renew/",
        {"expires_at": in_days(25).strftime("%Y-%m-%dT%H:%M"), "justification": "again"},
    )
    assert posted.status_code == 400
    assert f"already renewed by #{first.pk}" in posted.content.decode()
    assert count() == 2
