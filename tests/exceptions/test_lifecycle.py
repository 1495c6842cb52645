"""An exception's life after approval: renewal, the transition table, expiry reminders."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from exceptions import services, upkeep
from exceptions.models import (
    ExceptionReminder,
    ExceptionStatus,
    PolicyException,
)
from exceptions.rules import exception_is_in_force
from kernel.errors import ApplicationError, Forbidden
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import ExceptionFactory, active_exception, decided_exception
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db


def file(actor, world, **overrides):
    data = {
        "title": "Read the payments signing key",
        "agent": world["agent"],
        "capability": world["vault"],
        "justification": "Key rotation INC-7",
        "risk": "high",
        "compensating_controls": "Alert on every read",
        "expires_at": in_days(10),
        **overrides,
    }
    return services.exception_request(actor=actor, **data)


# --- renewal ------------------------------------------------------------------------------


def test_renewal_files_a_linked_pending_exception_from_the_old_expiry(
    engineer, security, second_security, world
):
    old = active_exception(
        agent=world["agent"], requested_by=engineer, risk="high", expires_at=in_days(3)
    )
    renewal = services.exception_renew(
        actor=engineer, exception=old, expires_at=in_days(20), justification="Rotation continues"
    )
    old.refresh_from_db()
    assert (renewal.status, renewal.renews, renewal.starts_at) == ("pending", old, old.expires_at)
    assert (renewal.risk, renewal.required_approvals, renewal.title) == ("high", 2, old.title)
    assert old.status == "active"
    assert exception_is_in_force(old)
    # The maximum counts from the renewal's own start (the old expiry).
    with pytest.raises(ApplicationError, match="at most 30 days"):
        services.exception_renew(
            actor=engineer, exception=old, expires_at=in_days(34), justification="x"
        )
    services.exception_approve(actor=security, exception=renewal)
    services.exception_approve(actor=second_security, exception=renewal)
    key = {"agent_id": world["agent"].pk, "capability_id": old.capability_id}
    assert decided_exception(**key) == old
    with time_machine.travel(in_days(3) + timedelta(minutes=1)):
        assert decided_exception(**key) == renewal


@pytest.mark.parametrize("who", ["requester", "owner"])
def test_renewal_by_requester_or_owner(engineer, world, who):
    requester = make_user("rita", "engineer")
    world["agent"].team.members.add(requester)
    old = active_exception(agent=world["agent"], requested_by=requester)
    actor = requester if who == "requester" else engineer
    renewal = services.exception_renew(
        actor=actor, exception=old, expires_at=old.expires_at + timedelta(days=5), justification="j"
    )
    assert renewal.requested_by == actor


@pytest.mark.parametrize("who", ["other_engineer", "security", "auditor", "gateway"])
def test_renewal_by_anyone_else_is_refused(users, world, who):
    old = active_exception(agent=world["agent"], requested_by=users["engineer"])
    with pytest.raises(Forbidden):
        services.exception_renew(
            actor=users[who], exception=old, expires_at=in_days(15), justification="j"
        )
    assert PolicyException.objects.count() == 1


@pytest.mark.parametrize("status", ["pending", "rejected", "expired", "revoked"])
def test_only_active_exceptions_are_renewed(engineer, world, status):
    old = ExceptionFactory(agent=world["agent"], status=status)
    with pytest.raises(ApplicationError) as refused:
        services.exception_renew(
            actor=engineer, exception=old, expires_at=in_days(15), justification="j"
        )
    assert refused.value.code == "not_renewable"


# --- the transition table -----------------------------------------------------------------

STATUSES = list(ExceptionStatus)
ALLOWED_PAIRS = {
    ("pending", "active"),
    ("pending", "rejected"),
    ("pending", "withdrawn"),
    ("active", "expired"),
    ("active", "revoked"),
}


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_transition_table(source, target):
    exception = PolicyException(pk=1, status=source)
    if (source, target) in ALLOWED_PAIRS:
        services.set_status(exception, target)
        assert exception.status == target
    else:
        with pytest.raises(ApplicationError) as refused:
            services.set_status(exception, target)
        assert refused.value.code == "invalid_transition"
        assert exception.status == source


def _move(action, exception, security):
    if action == "active":
        return services.exception_approve(actor=security, exception=exception)
    if action == "rejected":
        return services.exception_reject(actor=security, exception=exception, comment="c")
    if action == "revoked":
        return services.exception_revoke(actor=security, exception=exception, reason="r")
    if action == "withdrawn":
        return services.exception_withdraw(actor=exception.requested_by, exception=exception)
    with time_machine.travel(exception.expires_at + timedelta(seconds=1)):
        if upkeep.exceptions_mark_expired() == 0:
            raise ApplicationError("nothing expired", code="invalid_transition")
    return exception


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", ["active", "rejected", "revoked", "expired", "withdrawn"])
def test_every_service_follows_the_table(security, world, source, target):
    exception = ExceptionFactory(
        agent=world["agent"], status=source, risk="low", capability=world["jira"]
    )
    if (source, target) in ALLOWED_PAIRS:
        _move(target, exception, security)
        exception.refresh_from_db()
        assert exception.status == target
    else:
        with pytest.raises(ApplicationError):
            _move(target, exception, security)
        exception.refresh_from_db()
        assert exception.status == source


# --- reminders ----------------------------------------------------------------------------


def test_reminders_go_out_seven_days_and_one_day_before_expiry_once_each(
    engineer, security, world, committed
):
    requester = make_user("rita", "engineer", email="rita@example.com")
    start = timezone.now()
    exception = active_exception(
        agent=world["agent"],
        requested_by=requester,
        approver=security,
        expires_at=start + timedelta(days=10),
    )

    def run(at):
        with time_machine.travel(at), committed(execute=True):
            return upkeep.exceptions_send_reminders()

    assert run(start) == 0
    assert run(start + timedelta(days=2, hours=23)) == 0  # 7 days and 1 hour left
    assert run(start + timedelta(days=3, hours=1)) == 1  # 6 days 23 hours left
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"rita@example.com", engineer.email, security.email}
    assert f"Exception #{exception.pk} expires in 6 days, " in mail.outbox[0].subject
    assert run(start + timedelta(days=5)) == 0  # sent once
    assert run(start + timedelta(days=8, hours=23)) == 0  # 25 hours left
    assert run(start + timedelta(days=9, hours=1)) == 1  # 23 hours left
    assert run(start + timedelta(days=9, hours=12)) == 0
    assert len(mail.outbox) == 2
    assert re.search(r"expires in 0 days, 2[23] hours$", mail.outbox[1].subject)
    assert sorted(exception.reminders.values_list("kind", flat=True)) == ["1d", "7d"]
    assert run(start + timedelta(days=11)) == 0  # over: nothing more


def test_a_short_exception_gets_only_the_one_day_reminder(world, committed):
    active_exception(agent=world["agent"], expires_at=in_days(0.5))
    with committed(execute=True):
        assert upkeep.exceptions_send_reminders() == 1
    assert list(ExceptionReminder.objects.values_list("kind", flat=True)) == ["1d"]


def test_revoked_and_pending_exceptions_get_no_reminder(security, world):
    revoked = active_exception(agent=world["agent"], expires_at=in_days(3))
    services.exception_revoke(actor=security, exception=revoked, reason="done")
    ExceptionFactory(agent=world["agent"], capability=world["merge"], expires_at=in_days(3))
    assert upkeep.exceptions_send_reminders() == 0


def test_tasks_call_the_services(world):
    from exceptions import tasks

    active_exception(agent=world["agent"], expires_at=in_days(2))
    assert tasks.remind_expiring_exceptions.delay().get() == 1
    with time_machine.travel(in_days(3)):
        assert tasks.expire_exceptions.delay().get() == 1
