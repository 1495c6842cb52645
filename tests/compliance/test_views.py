import datetime
import hashlib
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controls.models import Control, EvidenceFile, FrameworkItem, Mapping
from registry.models import Team
from tests.compliance.factories import (
    ControlFactory,
    EvidenceFileFactory,
    FrameworkItemFactory,
    MappingFactory,
)

pytestmark = pytest.mark.django_db

HUMANS = ["engineer", "security", "auditor"]
NIST = "nist-ai-rmf-1.0"
PAGES = [
    "/compliance/",
    f"/compliance/{NIST}/",
    "/compliance/csa-maestro/",
    "/compliance/controls/",
    "/compliance/controls/AGC-03/",
    "/compliance/crosswalk/",
    "/compliance/crosswalk/?a=csa-maestro&b=owasp-agentic-threats-t1-t15",
]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", HUMANS)
def test_pages_render_for_every_human_role(client, role_users, role, url):
    client.force_login(role_users[role])
    response = client.get(url)
    assert response.status_code == 200
    forms_shown = b'aria-label="Edit control"' in response.content or b"Create control" in (
        response.content
    )
    assert forms_shown == (role == "security" and "controls/" in url)


@pytest.mark.parametrize("role", HUMANS)
def test_a_framework_page_links_its_audit_report_for_those_who_may_read_it(
    client, role_users, role
):
    """Compliance puts the link there (controls.framework_links); the catalogue never names
    the report's page."""
    client.force_login(role_users[role])
    page = client.get(f"/compliance/{NIST}/").content.decode()
    link = f'<a class="button primary" href="/compliance/{NIST}/report/">Audit report</a>'
    assert (link in page) == (role in ("security", "auditor"))
    if role == "engineer":
        assert client.get(f"/compliance/{NIST}/report/").status_code == 403


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", ["gateway", "norole"])
def test_pages_refuse_machines_and_roleless_users_with_a_message(client, role_users, role, url):
    client.force_login(role_users[role])
    response = client.get(url)
    assert response.status_code == 403
    # The gateway is API-only: its session opens no page at all (kernel.middleware).
    expected = b"API only" if role == "gateway" else b"Your role may not read compliance data."
    assert expected in response.content


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/compliance/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "url",
    [
        "/compliance/iso-42001/",
        "/compliance/controls/AGC-99/",
        "/compliance/crosswalk/?a=iso-42001&b=nist-ai-rmf-1.0",
    ],
)
def test_unknown_framework_or_control_is_404(client, auditor, url):
    client.force_login(auditor)
    response = client.get(url)
    assert response.status_code == 404


def test_index_shows_coverage_for_each_framework(client, engineer):
    client.force_login(engineer)
    response = client.get("/compliance/")
    assert b"80.0%" in response.content  # OWASP ASI: 8 of 10 items covered
    assert response.context["frameworks"][0].items_total


def test_matrix_highlights_gaps(client, auditor):
    client.force_login(auditor)
    response = client.get("/compliance/owasp-agentic-top10-2026/")
    matrix = response.context["matrix"]
    assert [row.item.ref_id for row in matrix.rows if row.is_gap] == ["ASI06", "ASI07"]
    assert matrix.gaps == 2
    assert b'data-ref-id="ASI06" class="diff-removed gap"' in response.content


def test_maestro_items_are_labelled_without_repeating_the_threat_name():
    item = FrameworkItem.objects.get(framework__key="csa-maestro", ref_id="Layer 7 / Repudiation")
    assert item.label == "Layer 7 / Repudiation"
    layer = FrameworkItem.objects.get(framework__key="csa-maestro", ref_id="Layer 7")
    assert layer.label == "Layer 7 — Agent Ecosystem"


def test_matrix_shows_nist_hierarchy_depth(client, auditor):
    client.force_login(auditor)
    rows = {r.item.ref_id: r for r in client.get(f"/compliance/{NIST}/").context["matrix"].rows}
    assert (rows["GOVERN"].depth, rows["GOVERN 1"].depth, rows["GOVERN 1.1"].depth) == (0, 1, 2)
    assert not rows["GOVERN 1.6"].is_gap
    # A container is no gap when something under it is covered; an unmapped branch is.
    assert (rows["GOVERN"].covered, rows["GOVERN"].is_gap) == (False, False)
    assert rows["MEASURE 2"].covered_below
    assert rows["MEASURE 2.11"].is_gap
    assert rows["MAP 5"].is_gap
    assert rows["MAP 5.1"].is_gap


