"""The applicability statement over HTTP: the item page and its form (HTML), the API, every
role, bad input, and what the framework page, /compliance/ and the crosswalk then show."""

from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controls import services
from controls.models import FrameworkItem, ItemApplicability

pytestmark = pytest.mark.django_db

CSF = "nist-csf-2.0"
PAGE = f"/compliance/{CSF}/items/PR.AA-06/applicability/"
API = f"/api/v1/frameworks/{CSF}/items/PR.AA-06/applicability/"
WHY = "Physical access to facilities is the workplace team's, outside the portal's scope."
REFUSAL = (
    b"Only security edits controls and their mappings, marks framework items not applicable, "
    b"or uploads evidence."
)


def mark_not_applicable(actor, ref_id="PR.AA-06", rationale=WHY, key=CSF):
    item = FrameworkItem.objects.get(framework__key=key, ref_id=ref_id)
    return services.applicability_set(actor=actor, item=item, applicable=False, rationale=rationale)


# --- HTML -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway", "norole"])
def test_only_security_may_post_the_form(client, role_users, role):
    client.force_login(role_users[role])
    response = client.post(PAGE, {"applicable": "no", "rationale": WHY})
    assert response.status_code == 403
    # The gateway is API-only: its session opens no page at all (kernel.middleware).
    assert (b"API only" if role == "gateway" else REFUSAL) in response.content
    assert not ItemApplicability.objects.exists()


def test_security_marks_an_item_not_applicable_and_sees_the_version(client, security):
    client.force_login(security)
    response = client.post(PAGE, {"applicable": "no", "rationale": WHY}, follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    body = response.content.decode()
    assert "PR.AA-06 is not applicable: version 1 of the nist-csf-2.0 applicability" in body
    assert "not applicable</span> since version 1" in body
    assert WHY.replace("'", "&#x27;") in body
    row = ItemApplicability.objects.get()
    assert (row.item.ref_id, row.applicable, row.decided_by) == ("PR.AA-06", False, security)


def test_security_makes_it_applicable_again(client, security):
    mark_not_applicable(security)
    client.force_login(security)
    page = client.get(PAGE).content.decode()
    assert "Make applicable again" in page
    client.post(PAGE, {"applicable": "yes", "rationale": "Agent hosts' racks are ours now."})
    assert ItemApplicability.objects.filter(current=True).get().applicable


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"applicable": "no", "rationale": ""}, b"Give a rationale: why is PR.AA-06 out of"),
        ({"applicable": "no"}, b"Give a rationale"),
        ({"applicable": "maybe", "rationale": WHY}, b"The applicability was not changed"),
        ({"applicable": "yes", "rationale": WHY}, b"already applicable"),
    ],
)
def test_bad_input_is_a_400_that_says_why_and_changes_nothing(client, security, data, message):
    client.force_login(security)
    response = client.post(PAGE, data)
    assert response.status_code == 400
    assert message in response.content
    assert not ItemApplicability.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        f"/compliance/{CSF}/items/PR.AA-99/applicability/",
        "/compliance/iso-42001/items/PR.AA-06/applicability/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_item_or_framework_is_a_404(client, security, url, method):
    client.force_login(security)
    response = getattr(client, method)(url, {"applicable": "no", "rationale": WHY})
    assert response.status_code == 404
    assert not ItemApplicability.objects.exists()


def test_an_item_whose_ref_id_has_a_slash_and_spaces(client, security):
    client.force_login(security)
    url = f"/compliance/csa-maestro/items/{quote('Layer 7 / Agent Tool Misuse')}/applicability/"
    response = client.post(url, {"applicable": "no", "rationale": "No tool marketplace here."})
    assert response.status_code == 302
    assert ItemApplicability.objects.get().item.ref_id == "Layer 7 / Agent Tool Misuse"


def test_auditors_read_the_item_page_and_its_history_without_a_form(client, security, auditor):
    mark_not_applicable(security)
    client.force_login(auditor)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.context["form"] is None
    assert b"Save a new version" not in response.content
    history = response.context["history"]
    assert [(v.version, v.decided_by.username) for v in history] == [(1, security.username)]


def test_the_framework_page_shows_the_statement_and_its_history(client, security, auditor):
    mark_not_applicable(security)
    mark_not_applicable(security, "RC.CO-04", "Public incident updates are corporate comms'.")
    client.force_login(auditor)
    response = client.get(f"/compliance/{CSF}/")
    body = response.content.decode()
    assert '<span class="badge" data-testid="statement-version">version 2</span>' in body
    assert 'data-testid="not-applicable-count">2</strong> of 134 items not applicable' in body
    assert "23 of 132 applicable items" in body
    rows = {row.item.ref_id: row for row in response.context["matrix"].rows}
    assert rows["PR.AA-06"].not_applicable.rationale == WHY
    assert [v.item.ref_id for v in response.context["history"]] == ["RC.CO-04", "PR.AA-06"]
    assert f"UTC by {security.username}" in body


def test_compliance_lists_csf_with_its_coverage_and_the_ai_frameworks_it_shares_with(
    client, security, auditor
):
    mark_not_applicable(security)
    client.force_login(auditor)
    response = client.get("/compliance/")
    csf = next(f for f in response.context["frameworks"] if f.key == CSF)
    assert (csf.items_total, csf.items_not_applicable, csf.items_covered) == (134, 1, 23)
    assert csf.coverage == round(100 * 23 / 133, 1)
    assert {other.key for other in csf.shared} == {
        "owasp-agentic-top10-2026",
        "nist-ai-rmf-1.0",
        "csa-maestro",
        "owasp-agentic-threats-t1-t15",
    }
    assert f"?a={CSF}&amp;b=nist-ai-rmf-1.0" in response.content.decode()


