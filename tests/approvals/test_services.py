"""The shared approval transition and "awaiting me" read, on a subject of each workflow.

The helper knows nothing of access or exceptions: these tests drive it with a pipeline of
their own and a refusal function that allows everyone, so only its own rules are checked.
"""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from access.models import AccessRequest, Approval
from approvals.selectors import awaiting_approval_by
from approvals.services import approve, close
from approvals.workflow import Pipeline
from exceptions.models import ExceptionApproval, PolicyException
from kernel.errors import ApplicationError, Forbidden
from tests.exceptions.factories import ExceptionFactory
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, capability

PIPELINE = Pipeline(
    noun="thing",
    allowed={"pending": {"active", "rejected"}, "active": {"revoked"}, "rejected": set()},
)


def anyone(user, subject) -> None:
    return None


def _approve(actor, subject, **kwargs):
    return approve(
        actor=actor,
        subject=subject,
        pipeline=PIPELINE,
        approved="active",
        refusal=kwargs.pop("refusal", anyone),
        **kwargs,
    )


@pytest.fixture
def approvers(db):
    return [make_user(f"approver{i}", "security") for i in range(3)]


@pytest.mark.parametrize("status", ["active", "rejected"])
def test_approval_of_a_subject_no_longer_pending_is_refused(approvers, status):
    subject = ExceptionFactory(status=status, required_approvals=1)
    with pytest.raises(ApplicationError) as refused:
        _approve(approvers[0], subject)
    assert refused.value.code == "invalid_transition"
    said = "is already active." if status == "active" else f"is {status}; it cannot become active."
    assert str(refused.value) == f"Thing #{subject.pk} {said}"
    assert not subject.approvals.exists()
    subject.refresh_from_db()
    assert subject.status == status


def test_the_refusal_function_is_asked_under_the_lock_and_nothing_is_recorded(approvers):
    subject = ExceptionFactory(required_approvals=1)
    seen = []

    def refuse(user, locked):
        seen.append((user, locked.status))
        return "Not you."

    with pytest.raises(Forbidden, match="Not you"):
        _approve(approvers[0], subject, refusal=refuse)
    assert seen == [(approvers[0], "pending")]
    assert not subject.approvals.exists()


def test_the_same_approver_twice_counts_once(approvers):
    subject = ExceptionFactory(required_approvals=2)
    assert _approve(approvers[0], subject).final is False
    with pytest.raises(ApplicationError) as twice:
        _approve(approvers[0], subject)
    assert twice.value.code == "already_approved"
    assert subject.approvals.count() == 1
    subject.refresh_from_db()
    assert subject.status == "pending"


@pytest.mark.parametrize(
    ("approval_model", "subject_field"),
    [(ExceptionApproval, "exception"), (Approval, "request")],
)
def test_the_database_refuses_a_second_approval_by_the_same_person(
    approvers, approval_model, subject_field
):
    # What holds when the same person races themself past the application's check.
    if approval_model is Approval:
        agent = AgentFactory()
        subject = AccessRequest.objects.create(
            agent=agent,
            capability=capability("github:merge"),
            justification="x",
            duration_hours=1,
            requested_by=agent.owner,
            effect="approval",
            policy_version=1,
        )
    else:
        subject = ExceptionFactory()
    approval_model.objects.create(**{subject_field: subject}, approver=approvers[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        approval_model.objects.create(**{subject_field: subject}, approver=approvers[0])


def test_the_final_approval_transitions_exactly_once(approvers):
    subject = ExceptionFactory(required_approvals=2)
    decided = timezone.now()
    first = _approve(approvers[0], subject, final_fields={"activated_at": decided})
    assert (first.final, first.subject.status, first.subject.activated_at) == (
        False,
        "pending",
        None,
    )
    second = _approve(approvers[1], subject, comment="fine", final_fields={"activated_at": decided})
    assert (second.final, second.subject.status) == (True, "active")
    subject.refresh_from_db()
    assert (subject.status, subject.activated_at) == ("active", decided)
    with pytest.raises(ApplicationError) as late:
        _approve(approvers[2], subject)
    assert late.value.code == "invalid_transition"
    assert sorted(subject.approvals.values_list("approver__username", "comment")) == [
        ("approver0", ""),
        ("approver1", "fine"),
    ]


def test_the_workflow_check_runs_before_anything_is_recorded(approvers):
    subject = ExceptionFactory(required_approvals=1)

    def too_late(locked):
        raise ApplicationError("Too late.", code="window_passed")

    with pytest.raises(ApplicationError, match="Too late"):
        _approve(approvers[0], subject, check=too_late)
    assert not subject.approvals.exists()


def test_awaiting_me_is_pending_not_mine_not_my_agents_not_approved_by_me(approvers):
    me, other, _ = approvers
    waiting = ExceptionFactory(required_approvals=2)
    ExceptionFactory(status="active")  # not pending
    ExceptionFactory(requested_by=me)  # I asked for it
    ExceptionFactory(agent=AgentFactory(owner=me))  # my agent
    approved_by_me = ExceptionFactory(required_approvals=2)
    ExceptionApproval.objects.create(exception=approved_by_me, approver=me)
    visible = PolicyException.objects.all()
    assert list(awaiting_approval_by(me, visible)) == [waiting]
    assert waiting in awaiting_approval_by(other, visible)
    assert approved_by_me in awaiting_approval_by(other, visible)
    engineer = make_user("eng", "engineer")
    assert list(awaiting_approval_by(engineer, visible)) == []


def test_close_moves_the_subject_and_saves_its_fields_in_one_update(approvers):
    subject = ExceptionFactory(required_approvals=1)
    now = timezone.now()
    closed = close(
        actor=approvers[0],
        subject=subject,
        pipeline=PIPELINE,
        status="rejected",
        fields={"rejected_at": now, "rejected_by": approvers[0], "rejection_comment": "no"},
    )
    subject.refresh_from_db()
    assert (closed.status, subject.status) == ("rejected", "rejected")
    assert (subject.rejected_by, subject.rejection_comment) == (approvers[0], "no")


def test_close_refuses_a_move_the_pipeline_does_not_allow_and_saves_nothing(approvers):
    subject = ExceptionFactory(status="rejected", required_approvals=1)
    with pytest.raises(ApplicationError) as refused:
        close(
            actor=approvers[0],
            subject=subject,
            pipeline=PIPELINE,
            status="revoked",
            fields={"revoke_reason": "late"},
        )
    assert refused.value.code == "invalid_transition"
    subject.refresh_from_db()
    assert (subject.status, subject.revoke_reason) == ("rejected", "")


def test_close_runs_the_workflow_check_under_the_lock_first(approvers):
    subject = ExceptionFactory(status="active", required_approvals=1)

    def expired(locked):
        assert locked.pk == subject.pk
        raise ApplicationError("Expired already.", code="invalid_transition")

    with pytest.raises(ApplicationError, match="Expired already"):
        close(
            actor=approvers[0],
            subject=subject,
            pipeline=PIPELINE,
            status="revoked",
            fields={},
            check=expired,
        )
    subject.refresh_from_db()
    assert subject.status == "active"
