"""Every trust page and POST, for every role: who reads, who writes, who is refused, and that a
wrong role is refused before anything is looked up."""

import pytest

from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from tests.credentials.pages import (
    ROLES,
    by_role,
    login,
    make_agents,
    make_binding,
    make_provider,
    provider_data,
)

pytestmark = pytest.mark.django_db

MANAGE_TRUST_REFUSAL = "Only security manages trust providers and signing keys."
APPROVE_REFUSAL = (
    "Only security approves, denies and revokes access requests, grants, exceptions and "
    "identity bindings."  # a binding's approve and reject buttons name bindings
)


@pytest.fixture
def users(engineer, other_engineer, security, second_security, auditor, gateway):
    return by_role(engineer, other_engineer, security, second_security, auditor, gateway)


@pytest.fixture
def agents(engineer, other_engineer):
    return make_agents(engineer, other_engineer)


@pytest.fixture
def binding(agents):
    return make_binding(agents["pay"], make_provider("gha"))


SECURITY = {"security", "second_security"}
OWNERS = {"engineer", "security", "second_security"}  # pay-bot's owner, and security
PAGES = {
    "providers": ("/trust/", {"engineer", "other_engineer", "auditor"} | SECURITY),
    "provider-create": ("/trust/providers/new/", SECURITY),
    "provider-edit": ("/trust/providers/gha/edit/", SECURITY),
    "provider-delete": ("/trust/providers/gha/delete/", SECURITY),
    "credential-list": ("/trust/credentials/", {"auditor"} | SECURITY),
    "binding-add": ("/agents/pay-bot/identities/add/", OWNERS),
    "binding-remove": ("/agents/pay-bot/identities/{pk}/remove/", OWNERS),
}


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_pages_per_role(client, users, binding, page, role):
    url, allowed = PAGES[page]
    response = login(client, users[role]).get(url.format(pk=binding.pk))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role in allowed:
        assert response.status_code == 200
    elif role == "other_engineer" and page == "binding-remove":
        assert response.status_code == 404  # pay-bot's bindings do not exist for oscar
    else:
        assert response.status_code == 403


def _posts(binding):
    """action -> (url, data, whether the row changed)."""
    provider = binding.provider

    def provider_changed():
        return TrustProvider.objects.filter(slug="new").exists()

    def provider_renamed():
        provider.refresh_from_db()
        return provider.name == "Renamed"

    def binding_status():
        binding.refresh_from_db()
        return binding.status

    spare = make_provider("spare")
    return {
        "provider-create": (
            "/trust/providers/new/",
            provider_data(slug="new"),
            provider_changed,
        ),
        "provider-edit": (
            f"/trust/providers/{provider.slug}/edit/",
            {k: v for k, v in provider_data(name="Renamed").items() if k != "slug"},
            provider_renamed,
        ),
        "provider-delete": (
            "/trust/providers/spare/delete/",
            {"confirm": "spare"},
            lambda: not TrustProvider.objects.filter(pk=spare.pk).exists(),
        ),
        "binding-add": (
            "/agents/pay-bot/identities/add/",
            {"provider": "gha", "subject": "repo:acme/other:ref:refs/heads/main"},
            lambda: IdentityBinding.objects.count() == 2,
        ),
        "binding-remove": (
            f"/agents/pay-bot/identities/{binding.pk}/remove/",
            {},
            lambda: binding_status() == BindingStatus.REMOVED,
        ),
    }


WRITERS = {
    "provider-create": SECURITY,
    "provider-edit": SECURITY,
    "provider-delete": SECURITY,
    "binding-add": OWNERS,
    "binding-remove": OWNERS,
}


@pytest.mark.parametrize("action", list(WRITERS))
@pytest.mark.parametrize("role", ROLES)
def test_posts_per_role(client, users, binding, action, role):
    url, data, changed = _posts(binding)[action]
    response = login(client, users[role]).post(url, data)
    if role in WRITERS[action]:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert changed()
        return
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role == "other_engineer" and action == "binding-remove":
        assert response.status_code == 404
    else:
        assert response.status_code == 403
    assert not changed()


@pytest.mark.parametrize("step", ["approve", "reject"])
@pytest.mark.parametrize("role", ROLES)
def test_binding_decisions_per_role(client, users, agents, step, role):
    pending = make_binding(
        agents["pay"],
        make_provider("gha"),
        status=BindingStatus.PENDING,
        required_approvals=1,
    )
    response = login(client, users[role]).post(
        f"/trust/bindings/{pending.pk}/{step}/", {"comment": "checked the pipeline"}
    )
    pending.refresh_from_db()
    if role in SECURITY:
        assert response.status_code == 302
        expected = BindingStatus.ACTIVE if step == "approve" else BindingStatus.REJECTED
        assert pending.status == expected
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert pending.status == BindingStatus.PENDING


@pytest.mark.parametrize(
    ("role", "method", "url", "refusal"),
    [
        ("engineer", "get", "/trust/providers/nope/edit/", MANAGE_TRUST_REFUSAL),
        ("auditor", "post", "/trust/providers/nope/delete/", MANAGE_TRUST_REFUSAL),
        ("auditor", "post", "/trust/providers/new/", MANAGE_TRUST_REFUSAL),
        (
            "engineer",
            "get",
            "/trust/credentials/",
            "Only security and auditors read the credentials the portal issued.",
        ),
        ("engineer", "post", "/trust/bindings/99999/approve/", APPROVE_REFUSAL),
        ("auditor", "post", "/trust/bindings/99999/reject/", APPROVE_REFUSAL),
        (
            "auditor",
            "post",
            "/agents/no-such-agent/identities/add/",
            "Only engineers and security register and change agents.",
        ),
        (
            "auditor",
            "get",
            "/agents/no-such-agent/identities/99999/remove/",
            "Only engineers and security register and change agents.",
        ),
    ],
)
def test_a_wrong_role_is_refused_before_any_lookup(client, users, role, method, url, refusal):
    response = getattr(login(client, users[role]), method)(url)
    assert response.status_code == 403
    assert refusal in response.content.decode()


def test_unknown_objects_are_404_for_those_who_may_act(client, users, agents):
    login(client, users["security"])
    assert client.get("/trust/providers/nope/edit/").status_code == 404
    assert client.get("/trust/providers/nope/delete/").status_code == 404
    assert client.post("/trust/bindings/99999/approve/").status_code == 404
    assert client.get("/agents/no-such-agent/identities/add/").status_code == 404
    assert client.get("/agents/pay-bot/identities/99999/remove/").status_code == 404


def test_a_binding_is_removed_only_under_its_own_agent(client, users, agents):
    """A forged pair (another agent's slug, this binding's id) finds nothing."""
    binding = make_binding(agents["pay"], make_provider("gha"))
    login(client, users["engineer"])
    response = client.post(f"/agents/play-bot/identities/{binding.pk}/remove/")
    assert response.status_code == 404
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE


def test_another_teams_engineer_is_told_who_may_bind(client, users, agents):
    make_provider("gha")
    response = login(client, users["other_engineer"]).post(
        "/agents/pay-bot/identities/add/", {"provider": "gha", "subject": "repo:x"}
    )
    assert response.status_code == 403
    assert "Only the owner of &#x27;pay-bot&#x27;" in response.content.decode()
    assert not IdentityBinding.objects.exists()
