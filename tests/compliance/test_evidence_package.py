"""Evidence packages: built eagerly and by a real Celery worker; the zip's hashes verify."""

import hashlib
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance import package_requests, packages
from compliance.models import EvidencePackage, PackageStatus
from compliance.period import period_parse
from compliance.tasks import build_evidence_package
from controls import services
from controls.catalogue import load_controls, load_frameworks
from controls.models import Control, Framework
from kernel.errors import Forbidden
from tests.registry.factories import AgentFactory

ROOT = Path(__file__).resolve().parents[2]
NIST = "nist-ai-rmf-1.0"
API = "/api/v1/evidence-packages/"


def _upload(security, ref_id: str, name: str, data: bytes, days_ago: int = 0):
    return services.evidence_upload(
        actor=security,
        control=Control.objects.get(ref_id=ref_id),
        file=SimpleUploadedFile(name, data),
        effective_on=timezone.now().date() - timezone.timedelta(days=days_ago),
    )


def _verify(package: EvidencePackage) -> dict:
    """Open the zip, check every manifest entry's SHA-256 and size; return the manifest."""
    package.refresh_from_db()
    with package.file.open("rb") as handle:
        blob = handle.read()
    assert hashlib.sha256(blob).hexdigest() == package.sha256
    assert len(blob) == package.size
    archive = zipfile.ZipFile(io.BytesIO(blob))
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        if entry.get("missing"):
            continue
        data = archive.read(entry["path"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert len(data) == entry["size"]
    listed = {e["path"] for e in manifest["files"] if not e.get("missing")} | {"manifest.json"}
    assert set(archive.namelist()) == listed
    return manifest


@pytest.mark.django_db
def test_package_is_built_eagerly_with_report_evidence_and_manifest(security, auditor):
    AgentFactory()
    kept = _upload(security, "AGC-01", "policy-review.pdf", b"%PDF review minutes")
    _upload(security, "AGC-09", "attestations.csv", b"agent,attested\nx,2026-01-01\n")
    _upload(security, "AGC-01", "old.txt", b"too old", days_ago=200)  # outside the period
    package = package_requests.package_request(
        actor=auditor, framework=Framework.objects.get(key=NIST), period=period_parse(None, None)
    )
    assert package.status == PackageStatus.PENDING
    build_evidence_package.delay(package.pk)
    package.refresh_from_db()
    assert (package.status, package.progress, package.error) == (PackageStatus.READY, 100, "")
    assert package.started_at <= package.finished_at
    manifest = _verify(package)
    kinds = [entry["kind"] for entry in manifest["files"]]
    assert kinds.count("report") == 4  # json, csv, oscal, html
    evidence = [entry for entry in manifest["files"] if entry["kind"] == "evidence"]
    assert {entry["control"] for entry in evidence} == {"AGC-01", "AGC-09"}
    first = next(entry for entry in evidence if entry["evidence_id"] == kept.pk)
    assert first["sha256"] == first["recorded_sha256"] == kept.sha256
    assert first["matches_recorded"] is True
    assert manifest["requested_by"] == auditor.username
    report = json.loads(
        zipfile.ZipFile(package.file.open("rb")).read(
            next(
                e["path"]
                for e in manifest["files"]
                if e["path"].endswith(".json") and "oscal" not in e["path"]
            )
        )
    )
    assert report["framework"]["key"] == NIST
    assert "AGC-11" in {control["ref_id"] for control in report["controls"]}


@pytest.mark.django_db
def test_missing_evidence_file_is_listed_not_fatal(security, auditor):
    evidence = _upload(security, "AGC-01", "gone.txt", b"soon gone")
    evidence.file.storage.delete(evidence.file.name)
    package = package_requests.package_request(
        actor=auditor, framework=Framework.objects.get(key=NIST), period=period_parse(None, None)
    )
    packages.package_build(package.pk)
    manifest = _verify(package)
    entry = next(e for e in manifest["files"] if e["kind"] == "evidence")
    assert entry["missing"] is True


@pytest.mark.django_db
def test_a_failure_ends_in_failed_with_the_reason(auditor, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(packages, "report_build", explode)
    package = package_requests.package_request(
        actor=auditor, framework=Framework.objects.get(key=NIST), period=period_parse(None, None)
    )
    packages.package_build(package.pk)
    package.refresh_from_db()
    assert package.status == PackageStatus.FAILED
    assert package.error == "RuntimeError: disk full"
    # A failed (or finished) package is never built again by a redelivered task.
    packages.package_build(package.pk)
    package.refresh_from_db()
    assert package.status == PackageStatus.FAILED


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["engineer", "gateway"])
def test_only_exporters_request_packages(role_users, role):
    with pytest.raises(Forbidden):
        package_requests.package_request(
            actor=role_users[role],
            framework=Framework.objects.get(key=NIST),
            period=period_parse(None, None),
        )
    assert not EvidencePackage.objects.exists()


# --- API --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_request_poll_and_download(api, auditor, security, django_capture_on_commit_callbacks):
    _upload(security, "AGC-02", "allowlist.txt", b"github:read allow")
    client = api.as_user(auditor)
    today = timezone.now().date().isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            API, {"framework": NIST, "from": "2026-01-01", "to": today}, format="json"
        )
    assert response.status_code == 202
    assert response.json()["status"] == "pending"  # as it was when answered
    package_id = response.json()["id"]
    detail = client.get(f"{API}{package_id}/").json()
    assert (detail["status"], detail["progress"]) == ("ready", 100)
    assert detail["download_url"].endswith(f"/api/v1/evidence-packages/{package_id}/download/")
    # Security reads a package an auditor asked for (every exporter reads every package).
    download = api.as_user(security).get(detail["download_url"])
    assert download.status_code == 200
    blob = b"".join(download.streaming_content)
    assert hashlib.sha256(blob).hexdigest() == detail["sha256"]
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(blob)).namelist()
    assert [p["id"] for p in client.get(API).json()] == [package_id]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"framework": "iso-42001", "from": "2026-01-01", "to": "2026-01-31"}, "framework"),
        ({"framework": NIST, "from": "2026-02-01", "to": "2026-01-31"}, "from"),
        ({"framework": NIST, "from": "soon", "to": "2026-01-31"}, "from"),
        ({"framework": NIST, "to": "2026-01-31"}, "from"),
    ],
)
def test_api_bad_package_requests_are_400(api, auditor, body, field):
    response = api.as_user(auditor).post(API, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not EvidencePackage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["engineer", "gateway", "norole", None])
