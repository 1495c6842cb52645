"""Background work of compliance: building evidence packages."""

from celery import shared_task

from compliance.packages import package_build


@shared_task(name="compliance.build_evidence_package", acks_late=True)
def build_evidence_package(package_id: int) -> str | None:
    """Fetch the package and build it (the service decides whether there is work to do)."""
    package = package_build(package_id)
    return package.status if package is not None else None
