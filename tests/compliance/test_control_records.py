"""Every record a control checked: the drill-down page (paginated, by period), its CSV, the
records export and the API; a few samples in the report, the whole population here."""

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance import package_requests
from compliance.collectors.base import SAMPLE_SIZE
from compliance.period import period_parse
from compliance.tasks import build_evidence_package
from controls.models import Control, Framework, FrameworkItem
from decisions.models import Activity, ReviewStatus
from tests.compliance.factories import ControlFactory, MappingFactory
from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
PAGE = f"/compliance/{NIST}/report/controls/AGC-10/"
API = f"/api/v1/reports/{NIST}/controls/AGC-10/records/"
WAITING, SEEN, OLD = 8, 60, 5  # waiting > SAMPLE_SIZE, and more than a page in all


def _activities(reporter, n: int, *, days_ago: int = 0, waiting: bool = False) -> list[int]:
    agent = AgentFactory()
    at = timezone.now() - timedelta(days=days_ago, minutes=1)
    rows = Activity.objects.bulk_create(
        Activity(
            agent=agent,
            agent_slug=agent.slug,
            capability_key="github:read",
            outcome="success",
            occurred_at=at - timedelta(seconds=i),
            reported_by=reporter,
            flagged=waiting,
            review_status=ReviewStatus.PENDING if waiting else ReviewStatus.NOT_NEEDED,
        )
        for i in range(n)
    )
    return [row.pk for row in rows]


@pytest.fixture
def drift(gateway):
    """AGC-10: actions awaiting review (failing), actions not flagged (passing), and some
    before the default 30-day period."""
    return {
        "waiting": _activities(gateway, WAITING, waiting=True),
        "seen": _activities(gateway, SEEN),
        "old": _activities(gateway, OLD, days_ago=45, waiting=True),
    }


def _records(body: str) -> list[tuple[str, str]]:
    """(record, failed) for each row of the records table, in order."""
    return re.findall(r'data-record="activity:(\d+)" data-failed="(true|false)"', body)


def test_the_page_lists_every_record_across_pages_failing_first(client, auditor, drift):
    client.force_login(auditor)
    first = client.get(PAGE)
    assert first.status_code == 200
    body = first.content.decode()
    assert "Checked <strong>68</strong>, failed <strong>8</strong>" in body
    assert "Page 1 of 2" in body
    rows = _records(body)
    assert len(rows) == 50
    assert [failed for _, failed in rows[:WAITING]] == ["true"] * WAITING
    assert {failed for _, failed in rows[WAITING:]} == {"false"}
    second = client.get(PAGE, {"page": 2}).content.decode()
    rows += _records(second)
    assert "Page 2 of 2" in second
    listed = [int(pk) for pk, _ in rows]
    assert len(listed) == len(set(listed)) == WAITING + SEEN > SAMPLE_SIZE
    assert set(listed) == set(drift["waiting"] + drift["seen"])
    # The report itself keeps a few samples and links here.
    report = client.get(f"/compliance/{NIST}/report/").content.decode()
    assert "All 68 checked records of AGC-10" in report
    assert "Samples (5 of 68):" in report


def test_the_period_chooses_the_records(client, auditor, drift):
    client.force_login(auditor)
    today = timezone.now().date()
    start = today - timedelta(days=60)
    query = {"from": start.isoformat(), "to": today.isoformat()}
    pages = [client.get(PAGE, {**query, "page": n}).content.decode() for n in (1, 2)]
    listed = {int(pk) for page in pages for pk, _ in _records(page)}
    assert listed == set(drift["waiting"] + drift["seen"] + drift["old"])
    # The pagination links keep the period.
    assert f"from={start.isoformat()}&amp;to={today.isoformat()}&amp;page=2" in pages[0]
    only_old = {"from": (today - timedelta(days=50)).isoformat(), "to": start.isoformat()}
    assert client.get(PAGE, only_old).content.decode().count("data-record=") == 0
    old = client.get(PAGE, {**only_old, "from": (today - timedelta(days=46)).isoformat(),
                            "to": (today - timedelta(days=44)).isoformat()})  # fmt: skip
    assert {int(pk) for pk, _ in _records(old.content.decode())} == set(drift["old"])


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_control_csv_and_the_records_export_hold_every_record(client, auditor, drift):
    client.force_login(auditor)
    response = client.get(f"{PAGE}csv/")
    assert f"{NIST}_" in response["Content-Disposition"]
    assert "_AGC-10_records.csv" in response["Content-Disposition"]
    rows = _csv(response)
    assert {int(row["record_id"]) for row in rows} == set(drift["waiting"] + drift["seen"])
    assert sum(row["fails_check"] == "yes" for row in rows) == WAITING
    assert {row["control_ref_id"] for row in rows} == {"AGC-10"}
    everything = _csv(client.get(f"/compliance/{NIST}/report/records/"))
    agc10 = [row for row in everything if row["control_ref_id"] == "AGC-10"]
    assert len(agc10) == WAITING + SEEN
    # Every control the report judges is there, as many rows as it checked.
    report = client.get(f"/compliance/{NIST}/report/json/").json()
    for control in report["controls"]:
        mine = [row for row in everything if row["control_ref_id"] == control["ref_id"]]
        assert len(mine) == control["checked"], control["ref_id"]
        assert control["records"]["count"] == control["checked"]
    links = next(c for c in report["controls"] if c["ref_id"] == "AGC-10")["records"]
    assert links["page"].startswith(PAGE)
    assert links["csv"].startswith(f"{PAGE}csv/?from=")
    assert links["api"].startswith(API)


