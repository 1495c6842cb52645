"""The report reads item first, then controls; no raw `None` in any format (the PDF is the
printable page checked here); moments written as UTC timestamps that fit their card."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from compliance.period import period_parse
from compliance.reports.build import report_build
from compliance.reports.figures import figure_json, figure_text
from controls.models import Framework
from decisions.models import Activity, Decision, ReviewStatus
from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
PAGE = f"/compliance/{NIST}/report/"


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _every_format(client) -> dict[str, str]:
    formats = {"page": PAGE, **{fmt: f"{PAGE}{fmt}/" for fmt in ("csv", "json", "oscal")}}
    formats["records"] = f"{PAGE}records/"
    formats["agc-05 records"] = f"{PAGE}controls/AGC-05/"
    formats["agc-10 records"] = f"{PAGE}controls/AGC-10/"
    formats["agc-05 csv"] = f"{PAGE}controls/AGC-05/csv/"
    formats["api"] = f"/api/v1/reports/{NIST}/controls/AGC-05/records/"
    found = {}
    for name, url in formats.items():
        response = client.get(url)
        assert response.status_code == 200, name
        found[name] = _body(response)
    report = report_build(Framework.objects.get(key=NIST), period_parse(None, None))
    found["printable"] = render_to_string("compliance/report_print.html", {"report": report})
    return found


def test_no_raw_none_when_nothing_happened(client, auditor):
    """An empty period: no decision, no grant, nothing awaiting review, no credential."""
    client.force_login(auditor)
    for name, body in _every_format(client).items():
        assert "None" not in body, name
    page = client.get(PAGE).content.decode()
    assert "none awaiting" in page
    assert "no decision recorded" in page
    assert "no grant issued" in page
    assert "no credential issued" in page
    assert "Owner: no owner set" in page


def test_no_raw_none_for_records_missing_parts(client, auditor, gateway):
    """A decision without a policy version, an action by an agent no longer known."""
    agent = AgentFactory()
    now = timezone.now()
    Decision.objects.create(
        request_id=uuid.uuid4(),
        agent=None,
        agent_slug="ghost",
        capability_key="github:read",
        decision="deny",
        reason="Unknown agent.",
        policy_version=None,
        decided_at=now - timedelta(minutes=3),
    )
    Activity.objects.create(
        agent=agent,
        agent_slug=agent.slug,
        capability_key="github:merge",
        outcome="success",
        occurred_at=now - timedelta(minutes=2),
        reported_by=gateway,
        flagged=True,
        review_status=ReviewStatus.PENDING,
    )
    client.force_login(auditor)
    bodies = _every_format(client)
    for name, body in bodies.items():
        assert "None" not in body, name
    assert "(no policy version)" in bodies["agc-05 records"]
    assert "flagged, awaiting review" in bodies["agc-10 records"]


def test_timestamps_are_formatted_in_every_format(client, auditor):
    agent = AgentFactory()
    first = (timezone.now() - timedelta(days=2)).replace(microsecond=123456)
    for at in (first, first + timedelta(hours=5)):
        Decision.objects.create(
            request_id=uuid.uuid4(),
            agent=agent,
            agent_slug=agent.slug,
            capability_key="github:read",
            decision="allow",
            reason="Standing allow.",
            policy_version=1,
            decided_at=at,
        )
    client.force_login(auditor)
    page = client.get(PAGE).content.decode()
    assert f"{first:%Y-%m-%d %H:%M} UTC" in page
    assert first.isoformat() not in page  # no microseconds, no raw ISO in the card
    data = json.loads(client.get(f"{PAGE}json/").content)
    agc05 = next(c for c in data["controls"] if c["ref_id"] == "AGC-05")
    assert agc05["figures"]["first_decision"] == first.replace(microsecond=0).isoformat()
    row = next(r for r in _body(client.get(f"{PAGE}csv/")).splitlines() if ",AGC-05," in r)
    assert f"first_decision={first:%Y-%m-%d %H:%M} UTC" in row
    # That the card holds its figures without overflowing is measured in Chromium
    # (test_browser_busy.py).


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("oldest_awaiting_review", None, "none awaiting"),
        ("first_decision", None, "no decision recorded"),
        ("something_new", None, "none"),
        ("agents", 0, "0"),
        ("last_decision", datetime(2026, 3, 1, 14, 5, 33, 999, tzinfo=UTC), "2026-03-01 14:05 UTC"),
    ],
)
def test_figure_text(name, value, text):
    assert figure_text(name, value) == text


def test_figure_json_keeps_values_and_writes_moments_in_iso():
    assert figure_json(None) is None
    assert figure_json(3) == 3
    moment = datetime(2026, 3, 1, 14, 5, 33, 999, tzinfo=UTC)
    assert figure_json(moment) == "2026-03-01T14:05:33+00:00"


# --- item first -------------------------------------------------------------------------


def test_items_come_before_controls_on_the_page_and_in_print(client, auditor):
    client.force_login(auditor)
    page = client.get(PAGE).content.decode()
    report = report_build(Framework.objects.get(key=NIST), period_parse(None, None))
    printable = render_to_string("compliance/report_print.html", {"report": report})
    for body in (page, printable):
        summary = body.index('aria-label="Summary"')
        items = body.index('aria-label="Items"')
        not_applicable = body.index('aria-label="Not applicable"')
        controls = body.index('aria-label="Controls"')
        assert summary < items < not_applicable < controls
        # An item links down to the control card that explains its status.
        assert 'href="#control-AGC-01"' in body[items:controls]
        assert 'id="control-AGC-01"' in body[controls:]


def test_items_come_before_controls_in_json(client, auditor):
    client.force_login(auditor)
    keys = list(json.loads(client.get(f"{PAGE}json/").content))
    assert keys.index("items") < keys.index("controls")
    api = list(client.get(f"/api/v1/reports/{NIST}/").json())
    assert api.index("items") < api.index("controls")
