"""Asking for an evidence package: the row and its outbox message in one transaction; the build
runs once that commits. Packages whose build was lost are picked up again."""

from datetime import datetime, timedelta

from celery import shared_task
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from compliance.models import EvidencePackage, PackageStatus
from compliance.period import Period
from compliance.tasks import build_evidence_package
from controls.models import Framework
from kernel import outbox
from kernel.audit import audit_actor
from kernel.models import OutboxMessage, OutboxStatus
from kernel.permissions import Action, require

BUILD = "compliance.build_package"
# A package still pending this long after it was asked for, or running this long after it
# started, lost its build (a worker died, the broker dropped the task): it is queued again.
PENDING_TOO_LONG = timedelta(minutes=10)
RUNNING_TOO_LONG = timedelta(minutes=30)


@outbox.handler(BUILD)
def send_build(*, package_id: int) -> None:
    """Hand the build to a worker (in-process in the embedded default). With the broker down
    this raises, and the outbox retries later."""
    build_evidence_package.apply_async((package_id,), retry=False)


def package_request(*, actor: User, framework: Framework, period: Period) -> EvidencePackage:
    """Queue a package; the build starts once this transaction commits. Asking again for the
    same framework and period while one is still in the works returns that one."""
    require(actor, Action.EXPORT_EVIDENCE)
    with transaction.atomic(), audit_actor(actor):
        in_the_works = EvidencePackage.objects.filter(
            framework=framework,
            period_from=period.start,
            period_to=period.end,
            requested_by=actor,
            status__in=[PackageStatus.PENDING, PackageStatus.RUNNING],
        ).first()
        if in_the_works is not None:
            return in_the_works
        package = EvidencePackage.objects.create(
            framework=framework,
            period_from=period.start,
            period_to=period.end,
            requested_by=actor,
        )
        outbox.enqueue(BUILD, package_id=package.pk)
    return package


def packages_requeue_lost(*, now: datetime | None = None) -> int:
    """Queue the build again for packages whose build was lost; returns how many."""
    now = now or timezone.now()
    waiting = {
        message.payload.get("package_id")
        for message in OutboxMessage.objects.filter(handler=BUILD, status=OutboxStatus.PENDING)
    }
    requeued = 0
    with transaction.atomic():
        stuck_running = EvidencePackage.objects.select_for_update().filter(
            status=PackageStatus.RUNNING, started_at__lt=now - RUNNING_TOO_LONG
        )
        for package in stuck_running:
            package.status, package.progress = PackageStatus.PENDING, 0
            package.save(update_fields=["status", "progress"])
        restarted = [package.pk for package in stuck_running]
        lost = EvidencePackage.objects.filter(
            Q(created_at__lt=now - PENDING_TOO_LONG) | Q(pk__in=restarted),
            status=PackageStatus.PENDING,
        )
        for package in lost:
            if package.pk not in waiting:
                outbox.enqueue(BUILD, package_id=package.pk)
                requeued += 1
    return requeued


@shared_task(name="compliance.requeue_lost_packages")
def requeue_lost_packages() -> int:
    return packages_requeue_lost()