def test_crosswalk_defaults_to_owasp_asi_against_nist(client, engineer):
    client.force_login(engineer)
    response = client.get("/compliance/crosswalk/")
    assert (response.context["a"].key, response.context["b"].key) == (
        "owasp-agentic-top10-2026",
        NIST,
    )
    rows = {row.item.ref_id: row for row in response.context["rows"]}
    asi03 = {match.item.ref_id: match for match in rows["ASI03"].matches}
    # JIT access (AGC-03) and short-lived credentials (AGC-11) are mapped to both ASI03 and
    # MANAGE 2.4.
    assert [c.ref_id for c in asi03["MANAGE 2.4"].controls] == ["AGC-03", "AGC-11"]
    assert "ASI06" not in rows


def test_security_creates_a_control(client, security):
    Team.objects.create(slug="platform-security", name="Platform security")
    client.force_login(security)
    response = client.post(
        "/compliance/controls/",
        {
            "ref_id": "AGC-12",
            "title": "Secrets rotation",
            "description": "Rotate secrets agents touched.",
            "owner_team": "platform-security",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/compliance/controls/AGC-12/"
    assert Control.objects.get(ref_id="AGC-12").owner_team.slug == "platform-security"


def test_duplicate_control_is_shown_on_the_form(client, security):
    client.force_login(security)
    response = client.post("/compliance/controls/", {"ref_id": "AGC-01", "title": "Again"})
    assert response.status_code == 400
    assert b"Control AGC-01 already exists." in response.content


def test_security_edits_a_control(client, security):
    client.force_login(security)
    response = client.post(
        "/compliance/controls/AGC-01/edit/",
        {"title": "Central policy authority", "description": "New words."},
    )
    assert response.status_code == 302
    control = Control.objects.get(ref_id="AGC-01")
    assert (control.title, control.active) == ("Central policy authority", False)


def test_security_adds_edits_and_removes_a_mapping(client, security):
    client.force_login(security)
    item = FrameworkItem.objects.get(framework__key=NIST, ref_id="GOVERN 2.3")
    response = client.post(
        "/compliance/controls/AGC-01/mappings/",
        {
            "item": item.pk,
            "relationship": "intersects",
            "strength": "3",
            "rationale": "Leadership signs off policy.",
        },
    )
    assert response.status_code == 302
    mapping = Mapping.objects.get(control__ref_id="AGC-01", item=item)
    response = client.post(
        f"/compliance/controls/AGC-01/mappings/{mapping.pk}/edit/",
        {"relationship": "subset", "strength": "6", "rationale": "Signs off and owns."},
    )
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert (mapping.relationship, mapping.strength) == ("subset", 6)
    response = client.post(f"/compliance/controls/AGC-01/mappings/{mapping.pk}/delete/")
    assert response.status_code == 302
    assert not Mapping.objects.filter(pk=mapping.pk).exists()


def test_bad_mapping_form_says_why_and_changes_nothing(client, security):
    client.force_login(security)
    mapping = Mapping.objects.filter(control__ref_id="AGC-01").first()
    response = client.post(
        f"/compliance/controls/AGC-01/mappings/{mapping.pk}/edit/",
        {"relationship": "subset", "strength": "11", "rationale": "x"},
    )
    assert response.status_code == 400
    assert b"strength" in response.content
    item = Mapping.objects.get(control__ref_id="AGC-03", item__ref_id="ASI03").item
    response = client.post(
        "/compliance/controls/AGC-03/mappings/",
        {"item": item.pk, "relationship": "equal", "strength": "5", "rationale": "again"},
    )
    assert response.status_code == 400
    assert b"already mapped" in response.content
    assert Mapping.objects.get(pk=mapping.pk).strength == mapping.strength


def test_a_mapping_of_another_control_is_404(client, security):
    client.force_login(security)
    other = Mapping.objects.filter(control__ref_id="AGC-02").first()
    response = client.post(f"/compliance/controls/AGC-01/mappings/{other.pk}/delete/")
    assert response.status_code == 404
    assert Mapping.objects.filter(pk=other.pk).exists()


def test_security_uploads_evidence_and_auditor_downloads_it(client, security, auditor, engineer):
    content = b"agent,attested_at\npayments-fixer,2025-09-01\n"
    client.force_login(security)
    response = client.post(
        "/compliance/controls/AGC-09/evidence/",
        {
            "file": SimpleUploadedFile("attestations.csv", content),
            "effective_on": timezone.localdate().isoformat(),
            "description": "Attestation export",
        },
    )
    assert response.status_code == 302
    evidence = EvidenceFile.objects.get()
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    detail = client.get("/compliance/controls/AGC-09/")
    assert evidence.sha256.encode() in detail.content

    client.force_login(auditor)
    download = client.get(f"/compliance/evidence/{evidence.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content

    client.force_login(engineer)
    assert client.get(f"/compliance/evidence/{evidence.pk}/download/").status_code == 403


WRITE_POSTS = [
    ("/compliance/controls/", {"ref_id": "AGC-12", "title": "x"}),
    ("/compliance/controls/AGC-01/edit/", {"title": "x"}),
    ("/compliance/controls/AGC-01/mappings/", {"item": "1"}),
    ("/compliance/controls/AGC-01/mappings/{pk}/edit/", {"strength": "1"}),
    ("/compliance/controls/AGC-01/mappings/{pk}/delete/", {}),
    ("/compliance/controls/AGC-01/evidence/", {}),
]


@pytest.mark.parametrize(("url", "data"), WRITE_POSTS)
@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway"])
def test_forms_refuse_everyone_but_security(client, role_users, role, url, data):
    pk = Mapping.objects.filter(control__ref_id="AGC-01").first().pk
    before = (list(Control.objects.values()), list(Mapping.objects.values()))
    client.force_login(role_users[role])
    response = client.post(url.format(pk=pk), data)
    assert response.status_code == 403
    expected = b"API only" if role == "gateway" else b"Only security edits controls"
    assert expected in response.content
    assert (list(Control.objects.values()), list(Mapping.objects.values())) == before


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/compliance/",
        f"/compliance/{NIST}/",
        "/compliance/controls/",
        "/compliance/controls/AGC-02/",
        f"/compliance/crosswalk/?a={NIST}&b=csa-maestro",
    ],
)
@pytest.mark.parametrize("role", ["auditor", "security"])
def test_pages_use_a_constant_number_of_queries(
    client, role_users, role, url, django_assert_num_queries
):
    client.force_login(role_users[role])
    few = count_queries(client, url)
    maestro_item = FrameworkItem.objects.get(framework__key="csa-maestro", ref_id="Layer 6")
    for _ in range(30):
        control = ControlFactory()
        MappingFactory(control=control, item=FrameworkItemFactory(framework__key=NIST))
        MappingFactory(control=control, item=maestro_item)
        MappingFactory(control=Control.objects.get(ref_id="AGC-02"))
    with django_assert_num_queries(few):
        client.get(url)


def test_control_detail_path_accepts_quoted_ref_id(client, auditor):
    client.force_login(auditor)
    assert client.get(f"/compliance/controls/{quote('AGC-01')}/").status_code == 200


def test_a_missing_evidence_file_is_a_404_that_says_so(client, auditor):
    evidence = EvidenceFileFactory()
    evidence.file.delete(save=False)
    client.force_login(auditor)
    response = client.get(f"/compliance/evidence/{evidence.pk}/download/")
    assert response.status_code == 404
    assert b"is missing" in response.content


def test_removing_a_mapping_asks_first_and_says_what_changes(client, security):
    client.force_login(security)
    mapping = Mapping.objects.filter(control__ref_id="AGC-01").select_related("item").first()
    url = f"/compliance/controls/AGC-01/mappings/{mapping.pk}/delete/"
    confirm = client.get(url).content.decode()
    assert f"stops counting as evidence for {mapping.item.ref_id}" in confirm
    assert Mapping.objects.filter(pk=mapping.pk).exists()
    response = client.post(url, follow=True)
    assert f"Mapping to {mapping.item.ref_id} removed." in response.content.decode()
    assert not Mapping.objects.filter(pk=mapping.pk).exists()


@pytest.mark.parametrize(
    ("period", "field", "words"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "from", "'from' (2026-03-10) is after 'to'"),
        ({"from": "2026-03-01", "to": "2999-01-01"}, "to", "'to' (2999-01-01) is in the future"),
    ],
)
def test_a_bad_report_period_is_said_on_the_period_form(client, auditor, period, field, words):
    client.force_login(auditor)
    url = f"/compliance/{NIST}/report/"
    shown = client.get(url).content.decode()
    assert 'min="2000-01-01"' in shown
    tomorrow = timezone.now().date() + datetime.timedelta(days=1)
    assert f'max="{tomorrow.isoformat()}"' in shown
    response = client.get(url, period)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Back to the dashboard" not in page
    form = page[page.index('aria-label="Report period"') :]
    field_html = form[form.index(f'name="{field}"') :].split("</div>")[0]
    assert 'aria-invalid="true"' in field_html
    assert words in field_html.replace("&#x27;", "'")
    assert f'value="{period["from"]}"' in form
    assert f'value="{period["to"]}"' in form
