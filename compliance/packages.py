"""Evidence packages: a zip of the report (JSON, CSV, OSCAL, printable HTML), every record each
control checked (one CSV per control, written as it is read), every evidence file in scope, and
manifest.json with the SHA-256 and size of each file in the zip.

Requesting one is an export (a read: security and auditors). The zip is built by a Celery
task that moves the package pending -> running -> ready | failed and reports progress.
Every exporter may read every package: a package holds portal-wide evidence, nothing
personal to the person who asked for it, and auditors share the work.
"""

import hashlib
import json
import logging
import tempfile
import zipfile
from typing import IO, Any, Protocol

from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from compliance.models import EvidencePackage, PackageStatus
from compliance.period import Period
from compliance.reports import export, records
from compliance.reports.build import Report, evidence_files_in_period, report_build
from kernel.errors import NotFound
from kernel.permissions import Action, AnyUser, can

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# Progress: the report, then every control's records, then the evidence files.
REPORT_DONE, RECORDS_DONE, FILES_DONE = 10, 40, 95

ALLOWED = {
    PackageStatus.PENDING: {PackageStatus.RUNNING, PackageStatus.FAILED},
    # Back to pending only when its build was lost (package_requests.packages_requeue_lost).
    PackageStatus.RUNNING: {PackageStatus.READY, PackageStatus.FAILED, PackageStatus.PENDING},
    PackageStatus.READY: set(),
    PackageStatus.FAILED: set(),
}


def packages_visible_to(user: AnyUser) -> QuerySet[EvidencePackage]:
    """Every package for exporters (see the module docstring), none for anyone else."""
    packages = EvidencePackage.objects.select_related("framework", "requested_by")
    return packages if can(user, Action.EXPORT_EVIDENCE) else packages.none()


def package_get_for_user(user: AnyUser, pk: int | str) -> EvidencePackage:
    """The package, or NotFound (the views refuse a wrong role with a 403 before this)."""
    try:
        return packages_visible_to(user).get(pk=int(pk))
    except (EvidencePackage.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No evidence package {pk}.") from None


def _set_status(package: EvidencePackage, status: str, **fields: Any) -> bool:
    """Move the package on if the transition is allowed from its current (locked) status."""
    with transaction.atomic():
        current = EvidencePackage.objects.select_for_update().get(pk=package.pk)
        if status not in ALLOWED[PackageStatus(current.status)]:
            return False
        current.status = status
        for name, value in fields.items():
            setattr(current, name, value)
        current.save(update_fields=["status", *fields])
    for name, value in {"status": status, **fields}.items():
        setattr(package, name, value)
    return True


def _progress(package: EvidencePackage, value: int) -> None:
    # A plain UPDATE, outside any long transaction, so pollers see it at once.
    EvidencePackage.objects.filter(pk=package.pk).update(progress=max(0, min(100, value)))


class _Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...


def _copy(source: IO[bytes], target: _Writer) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _add_bytes(archive: zipfile.ZipFile, path: str, data: bytes, entries: list[dict]) -> None:
    archive.writestr(path, data)
    entries.append(
        {
            "path": path,
            "kind": "report",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
    )


def _write_zip(package: EvidencePackage, handle: IO[bytes]) -> None:
    period = Period(start=package.period_from, end=package.period_to)
    report = report_build(package.framework, period)
    base = f"{package.framework.key}_{period.start.isoformat()}_{period.end.isoformat()}"
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _add_bytes(archive, f"report/{base}.json", export.report_json(report).encode(), entries)
        _add_bytes(
            archive,
            f"report/{base}.csv",
            "".join(export.report_csv_lines(report)).encode(),
            entries,
        )
        _add_bytes(
            archive,
            f"report/{base}.oscal.json",
            json.dumps(export.report_oscal(report), indent=2).encode(),
            entries,
        )
        html = render_to_string("compliance/report_print.html", {"report": report})
        _add_bytes(archive, f"report/{base}.html", html.encode(), entries)
        _progress(package, REPORT_DONE)
        _add_records(package, report, archive, entries)

        controls = [result.control for result in report.controls.values()]
        files = evidence_files_in_period(controls, period).select_related("control")
        total = files.count()
        for done, evidence in enumerate(files.order_by("control__ref_id", "pk").iterator(), 1):
            path = f"evidence/{evidence.control.ref_id}/{evidence.pk}-{evidence.original_name}"
            entry: dict[str, Any] = {
                "path": path,
                "kind": "evidence",
                "control": evidence.control.ref_id,
                "evidence_id": evidence.pk,
                "effective_on": evidence.effective_on.isoformat(),
                "recorded_sha256": evidence.sha256,
            }
            try:
                with evidence.file.open("rb") as source, archive.open(path, "w") as target:
                    entry["sha256"], entry["size"] = _copy(source, target)
                entry["matches_recorded"] = entry["sha256"] == evidence.sha256
            except FileNotFoundError:
                entry.update(path=None, missing=True)
            entries.append(entry)
            _progress(package, RECORDS_DONE + (FILES_DONE - RECORDS_DONE) * done // total)

        manifest = {
            "framework": package.framework.key,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "requested_by": package.requested_by.username,
            "generated_at": report.generated_at.isoformat(),
            "package_id": package.pk,
            "applicability_statement_version": report.statement.version,
            "items_not_applicable": [row.item.ref_id for row in report.not_applicable],
            # The period reaches back past the raw records kept: the records/ CSVs start later.
            "retention": [notice.as_dict() for notice in report.retention],
            "files": entries,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))


def _add_records(
    package: EvidencePackage, report: Report, archive: zipfile.ZipFile, entries: list[dict]
) -> None:
    """records/<control>.csv: every record the control checked, streamed into the zip."""
    collected = [result.control for result in report.controls.values() if result.evidence.collected]
    for done, control in enumerate(collected, 1):
        path = f"records/{control.ref_id}.csv"
        digest, size = hashlib.sha256(), 0
        with archive.open(path, "w") as target:
            for line in records.records_csv_lines(report.framework, [control], report.period):
                data = line.encode()
                digest.update(data)
                target.write(data)
                size += len(data)
        entries.append(
            {
                "path": path,
                "kind": "records",
                "control": control.ref_id,
                "records": report.controls[control.ref_id].evidence.checked,
                "sha256": digest.hexdigest(),
                "size": size,
            }
        )
        _progress(package, REPORT_DONE + (RECORDS_DONE - REPORT_DONE) * done // len(collected))


def package_build(package_id: int) -> EvidencePackage | None:
    """Build the zip of a pending package; a package already started or done is left alone
    (a redelivered task must not build twice). Failures end in `failed` with the reason."""
    try:
        package = EvidencePackage.objects.select_related("framework", "requested_by").get(
            pk=package_id
        )
    except EvidencePackage.DoesNotExist:
        logger.warning("evidence package %s vanished before it was built", package_id)
        return None
    if not _set_status(package, PackageStatus.RUNNING, started_at=timezone.now(), progress=1):
        return package
    try:
        with tempfile.TemporaryFile() as handle:
            _write_zip(package, handle)
            handle.seek(0)
            digest, size = _copy(handle, _Discard())
            handle.seek(0)
            name = f"{package.framework.key}_{package.period_from}_{package.period_to}.zip"
            package.file.save(name, File(handle, name=name), save=False)
        _set_status(
            package,
            PackageStatus.READY,
            file=package.file.name,
            sha256=digest,
            size=size,
            progress=100,
            finished_at=timezone.now(),
        )
    except Exception as exc:
        logger.exception("evidence package %s failed", package_id)
        _set_status(
            package,
            PackageStatus.FAILED,
            error=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
    return package


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)
