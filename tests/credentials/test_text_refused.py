"""Text no database stores, in the credentials API: refused before anything is written."""

import json

import pytest

from credentials.models import IdentityBinding, TrustProvider
from tests.credentials.test_api import PROVIDERS, identities, provider_body

pytestmark = pytest.mark.django_db


def test_a_lone_surrogate_in_a_claim_name_or_a_key_id_is_a_400_that_stores_nothing(
    api, world, provider, engineer, security, platform
):
    """JSON lets `"\\ud800"` through and no database stores it: the API's JSON reader refuses it
    in any key or string, however nested, before a binding or provider is written."""
    body = json.dumps({"provider": provider.slug, "subject": "s", "claims": {"C": "x"}})
    body = body.replace('"C"', '"\\ud800"')
    bound = api.as_user(engineer).post(
        identities(world["sandbox"]), body, content_type="application/json"
    )
    assert bound.status_code == 400
    assert bound.json()["detail"] == "Surrogate characters are not allowed: U+D800."
    assert not IdentityBinding.objects.filter(subject="s").exists()
    assert api.as_user(engineer).get(identities(world["sandbox"])).status_code == 200

    keys = provider_body(platform, slug="k8s-odd", jwks={"keys": [{**platform.jwk, "kid": "K"}]})
    text = json.dumps(keys).replace('"K"', '"\\ud800"')
    added = api.as_user(security).post(PROVIDERS, text, content_type="application/json")
    assert added.status_code == 400
    assert added.json()["detail"] == "Surrogate characters are not allowed: U+D800."
    assert not TrustProvider.objects.filter(slug="k8s-odd").exists()
