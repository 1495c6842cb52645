"""Exceptions name the internal controls they deviate from; reports show them in force."""

import pytest

from compliance.period import period_parse
from compliance.reports.build import report_build
from controls.models import Framework
from exceptions.models import PolicyException
from exceptions.services import exception_approve
from tests.exceptions.conftest import in_days

pytestmark = pytest.mark.django_db

URL = "/api/v1/exceptions/"


def body(**overrides):
    return {
        "title": "Read the signing key",
        "agent": "pay-bot",
        "capability": "vault:read_secret",
        "justification": "Key rotation INC-7",
        "risk": "high",
        "compensating_controls": "Alert on every read",
        "expires_at": in_days(10).isoformat(),
        **overrides,
    }


def test_by_default_the_controls_governing_the_capability(api, engineer, world):
    response = api.as_user(engineer).post(URL, body(), format="json")
    assert response.status_code == 201, response.content
    # vault:read_secret is high risk: allowlists, JIT access and high-risk approval.
    assert response.json()["controls"] == ["AGC-02", "AGC-03", "AGC-04"]


def test_the_requester_may_name_the_controls(api, engineer, world):
    response = api.as_user(engineer).post(URL, body(controls=["AGC-05"]), format="json")
    assert response.json()["controls"] == ["AGC-05"]
    exception = PolicyException.objects.get()
    assert list(exception.controls.values_list("ref_id", flat=True)) == ["AGC-05"]


def test_an_unknown_control_is_a_400_and_nothing_is_filed(api, engineer, world):
    response = api.as_user(engineer).post(URL, body(controls=["AGC-99"]), format="json")
    assert response.status_code == 400
    assert "No control 'AGC-99'" in response.json()["detail"]
    assert not PolicyException.objects.exists()


def test_the_form_offers_the_controls(client, engineer, world):
    client.force_login(engineer)
    page = client.get("/exceptions/new/").content.decode()
    assert "Controls it deviates from" in page
    assert 'value="AGC-10"' in page


def test_an_approved_exception_shows_as_in_force_for_its_control(
    api, engineer, security, second_security, world
):
    api.as_user(engineer).post(URL, body(controls=["AGC-04"]), format="json")
    exception = PolicyException.objects.get()
    exception_approve(actor=security, exception=exception)
    exception_approve(actor=second_security, exception=exception)
    report = report_build(Framework.objects.get(key="nist-ai-rmf-1.0"), period_parse(None, None))
    assert [str(sample) for sample in report.controls["AGC-04"].exceptions]
    assert report.controls["AGC-02"].exceptions == []  # named AGC-04 only
