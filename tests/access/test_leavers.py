"""Leavers: when a person is deactivated, the access requests they filed that still wait are
cancelled, saying why; what was decided, and the grants issued, stay as they are."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail

from access import services
from access.models import AccessRequest, Grant
from access.rules import grant_is_active
from kernel.accounts import person_left
from tests.access.test_services import submit
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db

REASON = "Cancelled: eve left (deactivated)."


@pytest.fixture
def world(engineer, other_engineer, security):
    team = TeamFactory(slug="payments", members=[engineer, other_engineer])
    demo_policy(security)
    return {
        "sandbox": AgentFactory(slug="sandbox-bot", owner=engineer, team=team, tier="sandbox"),
        "prod": AgentFactory(slug="prod-bot", owner=other_engineer, team=team, tier="production"),
        "own_prod": AgentFactory(slug="live-bot", owner=engineer, team=team, tier="production"),
    }


def leave(user, **save_kwargs):
    user.is_active = False
    user.save(**save_kwargs)


def entries_for(request):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(AccessRequest), object_pk=str(request.pk)
    )


def test_a_leavers_pending_requests_are_cancelled_with_the_reason(engineer, world):
    merge = submit(engineer, world["sandbox"], "github:merge")  # approval: pending
    deploy = submit(engineer, world["prod"], "github:write")  # approval on production
    assert {merge.status, deploy.status} == {"pending"}
    leave(engineer)
    for request in (merge, deploy):
        request.refresh_from_db()
        assert request.status == "cancelled"
        assert request.decision_comment == REASON
        assert request.decided_at is not None
        assert request.decided_by is None


def test_what_was_decided_and_the_grants_stay(engineer, world, security):
    jit = submit(engineer, world["sandbox"], "github:write", hours=8)  # approved at once
    denied = submit(engineer, world["sandbox"], "github:merge")
    services.access_request_deny(actor=security, access_request=denied, comment="not now")
    grant = Grant.objects.get(request=jit)
    leave(engineer)
    jit.refresh_from_db()
    denied.refresh_from_db()
    assert (jit.status, jit.decision_comment) == ("approved", "")
    assert (denied.status, denied.decision_comment) == ("denied", "not now")
    grant.refresh_from_db()
    assert grant_is_active(grant)  # policy says how long it lasts, not the leaver's account


def test_other_peoples_pending_requests_stay(engineer, other_engineer, world):
    theirs = submit(other_engineer, world["prod"], "github:write")
    mine = submit(engineer, world["sandbox"], "github:merge")
    leave(engineer)
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (theirs.status, mine.status) == ("pending", "cancelled")


def test_an_unreviewed_break_glass_stays_in_the_review_queue(engineer, world):
    glass = submit(
        engineer, world["own_prod"], "deploy:release", break_glass=True, incident="INC-1"
    )
    leave(engineer)
    glass.refresh_from_db()
    assert glass.status == "approved"
    assert glass.break_glass_reviewed_at is None


def test_the_cancellation_is_in_the_trail_with_the_leaver_as_its_source(engineer, world):
    request = submit(engineer, world["sandbox"], "github:merge")
    before = entries_for(request).count()
    leave(engineer)
    entries = entries_for(request)
    assert entries.count() == before + 1  # nothing of the leaver's is lost, one entry added
    cancelled = entries.order_by("-pk").first()
    assert cancelled.actor is None
    assert cancelled.additional_data["source"] == "Leaver: eve deactivated"
    assert cancelled.changes_dict["status"] == ["pending", "cancelled"]
    filed = entries.order_by("pk").first()
    assert filed.actor == engineer  # who filed it is still named


def test_the_leaver_gets_no_mail_for_a_cancellation(engineer, world, committed):
    submit(engineer, world["sandbox"], "github:merge")
    mail.outbox.clear()
    with committed(execute=True):
        leave(engineer)
    assert mail.outbox == []


def test_saving_an_active_person_or_an_inactive_one_again_cancels_nothing(engineer, world):
    request = submit(engineer, world["sandbox"], "github:merge")
    engineer.first_name = "Evelyn"
    engineer.save()
    request.refresh_from_db()
    assert request.status == "pending"
    leave(engineer, update_fields=["is_active"])  # the directory's way: one field
    request.refresh_from_db()
    assert request.status == "cancelled"
    calls = []
    person_left.connect(lambda **kwargs: calls.append(kwargs), weak=False, dispatch_uid="t")
    try:
        leave(engineer)  # already inactive: nobody left again
    finally:
        person_left.disconnect(dispatch_uid="t")
    assert calls == []


def test_the_service_alone_counts_what_it_cancelled(engineer, world):
    submit(engineer, world["sandbox"], "github:merge")
    submit(engineer, world["prod"], "github:write")
    assert services.cancel_pending_of_leaver(engineer) == 2
    assert services.cancel_pending_of_leaver(engineer) == 0
    assert not AccessRequest.objects.filter(status="pending").exists()


def test_someone_elses_deactivation_leaves_a_request_alone(engineer, world):
    request = submit(engineer, world["sandbox"], "github:merge")
    leave(make_user("stranger", "engineer"))
    request.refresh_from_db()
    assert request.status == "pending"