def test_the_crosswalk_lists_what_is_not_applicable(client, security, auditor):
    mark_not_applicable(security, "PR.PS-04", "Decision logs are monitored by the SOC's SIEM.")
    client.force_login(auditor)
    response = client.get(f"/compliance/crosswalk/?a={CSF}&b=nist-ai-rmf-1.0")
    body = response.content.decode()
    assert "Not applicable in The NIST Cybersecurity Framework (CSF) 2.0" in body
    assert "Decision logs are monitored by the SOC&#x27;s SIEM." in body
    row = next(row for row in response.context["rows"] if row.item.ref_id == "PR.PS-04")
    assert not row.shared


def test_the_framework_page_query_count_does_not_grow_with_the_statement(client, security):
    client.force_login(security)
    url = f"/compliance/{CSF}/"
    mark_not_applicable(security)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for ref in ("GV.OC-01", "GV.OC-02", "GV.OC-03", "RC.RP-01", "RC.RP-02", "RC.CO-03"):
        mark_not_applicable(security, ref, "Out of scope.")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("engineer", 403), ("auditor", 403), ("gateway", 403), ("norole", 403), (None, 401)],
)
def test_api_refuses_everyone_but_security(api, role_users, role, status):
    response = api.as_user(role_users.get(role)).post(
        API, {"applicable": False, "rationale": WHY}, format="json"
    )
    assert response.status_code == status
    if role in ("engineer", "auditor"):
        assert response.json()["detail"] == REFUSAL.decode()
    assert not ItemApplicability.objects.exists()


def test_api_security_marks_and_everyone_reads(api, security, auditor):
    created = api.as_user(security).post(
        API, {"applicable": False, "rationale": WHY}, format="json"
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["framework"], body["ref_id"], body["applicable"]) == (CSF, "PR.AA-06", False)
    assert body["current"]["version"] == 1
    assert body["current"]["decided_by"] == security.username
    again = api.as_user(security).post(
        API, {"applicable": True, "rationale": "Back in scope."}, format="json"
    )
    assert again.json()["applicable"] is True
    read = api.as_user(auditor).get(API).json()
    assert [(v["version"], v["applicable"]) for v in read["history"]] == [(2, True), (1, False)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"applicable": False}, "rationale"),
        ({"applicable": False, "rationale": "  "}, "rationale"),
        ({"rationale": WHY}, "applicable"),
        ({"applicable": "sometimes", "rationale": WHY}, "applicable"),
        ({"applicable": False, "rationale": WHY, "reason": "x"}, "non_field_errors"),
    ],
)
def test_api_bad_input_is_a_400_naming_the_field(api, security, body, field):
    response = api.as_user(security).post(API, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ItemApplicability.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/frameworks/{CSF}/items/PR.AA-99/applicability/",
        "/api/v1/frameworks/iso-42001/items/PR.AA-06/applicability/",
    ],
)
def test_api_unknown_item_or_framework_is_a_404(api, security, url):
    response = api.as_user(security).post(
        url, {"applicable": False, "rationale": WHY}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["detail"]


def all_items(client, key):
    page = client.get(f"/api/v1/frameworks/{key}/items/", {"kind": "subcategory"}).json()
    yield from page["results"]
    while page["next"]:
        page = client.get(page["next"]).json()
        yield from page["results"]


def test_api_frameworks_report_coverage_of_applicable_items(api, security, auditor):
    mark_not_applicable(security)
    client = api.as_user(auditor)
    listed = {f["key"]: f for f in client.get("/api/v1/frameworks/").json()["results"]}
    assert {
        k: listed[CSF][k] for k in ("items_count", "items_not_applicable", "items_covered")
    } == {
        "items_count": 134,
        "items_not_applicable": 1,
        "items_covered": 23,
    }
    assert listed[CSF]["coverage"] == round(100 * 23 / 133, 1)
    detail = client.get(f"/api/v1/frameworks/{CSF}/").json()
    assert detail["applicability"]["version"] == 1
    assert detail["applicability"]["not_applicable"][0]["rationale"] == WHY
    assert "nist-ai-rmf-1.0" in {other["key"] for other in detail["shares_controls_with"]}
    pr_aa_06 = next(i for i in all_items(client, CSF) if i["ref_id"] == "PR.AA-06")
    assert (pr_aa_06["applicable"], pr_aa_06["not_applicable"]["version"]) == (False, 1)
    history = client.get(f"/api/v1/frameworks/{CSF}/applicability-history/").json()
    assert [v["ref_id"] for v in history["results"]] == ["PR.AA-06"]


def test_auditors_find_each_change_in_the_audit_trail(api, security, auditor):
    for body in ({"applicable": False, "rationale": WHY}, {"applicable": True, "rationale": "In."}):
        assert api.as_user(security).post(API, body, format="json").status_code == 201
    trail = api.as_user(auditor).get(
        "/api/v1/audit-events/", {"object_type": "controls.itemapplicability"}
    )
    events = trail.json()["results"]
    assert [(e["action"], e["actor"]) for e in events] == [("create", "sec1")] * 2
    assert [e["changes"]["rationale"][1] for e in events] == ["In.", WHY]
