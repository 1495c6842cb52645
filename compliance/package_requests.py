"""Asking for an evidence package: the row now, the build once the request commits."""

from django.contrib.auth.models import User
from django.db import transaction

from compliance.models import EvidencePackage
from compliance.period import Period
from compliance.tasks import build_evidence_package
from controls.models import Framework
from kernel.audit import audit_actor
from kernel.permissions import Action, require


def package_request(*, actor: User, framework: Framework, period: Period) -> EvidencePackage:
    """Queue a package; the task starts once this transaction commits."""
    require(actor, Action.EXPORT_EVIDENCE)
    with transaction.atomic(), audit_actor(actor):
        package = EvidencePackage.objects.create(
            framework=framework,
            period_from=period.start,
            period_to=period.end,
            requested_by=actor,
        )
    transaction.on_commit(lambda: build_evidence_package.delay(package.pk))
    return package
