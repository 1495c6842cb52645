"""Evidence packages go through the outbox: asked for once, built once, and picked up again
when their build was lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.models import EvidencePackage, PackageStatus
from compliance.package_requests import BUILD, package_request, packages_requeue_lost
from compliance.period import period_parse
from controls.models import Framework
from kernel.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"


def _ask(auditor):
    return package_request(
        actor=auditor,
        framework=Framework.objects.get(key=NIST),
        period=period_parse(None, None),
    )


def test_the_package_and_its_build_message_are_written_together(auditor):
    package = _ask(auditor)  # inside the test's transaction: nothing has committed yet
    message = OutboxMessage.objects.get(handler=BUILD)
    assert message.payload == {"package_id": package.pk}
    assert message.status == OutboxStatus.PENDING
    assert package.status == PackageStatus.PENDING


def test_asking_again_while_it_is_in_the_works_returns_the_same_package(auditor):
    first = _ask(auditor)
    again = _ask(auditor)
    assert again.pk == first.pk
    assert EvidencePackage.objects.count() == 1
    assert OutboxMessage.objects.filter(handler=BUILD).count() == 1


def test_a_package_whose_build_was_lost_is_queued_again(auditor):
    pending = _ask(auditor)
    OutboxMessage.objects.filter(handler=BUILD).update(status=OutboxStatus.DELIVERED)
    later = timezone.now() + timedelta(minutes=11)
    assert packages_requeue_lost(now=later) == 1
    assert OutboxMessage.objects.filter(handler=BUILD, status=OutboxStatus.PENDING).count() == 1
    assert packages_requeue_lost(now=later) == 0  # already waiting: not queued twice
    pending.refresh_from_db()
    assert pending.status == PackageStatus.PENDING


def test_a_package_stuck_running_goes_back_to_pending_and_is_queued(auditor):
    package = _ask(auditor)
    OutboxMessage.objects.filter(handler=BUILD).update(status=OutboxStatus.DELIVERED)
    EvidencePackage.objects.filter(pk=package.pk).update(
        status=PackageStatus.RUNNING, started_at=timezone.now(), progress=40
    )
    assert packages_requeue_lost(now=timezone.now() + timedelta(minutes=5)) == 0
    assert packages_requeue_lost(now=timezone.now() + timedelta(minutes=31)) == 1
    package.refresh_from_db()
    assert (package.status, package.progress) == (PackageStatus.PENDING, 0)


def test_a_fresh_pending_package_is_left_alone(auditor):
    _ask(auditor)
    OutboxMessage.objects.filter(handler=BUILD).update(status=OutboxStatus.DELIVERED)
    assert packages_requeue_lost(now=timezone.now() + timedelta(minutes=2)) == 0
