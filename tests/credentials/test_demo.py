"""The README's walk-through: seed, mint a workload token, exchange it, verify the result."""

import jwt
import pytest
from django.core.management import call_command

from credentials.models import IdentityBinding
from tests.credentials.conftest import exchange

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")


def mint(capsys, *args):
    call_command("mint_demo_workload_token", *args)
    return capsys.readouterr().out.strip()


def test_the_demo_agents_are_bound_to_the_demo_platform(demo):
    bindings = IdentityBinding.objects.filter(provider__slug="demo-ci", status="active")
    assert set(bindings.values_list("agent__slug", flat=True)) == {
        "payments-fixer",
        "docs-helper",
        "ci-bot",
    }
    fixer = bindings.get(agent__slug="payments-fixer")
    assert fixer.claims["repository"] == "acme/payments-api"
    assert fixer.approvals.get().approver.username == "sam"  # production: security approved


def test_a_minted_token_exchanges_for_a_credential_that_verifies(demo, client, capsys):
    subject_token = mint(capsys, "docs-helper")
    response = exchange(client, subject_token, "github:read")
    assert response.status_code == 200, response.content
    access_token = response.json()["access_token"]
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    key = keys[jwt.get_unverified_header(access_token)["kid"]]
    claims = jwt.decode(access_token, key=key, algorithms=["ES256"], audience="github")
    assert claims["sub"] == "agent:docs-helper"


def test_a_token_from_another_branch_is_refused(demo, client, capsys):
    subject_token = mint(capsys, "payments-fixer", "--claim", "ref=refs/heads/feature")
    response = exchange(client, subject_token, "github:read")
    assert response.status_code == 400
    assert "claim constraints (ref)" in response.json()["error_description"]


def test_seeding_twice_keeps_the_same_platform_key(demo, client, capsys):
    before = mint(capsys, "docs-helper")
    call_command("seed_demo")
    assert exchange(client, before, "github:read").status_code == 200