def test_the_api_pages_the_records_and_streams_them(api, auditor, drift):
    client = api.as_user(auditor)
    first = client.get(API).json()
    assert first["count"] == WAITING + SEEN
    assert len(first["results"]) == 50
    assert first["results"][0] == {
        "kind": "activity",
        "id": str(first["results"][0]["id"]),
        "label": first["results"][0]["label"],
        "url": first["results"][0]["url"],
        "failed": True,
    }
    second = client.get(first["next"]).json()
    ids = {int(row["id"]) for row in first["results"] + second["results"]}
    assert ids == set(drift["waiting"] + drift["seen"])
    assert second["next"] is None
    rows = _csv(client.get(API, {"format": "csv"}))
    assert len(rows) == WAITING + SEEN


def test_the_evidence_package_holds_every_records_csv(auditor, drift):
    framework = Framework.objects.get(key=NIST)
    package = package_requests.package_request(
        actor=auditor, framework=framework, period=period_parse(None, None)
    )
    build_evidence_package.delay(package.pk)
    package.refresh_from_db()
    with package.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["control"]: entry for entry in manifest["files"] if entry["kind"] == "records"}
    judged = set(
        Control.objects.filter(active=True, mappings__item__framework=framework).values_list(
            "ref_id", flat=True
        )
    )
    assert set(listed) == judged
    data = archive.read("records/AGC-10.csv")
    assert hashlib.sha256(data).hexdigest() == listed["AGC-10"]["sha256"]
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == listed["AGC-10"]["records"] == WAITING + SEEN
    assert {int(row["record_id"]) for row in rows} == set(drift["waiting"] + drift["seen"])


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        (f"{API}?format=xlsx", 400, "use json or csv"),
        (f"{API}?from=2026-02-30", 400, "'from' must be a date"),
        (f"/api/v1/reports/{NIST}/controls/AGC-99/records/", 404, "No active control"),
        ("/api/v1/reports/iso-42001/controls/AGC-10/records/", 404, "No framework"),
        (f"{API}?page=9", 404, "Invalid page"),
    ],
)
def test_api_bad_input_is_a_clear_refusal(api, auditor, url, status, words):
    response = api.as_user(auditor).get(url)
    assert response.status_code == status
    assert words in response.json()["detail"]


@pytest.mark.parametrize("role", ["engineer", "gateway", "norole"])
def test_only_exporters_read_the_records(client, api, role_users, role):
    client.force_login(role_users[role])
    for url in (PAGE, f"{PAGE}csv/", f"/compliance/{NIST}/report/records/"):
        assert client.get(url).status_code == 403
    assert api.as_user(role_users[role]).get(API).status_code == 403


def test_an_inactive_or_unmapped_control_has_no_records_page(client, auditor):
    client.force_login(auditor)
    Control.objects.filter(ref_id="AGC-10").update(active=False)
    response = client.get(PAGE)
    assert response.status_code == 404
    assert "No active control" in response.content.decode()
    assert client.get(f"/compliance/{NIST}/report/controls/NOPE-1/").status_code == 404


def test_a_control_without_collector_says_its_status_rests_on_evidence_files(client, auditor):
    item = FrameworkItem.objects.get(framework__key=NIST, ref_id="GOVERN 1.4")
    control = ControlFactory()
    MappingFactory(control=control, item=item)
    client.force_login(auditor)
    response = client.get(f"/compliance/{NIST}/report/controls/{control.ref_id}/")
    assert response.status_code == 200
    assert "No collector reads the portal" in response.content.decode()
    rows = _csv(client.get(f"/compliance/{NIST}/report/controls/{control.ref_id}/csv/"))
    assert rows == []


def test_bad_periods_are_a_400(client, auditor):
    client.force_login(auditor)
    response = client.get(PAGE, {"from": "2026-03-10", "to": "2026-03-01"})
    assert response.status_code == 400
    assert "is after" in response.content.decode()


def test_a_bad_period_shows_the_records_period_form_again_with_what_was_typed(client, auditor):
    client.force_login(auditor)
    response = client.get(PAGE, {"from": "2026-03-10", "to": "2026-03-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Back to the dashboard" not in page  # its own page, not the error page
    assert "AGC-10" in page.split("</h1>")[0].split("<h1>")[-1]
    assert "No records for that period: change the dates below." in page
    form = page[page.index('aria-label="Report period"') :]
    field = form[form.index('name="from"') :].split("</div>")[0]
    assert 'aria-invalid="true"' in field
    assert "'from' (2026-03-10) is after 'to'" in field.replace("&#x27;", "'")
    assert 'value="2026-03-10"' in form
    assert 'value="2026-03-01"' in form
    assert ">Show records</button>" in form


# --- queries ----------------------------------------------------------------------------


def _queries(client, url: str, **query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query).status_code == 200
    return len(captured)


def test_a_page_costs_the_same_queries_whatever_the_page_and_the_records(
    client, auditor, gateway, drift
):
    client.force_login(auditor)
    client.get(PAGE)  # warm the session
    first, second = _queries(client, PAGE), _queries(client, PAGE, page=2)
    assert first == second
    _activities(gateway, 120, waiting=True)
    _activities(gateway, 120)
    assert _queries(client, PAGE) == first
    assert _queries(client, PAGE, page=5) == first


def test_a_population_of_two_parts_reads_each_part_at_most_once_a_page(
    client, auditor, gateway, drift, django_assert_max_num_queries
):
    """AGC-05: the actions reported (all of the drift fixture), then the decisions (none)."""
    client.force_login(auditor)
    url = f"/compliance/{NIST}/report/controls/AGC-05/"
    client.get(url)
    few = _queries(client, url)
    _activities(gateway, 200)
    with django_assert_max_num_queries(few):
        assert client.get(url, {"page": 3}).status_code == 200
