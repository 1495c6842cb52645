"""Leavers: when a person is deactivated, the policy exceptions they asked for that still wait
for approval are cancelled (rejected by nobody, saying why); those in force stay in force."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail

from exceptions import services
from exceptions.models import PolicyException
from exceptions.rules import exception_is_running
from tests.exceptions.factories import ExceptionFactory, active_exception

pytestmark = pytest.mark.django_db

REASON = "Cancelled: eve left (deactivated)."


def leave(user, **save_kwargs):
    user.is_active = False
    user.save(**save_kwargs)


def entries_for(exception):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PolicyException),
        object_pk=str(exception.pk),
    )


def test_a_leavers_pending_exceptions_are_cancelled_with_the_reason(engineer, world):
    pending = ExceptionFactory(agent=world["agent"], requested_by=engineer)
    leave(engineer)
    pending.refresh_from_db()
    assert pending.status == "rejected"
    assert pending.rejection_comment == REASON
    assert pending.rejected_by is None
    assert pending.rejected_at is not None


def test_active_exceptions_stay_in_force(engineer, world):
    running = active_exception(agent=world["agent"], requested_by=engineer)
    leave(engineer)
    running.refresh_from_db()
    assert running.status == "active"
    assert exception_is_running(running)
    assert running.rejection_comment == ""


def test_other_peoples_pending_exceptions_stay(engineer, other_engineer, world):
    theirs = ExceptionFactory(agent=world["other_agent"], requested_by=other_engineer)
    # Filed by someone else for the leaver's agent: it is theirs to pursue, so it stays.
    for_my_agent = ExceptionFactory(
        agent=world["agent"], requested_by=other_engineer, capability=world["jira"]
    )
    leave(engineer)
    theirs.refresh_from_db()
    for_my_agent.refresh_from_db()
    assert (theirs.status, for_my_agent.status) == ("pending", "pending")


def test_the_agents_owner_is_told(engineer, other_engineer, world, committed):
    # oscar's agent; eve (a member of the team in this test) asked for the exception.
    world["other_agent"].team.members.add(engineer)
    ExceptionFactory(agent=world["other_agent"], requested_by=engineer)
    mail.outbox.clear()
    with committed(execute=True):
        leave(engineer)
    assert len(mail.outbox) == 1
    assert "oscar@example.com" in mail.outbox[0].to
    assert "rejected" in mail.outbox[0].subject
    assert REASON in mail.outbox[0].body


def test_the_cancellation_is_in_the_trail_with_the_leaver_as_its_source(engineer, world):
    pending = ExceptionFactory(agent=world["agent"], requested_by=engineer)
    before = entries_for(pending).count()
    leave(engineer, update_fields=["is_active"])
    entries = entries_for(pending)
    assert entries.count() == before + 1
    cancelled = entries.order_by("-pk").first()
    assert cancelled.actor is None
    assert cancelled.additional_data["source"] == "Leaver: eve deactivated"
    assert cancelled.changes_dict["status"] == ["pending", "rejected"]


def test_the_service_counts_and_is_idempotent(engineer, world):
    ExceptionFactory(agent=world["agent"], requested_by=engineer)
    ExceptionFactory(agent=world["agent"], requested_by=engineer, capability=world["jira"])
    assert services.cancel_pending_of_leaver(engineer) == 2
    assert services.cancel_pending_of_leaver(engineer) == 0


def test_saving_an_active_person_cancels_nothing(engineer, world):
    pending = ExceptionFactory(agent=world["agent"], requested_by=engineer)
    engineer.email = "eve@new.example"
    engineer.save()
    pending.refresh_from_db()
    assert pending.status == "pending"
