"""Limits by risk are stated once (exceptions.limits) and everything reads them from there."""

import pytest
from django.template import Context, Template

from exceptions.limits import ELEVATED_RISKS, MAX_DAYS
from exceptions.models import PolicyException, Risk
from exceptions.services import required_approvals_for


def test_every_risk_has_a_maximum_and_elevated_risks_are_known():
    assert list(MAX_DAYS) == Risk.values
    assert set(ELEVATED_RISKS) <= set(Risk.values)


@pytest.mark.parametrize(
    ("risk", "elevated"), [("low", False), ("medium", False), ("high", True), ("critical", True)]
)
def test_elevated_risk_reads_the_same_in_the_model_the_services_and_templates(risk, elevated):
    assert PolicyException(risk=risk).is_elevated_risk is elevated
    assert required_approvals_for(risk) == (2 if elevated else 1)
    rendered = Template("{% load exception_risk %}{% elevated_risks %}").render(Context())
    assert (risk in rendered.split()) is elevated


def test_the_form_script_reads_the_elevated_risks_from_the_page(client, engineer, db):
    client.force_login(engineer)
    page = client.get("/exceptions/new/").content.decode()
    assert 'data-elevated-risks="high critical"' in page
    assert "js/exception-form.js" in page
    assert "<script>" not in page  # no inline script: the list comes from the attribute
