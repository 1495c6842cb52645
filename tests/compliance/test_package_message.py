"""What the person who asked for an evidence package is told: "built" when it was built while
they waited (the embedded default: no broker, tasks in-process), "building in the background"
when a worker builds it later; the same words on the page and to package-status.js."""

import pytest

from compliance import packages
from compliance.models import EvidencePackage, PackageStatus
from compliance.period import period_parse
from controls.catalogue import load_controls, load_frameworks
from kernel import outbox

NIST = "nist-ai-rmf-1.0"
URL = f"/compliance/{NIST}/report/package/"
JSON = {"HTTP_ACCEPT": "application/json"}


def _period() -> dict[str, str]:
    period = period_parse(None, None)
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


@pytest.fixture
def committing(transactional_db, settings, tmp_path):
    """Requests commit for real, so what runs after commit (the outbox) runs as in production.
    A transactional test starts from empty tables: the shipped catalogues are loaded again."""
    settings.MEDIA_ROOT = tmp_path / "media"
    load_frameworks()
    load_controls()


@pytest.fixture
def worker_later(monkeypatch):
    """A broker is configured: after commit the outbox only nudges it; a worker builds later."""
    monkeypatch.setattr(outbox, "nudge", lambda: None)


def test_built_in_process_says_built(client, auditor, committing):
    client.force_login(auditor)
    response = client.post(URL, _period(), follow=True)
    package = EvidencePackage.objects.get()
    assert package.status == PackageStatus.READY
    page = response.content.decode()
    assert f"Evidence package #{package.pk} built: download it below" in page
    assert "in the background" not in page
    assert 'data-testid="package-download"' in page


def test_built_later_says_building_in_the_background(client, auditor, committing, worker_later):
    client.force_login(auditor)
    response = client.post(URL, _period(), follow=True)
    package = EvidencePackage.objects.get()
    assert package.status == PackageStatus.PENDING
    page = response.content.decode()
    assert (
        f"Evidence package #{package.pk} is building in the background; this page updates "
        "when it is ready." in page
    )
    assert " built:" not in page
    # The row polls for its status (package-status.js), and the worker's build shows there.
    assert f'data-package="{package.pk}"' in page
    assert 'data-status="pending"' in page
    outbox.dispatch_due()  # the worker
    status = client.get(f"/compliance/packages/{package.pk}/").json()
    assert (status["status"], status["progress"]) == ("ready", 100)
    assert status["download_url"].endswith(f"/compliance/packages/{package.pk}/download/")


def test_the_script_gets_the_same_words_as_json(client, auditor, committing, worker_later):
    client.force_login(auditor)
    waiting = client.post(URL, _period(), **JSON)
    assert waiting.status_code == 200
    body = waiting.json()
    assert body["status"] == "pending"
    assert body["level_tag"] == "info"
    assert "building in the background; this page updates" in body["message"]
    assert body["status_url"] == f"/compliance/packages/{body['id']}/"
    # Asking again while it is in the works returns the same package, with the same words.
    again = client.post(URL, _period(), **JSON).json()
    assert again["id"] == body["id"]
    assert "building in the background" in again["message"]


def test_the_script_is_told_built_when_it_was(client, auditor, committing):
    client.force_login(auditor)
    body = client.post(URL, _period(), **JSON).json()
    assert (body["status"], body["level_tag"]) == ("ready", "success")
    assert body["message"].startswith(f"Evidence package #{body['id']} built")
    assert body["download_url"]


def test_a_failed_build_says_so(client, auditor, committing, monkeypatch):
    def broken(package, handle):
        raise OSError("disk full")

    monkeypatch.setattr(packages, "_write_zip", broken)
    client.force_login(auditor)
    body = client.post(URL, _period(), **JSON).json()
    assert (body["status"], body["level_tag"]) == ("failed", "error")
    assert "could not be built: OSError: disk full" in body["message"]
    page = client.post(URL, _period(), follow=True).content.decode()
    assert "could not be built" in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["engineer", "gateway", "norole"])
def test_others_may_not_ask(client, role_users, role):
    client.force_login(role_users[role])
    assert client.post(URL, _period(), **JSON).status_code == 403
    assert not EvidencePackage.objects.exists()