def test_api_packages_refuse_non_exporters(api, role_users, auditor, role):
    package = EvidencePackage.objects.create(
        framework=Framework.objects.get(key=NIST),
        period_from=timezone.now().date(),
        period_to=timezone.now().date(),
        requested_by=auditor,
    )
    client = api.as_user(role_users.get(role))
    expected = 401 if role is None else 403
    body = {"framework": NIST, "from": "2026-01-01", "to": "2026-01-31"}
    assert client.post(API, body, format="json").status_code == expected
    assert client.get(API).status_code == expected
    assert client.get(f"{API}{package.pk}/").status_code == expected
    assert client.get(f"{API}{package.pk}/download/").status_code == expected
    assert EvidencePackage.objects.count() == 1


@pytest.mark.django_db
def test_api_unready_or_unknown_package(api, auditor):
    package = EvidencePackage.objects.create(
        framework=Framework.objects.get(key=NIST),
        period_from=timezone.now().date(),
        period_to=timezone.now().date(),
        requested_by=auditor,
    )
    client = api.as_user(auditor)
    assert client.get(f"{API}{package.pk}/").json()["download_url"] is None
    assert client.get(f"{API}{package.pk}/download/").status_code == 404
    assert client.get(f"{API}99999/").status_code == 404


# --- HTML -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_requests_a_package_and_shows_its_progress(
    client, auditor, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    period = period_parse(None, None)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/compliance/{NIST}/report/package/",
            {"from": period.start.isoformat(), "to": period.end.isoformat()},
        )
    assert response.status_code == 302
    assert response["Location"].endswith("#packages")
    package = EvidencePackage.objects.get()
    page = client.get(response["Location"])
    assert f'data-package="{package.pk}"' in page.content.decode()
    assert "Download zip" in page.content.decode()
    status = client.get(f"/compliance/packages/{package.pk}/").json()
    assert (status["status"], status["progress"]) == ("ready", 100)
    download = client.get(f"/compliance/packages/{package.pk}/download/")
    assert download.status_code == 200


@pytest.mark.django_db
def test_engineers_get_no_package_pages(client, engineer, auditor):
    package = EvidencePackage.objects.create(
        framework=Framework.objects.get(key=NIST),
        period_from=timezone.now().date(),
        period_to=timezone.now().date(),
        requested_by=auditor,
    )
    client.force_login(engineer)
    assert client.post(f"/compliance/{NIST}/report/package/").status_code == 403
    assert client.get(f"/compliance/packages/{package.pk}/").status_code == 403
    assert client.get(f"/compliance/packages/{package.pk}/download/").status_code == 403


# --- a real worker ----------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_package(worker_queue, auditor, security):
    # A transactional test flushes the tables, shipped catalogues included: load them again
    # (idempotent), so this test does not depend on which tests ran before it.
    load_frameworks()
    load_controls()
    AgentFactory()
    _upload(security, "AGC-05", "log-review.txt", b"reviewed the decision log")
    package = EvidencePackage.objects.create(
        framework=Framework.objects.get(key=NIST),
        period_from=period_parse(None, None).start,
        period_to=period_parse(None, None).end,
        requested_by=auditor,
    )
    result = build_evidence_package.apply_async((package.pk,), queue=worker_queue)
    assert result.get(timeout=120) == PackageStatus.READY
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        package.refresh_from_db()
        if package.status == PackageStatus.READY:
            break
        time.sleep(0.2)
    manifest = _verify(package)
    assert any(entry["control"] == "AGC-05" for entry in manifest["files"] if "control" in entry)
