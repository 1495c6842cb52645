"""The report selector (rollup, hierarchy, query counts) and the report page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.collectors import Status
from compliance.period import Period, period_parse
from compliance.reports.build import NOT_COVERED, report_build, rollup
from controls.models import Control, Framework
from kernel.errors import ApplicationError
from tests.compliance.factories import FrameworkItemFactory, MappingFactory
from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
E, P, N, X, Z = (
    Status.EFFECTIVE,
    Status.PARTIALLY_EFFECTIVE,
    Status.NOT_EFFECTIVE,
    Status.EXCEPTED,
    Status.NO_EVIDENCE,
)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], NOT_COVERED),
        ([E, E], E),
        ([N], N),
        ([Z, Z], Z),
        ([X], X),
        ([E, N], P),
        ([N, N, P], P),
        ([E, X, Z], X),
        ([E, Z], P),
    ],
)
def test_rollup_rule(statuses, expected):
    assert rollup(statuses) == expected


# --- period -----------------------------------------------------------------------------


def test_period_defaults_to_the_last_30_days():
    today = datetime.date(2026, 3, 31)
    assert period_parse(None, None, today=today) == Period(
        datetime.date(2026, 3, 2), datetime.date(2026, 3, 31)
    )
    assert period_parse("", "2026-01-31", today=today).start == datetime.date(2026, 1, 2)
    period = period_parse("2026-01-01", "2026-01-01", today=today)
    assert period.days == 1
    assert period.until - period.since == datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("date_from", "date_to", "words"),
    [
        ("2026-13-01", None, "'from' must be a date"),
        ("yesterday", None, "'from' must be a date"),
        (None, "31/01/2026", "'to' must be a date"),
        ("2026-02-01", "2026-01-01", "is after 'to'"),
        ("1999-12-31", "2000-01-02", "at the earliest"),
        (None, "2027-01-01", "in the future"),
        ("2026-01-01", "9999-12-31", "in the future"),
    ],
)
def test_bad_periods_are_refused_with_a_reason(date_from, date_to, words):
    with pytest.raises(ApplicationError) as caught:
        period_parse(date_from, date_to, today=datetime.date(2026, 3, 31))
    assert words in caught.value.message
    assert caught.value.status_code == 400


# --- selector ---------------------------------------------------------------------------


def test_nist_report_covers_every_item_in_order_with_rollups():
    framework = Framework.objects.get(key=NIST)
    AgentFactory()
    report = report_build(framework, period_parse(None, None))
    assert [row.item.ref_id for row in report.items] == list(
        framework.items.order_by("order").values_list("ref_id", flat=True)
    )
    rows = {row.item.ref_id: row for row in report.items}
    govern = rows["GOVERN"]
    assert govern.depth == 0
    assert not govern.controls
    assert govern.rolled_up
    assert govern.status != NOT_COVERED
    assert rows["GOVERN 1.4"].depth == 2
    assert [c.result.control.ref_id for c in rows["GOVERN 1.4"].controls] == ["AGC-01", "AGC-07"]
    # No policy published, no exceptions: nothing to judge.
    assert rows["GOVERN 1.4"].status == Status.NO_EVIDENCE
    assert report.controls["AGC-08"].status == Status.EFFECTIVE
    assert sum(report.item_counts().values()) == len(report.items)
    assert set(report.controls) == set(
        Control.objects.filter(mappings__item__framework=framework).values_list("ref_id", flat=True)
    )


def test_inactive_controls_are_left_out():
    Control.objects.filter(ref_id="AGC-01").update(active=False)
    report = report_build(Framework.objects.get(key=NIST), period_parse(None, None))
    assert "AGC-01" not in report.controls


def _framework_with_items(n: int) -> Framework:
    framework = Framework.objects.create(key=f"test-fw-{n}", name=f"Test {n}")
    controls = list(Control.objects.order_by("ref_id"))
    parent = FrameworkItemFactory(framework=framework, ref_id="ROOT", order=0)
    for i in range(n):
        item = FrameworkItemFactory(framework=framework, parent=parent, order=i + 1)
        for control in controls[i % 3 :: 3]:
            MappingFactory(control=control, item=item)
    return framework


def test_report_queries_do_not_grow_with_items(django_assert_num_queries):
    small, large = _framework_with_items(3), _framework_with_items(40)
    AgentFactory()
    with CaptureQueriesContext(connection) as captured:
        report_build(small, period_parse(None, None))
    # 11 controls collected once each (2-5 queries apiece), items, mappings, files x2.
    expected = len(captured)
    with django_assert_num_queries(expected):
        report = report_build(large, period_parse(None, None))
    assert len(report.items) == 41
    assert len(report.controls) == 11


def test_report_query_count_is_pinned(django_assert_num_queries):
    framework = Framework.objects.get(key=NIST)
    # 34, plus one since exceptions name their controls (the controls of exceptions in force),
    # plus two for AGC-11 (short-lived credentials: its aggregate and its samples), plus two
    # for the applicability statement and the frameworks sharing controls, plus one for what
    # retention dropped (the report says so when its period reaches back past it).
    with django_assert_num_queries(40):
        report_build(framework, period_parse(None, None))


# --- page -------------------------------------------------------------------------------

URL = f"/compliance/{NIST}/report/"


@pytest.mark.parametrize("role", ["security", "auditor"])
def test_exporters_read_the_report(client, role_users, role):
    client.force_login(role_users[role])
    response = client.get(URL)
    assert response.status_code == 200
    period = period_parse(None, None)
    assert response.context["report"].period == period
    body = response.content.decode()
    assert f"{period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}" in body
    assert 'data-control="AGC-01"' in body
    assert 'data-control="AGC-11"' in body
    assert 'data-ref-id="GOVERN 1.4"' in body
    assert 'data-export="csv"' in body
    assert "Build evidence package" in body
    assert "css/report.css" in body  # the print layout is a stylesheet (no inline style)


@pytest.mark.parametrize("role", ["engineer", "gateway", "norole"])
def test_others_may_not_read_the_report(client, role_users, role):
    client.force_login(role_users[role])
    for url in (URL, f"{URL}csv/", f"{URL}json/", f"{URL}oscal/"):
        response = client.get(url)
        assert response.status_code == 403
        # The gateway is API-only: its session opens no page at all (kernel.middleware).
        expected = b"API only" if role == "gateway" else b"Only security and auditors export"
        assert expected in response.content


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?from=2026-02-30", "&#x27;from&#x27; must be a date"),
        ("?from=2026-03-10&to=2026-03-01", "is after"),
        ("?to=2999-01-01", "in the future"),
    ],
)
def test_bad_dates_are_a_400_page_with_the_reason(client, auditor, query, words):
    client.force_login(auditor)
    response = client.get(URL + query)
    assert response.status_code == 400
    assert words in response.content.decode()


def test_unknown_framework_is_404(client, auditor):
    client.force_login(auditor)
    assert client.get("/compliance/iso-42001/report/").status_code == 404


def test_chosen_period_is_reported(client, auditor):
    client.force_login(auditor)
    today = timezone.now().date()
    start = today - datetime.timedelta(days=364)
    response = client.get(f"{URL}?from={start.isoformat()}&to={today.isoformat()}")
    assert response.status_code == 200
    assert response.context["report"].period == Period(start, today)
    assert f"from={start.isoformat()}&amp;to={today.isoformat()}" in response.content.decode()


def test_page_query_count_is_constant(client, auditor, django_assert_max_num_queries):
    client.force_login(auditor)
    client.get(URL)
    with django_assert_max_num_queries(45):  # 44 before the retention notice
        client.get(URL)
