"""Control owners: security names a security member (and/or a team) who answers for each
control, on the control page and through the API; everyone who reads compliance sees who,
on the control list and page and in every report format."""

import csv
import io
import json

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controls.models import Control
from registry.models import Team

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
EDIT = "/compliance/controls/AGC-05/edit/"
API = "/api/v1/controls/AGC-05/"


def _form(owner: str = "", team: str = "") -> dict[str, str]:
    control = Control.objects.get(ref_id="AGC-05")
    return {
        "title": control.title,
        "description": control.description,
        "owner": owner,
        "owner_team": team,
        "active": "on",
    }


@pytest.fixture
def team():
    return Team.objects.create(slug="platform-security", name="Platform security")


# --- who may set it ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["engineer", "auditor", "norole"])
def test_only_security_sets_owners_on_the_page(client, role_users, role, security):
    client.force_login(role_users[role])
    response = client.post(EDIT, _form(owner=security.username))
    assert response.status_code == 403
    assert "Only security edits controls" in response.content.decode()
    assert Control.objects.get(ref_id="AGC-05").owner is None
    # The page they read shows no form to change it.
    page = client.get("/compliance/controls/AGC-05/")
    if role == "norole":
        assert page.status_code == 403
    else:
        assert 'aria-label="Edit control"' not in page.content.decode()
        assert "Change the owner" not in page.content.decode()


@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway", "norole"])
def test_only_security_sets_owners_through_the_api(api, role_users, role, security):
    response = api.as_user(role_users[role]).patch(API, {"owner": security.username}, "json")
    assert response.status_code == 403
    assert Control.objects.get(ref_id="AGC-05").owner is None


def test_security_sets_the_owner_and_team_on_the_page(client, security, second_security, team):
    client.force_login(security)
    page = client.get("/compliance/controls/AGC-05/").content.decode()
    assert f'<option value="{second_security.username}">' in page
    assert page.count('id="id_description"') == 1  # the evidence form has its own ids
    response = client.post(EDIT, _form(owner=second_security.username, team=team.slug))
    assert response.status_code == 302
    control = Control.objects.get(ref_id="AGC-05")
    assert (control.owner, control.owner_team) == (second_security, team)
    detail = client.get("/compliance/controls/AGC-05/").content.decode()
    assert second_security.username in detail
    assert "team Platform security" in detail
    # The change is in the audit trail, by whom.
    entry = LogEntry.objects.get_for_object(control).order_by("-timestamp").first()
    assert entry.actor == security
    assert "owner" in entry.changes_dict
    # Clearing it is a choice too.
    client.post(EDIT, _form())
    assert Control.objects.get(ref_id="AGC-05").owner is None


def test_security_sets_the_owner_through_the_api(api, security, second_security):
    client = api.as_user(security)
    response = client.patch(API, {"owner": second_security.username}, format="json")
    assert response.status_code == 200
    assert response.json()["owner"] == second_security.username
    created = client.post(
        "/api/v1/controls/",
        {"ref_id": "AGC-40", "title": "Key rotation", "owner": security.username},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["owner"] == security.username
    listed = {c["ref_id"]: c for c in client.get("/api/v1/controls/").json()["results"]}
    assert listed["AGC-05"]["owner"] == second_security.username
    assert listed["AGC-01"]["owner"] is None
    cleared = client.patch(API, {"owner": None}, format="json")
    assert cleared.json()["owner"] is None


@pytest.mark.parametrize(
    ("who", "words"),
    [
        ("engineer", "is not in security: a control's owner must be a security member"),
        ("auditor", "is not in security"),
        ("nobody-here", "No user 'nobody-here'."),
    ],
)
def test_an_owner_outside_security_is_refused(api, role_users, security, who, words):
    username = role_users[who].username if who in role_users else who
    response = api.as_user(security).patch(API, {"owner": username}, format="json")
    assert response.status_code == 400
    assert words in json.dumps(response.json())
    assert Control.objects.get(ref_id="AGC-05").owner is None


def test_a_departed_security_member_cannot_become_owner(api, security, second_security):
    second_security.is_active = False
    second_security.save()
    response = api.as_user(security).patch(API, {"owner": second_security.username}, format="json")
    assert response.status_code == 400
    assert "is not in security" in response.json()["detail"]


def test_the_page_refuses_an_engineer_as_owner(client, security, engineer):
    client.force_login(security)
    response = client.post(EDIT, _form(owner=engineer.username))
    assert response.status_code == 400
    assert "owner" in response.content.decode()
    assert Control.objects.get(ref_id="AGC-05").owner is None


# --- where it shows ---------------------------------------------------------------------


@pytest.fixture
def owned(security, team):
    Control.objects.filter(ref_id="AGC-05").update(owner=security, owner_team=team)
    Control.objects.filter(ref_id="AGC-07").update(owner_team=team)
    return security


def test_owners_show_on_the_control_list_and_page(client, engineer, owned):
    client.force_login(engineer)
    listing = client.get("/compliance/controls/").content.decode()
    assert "Owner</th>" in listing
    name = owned.get_full_name() or owned.username
    assert name in listing
    assert "team Platform security" in listing
    assert "No owner" in listing  # the others say so, rather than a dash
    assert "<td>—</td>" not in listing
    detail = client.get("/compliance/controls/AGC-07/").content.decode()
    assert "team Platform security" in detail


def test_owners_show_in_every_report_format(client, auditor, owned):
    client.force_login(auditor)
    page = client.get(f"/compliance/{NIST}/report/").content.decode()
    card = page[page.index('id="control-AGC-05"') :]
    card = card[: card.index("</article>")]
    assert owned.username in card
    assert "team Platform security" in card
    data = client.get(f"/compliance/{NIST}/report/json/").json()
    controls = {c["ref_id"]: c for c in data["controls"]}
    assert (controls["AGC-05"]["owner"], controls["AGC-05"]["owner_team"]) == (
        owned.username,
        "platform-security",
    )
    assert controls["AGC-01"]["owner"] is None
    response = client.get(f"/compliance/{NIST}/report/csv/")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    agc05 = next(row for row in rows if row["control_ref_id"] == "AGC-05")
    assert owned.username in agc05["control_owner"]
    records = client.get(f"/compliance/{NIST}/report/controls/AGC-05/").content.decode()
    assert "team Platform security" in records


def test_owners_cost_no_query_per_control(client, auditor, security, team):
    client.force_login(auditor)
    pages = ("/compliance/controls/", f"/compliance/{NIST}/report/")
    for url in pages:
        client.get(url)
    before = {url: _count(client, url) for url in pages}
    Control.objects.update(owner=security, owner_team=team)
    assert {url: _count(client, url) for url in pages} == before


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)
