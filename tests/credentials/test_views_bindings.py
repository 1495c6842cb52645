"""Identity bindings through the pages: the agent page's form, security's approval queue,
separation of duties, removal; refusals shown on the form."""

import pytest

from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from tests.credentials.pages import login, make_agents, make_binding, make_provider

pytestmark = pytest.mark.django_db

SUBJECT = "repo:acme/payments-api:environment:production"


@pytest.fixture
def agents(engineer, other_engineer):
    make_provider("gha", name="GitHub Actions")
    return make_agents(engineer, other_engineer)


def gha() -> TrustProvider:
    return TrustProvider.objects.get(slug="gha")


def add(client, slug="pay-bot", **overrides):
    data = {"provider": "gha", "subject": SUBJECT, "claims": "", **overrides}
    return client.post(f"/agents/{slug}/identities/add/", data)


def section(client, slug="pay-bot") -> str:
    html = client.get(f"/agents/{slug}/").content.decode()
    start = html.index('data-section="identities"')
    return html[start : html.index("</section>", start)]


def test_the_owner_binds_a_production_agent_and_another_security_member_approves(
    client, engineer, security, second_security, agents
):
    login(client, engineer)
    form = section(client)
    assert 'action="/agents/pay-bot/identities/add/"' in form
    assert '<option value="gha">GitHub Actions (gha)</option>' in form
    assert "the binding waits for one security approval" in form

    response = add(client, claims="ref=refs/heads/main\n\n  environment = production  \n")
    binding = IdentityBinding.objects.get()
    assert response["Location"] == f"/agents/pay-bot/#binding-{binding.pk}"
    assert binding.status == BindingStatus.PENDING
    assert binding.claims == {"ref": "refs/heads/main", "environment": "production"}
    assert binding.requested_by == engineer
    page = client.get(response["Location"])
    assert f"Binding #{binding.pk} added: awaiting security approval." in page.content.decode()
    row = section(client)
    assert f'id="binding-{binding.pk}"' in row
    assert "awaiting security approval, 0 / 1" in row
    assert "<code>ref=refs/heads/main</code>" in row
    assert client.get("/approvals/").status_code == 403  # engineers approve nothing

    queue = login(client, security).get("/approvals/").content.decode()
    assert f'data-binding="{binding.pk}"' in queue
    assert f'action="/trust/bindings/{binding.pk}/approve/"' in queue

    done = login(client, second_security).post(
        f"/trust/bindings/{binding.pk}/approve/",
        {"comment": "pipeline checked", "next": "/approvals/"},
    )
    assert done["Location"] == "/approvals/"
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE
    assert binding.approvals.get().approver == second_security
    login(client, engineer)
    row = section(client)
    assert '<span class="badge status-active" data-testid="binding-status">active</span>' in row
    assert f'data-binding="{binding.pk}"' not in client.get("/approvals/").content.decode()


def test_a_security_owner_cannot_approve_a_binding_of_their_own_agent(
    client, engineer, security, second_security, agents
):
    agents["pay"].owner = security
    agents["pay"].save()
    login(client, engineer)  # a member of the agent's team
    add(client)
    binding = IdentityBinding.objects.get()
    assert (
        f'data-binding="{binding.pk}"'
        not in login(client, security).get("/approvals/").content.decode()
    )

    refused = client.post(f"/trust/bindings/{binding.pk}/approve/", {"next": "/approvals/"})
    assert refused.status_code == 403
    assert "You own this agent: someone else in security must approve." in (
        refused.content.decode().replace("&#x27;", "'")
    )
    binding.refresh_from_db()
    assert binding.status == BindingStatus.PENDING

    login(client, second_security).post(f"/trust/bindings/{binding.pk}/approve/")
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE


def test_whoever_asked_for_a_binding_cannot_approve_it(client, security, agents):
    login(client, security)
    add(client)
    binding = IdentityBinding.objects.get()
    refused = client.post(f"/trust/bindings/{binding.pk}/approve/")
    assert refused.status_code == 403
    assert "You asked for this binding" in refused.content.decode()


def test_security_rejects_from_the_queue_with_a_reason(client, engineer, security, agents):
    login(client, engineer)
    add(client)
    binding = IdentityBinding.objects.get()
    login(client, security)
    no_reason = client.post(f"/trust/bindings/{binding.pk}/reject/", {"comment": " "})
    assert no_reason.status_code == 400
    assert "Say why the binding is rejected" in no_reason.content.decode()
    done = client.post(
        f"/trust/bindings/{binding.pk}/reject/",
        {"comment": "pull requests may not act as production", "next": "/approvals/"},
        follow=True,
    )
    assert f"Binding #{binding.pk} rejected." in done.content.decode()
    binding.refresh_from_db()
    assert binding.status == BindingStatus.REJECTED
    assert binding.close_comment == "pull requests may not act as production"
    assert f'id="binding-{binding.pk}"' not in section(login(client, engineer))


def test_a_sandbox_binding_is_active_when_added(client, engineer, agents):
    response = add(login(client, engineer), slug="play-bot")
    binding = IdentityBinding.objects.get()
    assert binding.status == BindingStatus.ACTIVE
    page = client.get(response["Location"]).content.decode()
    assert f"Binding #{binding.pk} added: active." in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"claims": "ref=refs/heads/main\nenvironment"}, "line 2: write name=value"),
        ({"claims": "=main"}, "line 1: write name=value"),
        ({"claims": "ref=a\nref=b"}, "line 2: &#x27;ref&#x27; is named twice."),
        ({"claims": "sub=repo:acme/x"}, "&#x27;sub&#x27; is checked by the portal itself"),
        (
            {"claims": "n" * 101 + "=main"},
            "claims: each claim&#x27;s name is 1 to 100 characters (&#x27;" + "n" * 60,
        ),
        ({"claims": "ref=" + "v" * 501}, "must be a value or glob of 1 to 500 characters"),
        ({"subject": ""}, "This field is required."),
        ({"provider": "gitlab"}, "Select a valid choice."),
    ],
)
def test_a_bad_binding_comes_back_on_its_form(client, engineer, agents, overrides, message):
    response = add(login(client, engineer), **overrides)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Bind a workload identity to pay-bot" in html
    assert not IdentityBinding.objects.exists()


def test_a_duplicate_binding_is_refused_on_the_form(client, engineer, agents):
    make_binding(agents["sandbox"], gha(), subject=SUBJECT)
    response = add(login(client, engineer))
    assert response.status_code == 400
    assert "already binds this subject and these claims to agent &#x27;play-bot&#x27;" in (
        response.content.decode()
    )
    assert IdentityBinding.objects.count() == 1


def test_a_binding_a_token_could_share_with_another_agent_is_refused_on_the_form(
    client, engineer, other_engineer, agents
):
    theirs = make_binding(agents["other"], gha(), subject=SUBJECT, claims={"ref": "refs/*"})
    response = add(login(client, engineer), claims="ref=refs/heads/main")
    assert response.status_code == 400
    html = response.content.decode().replace("&#x27;", "'")
    assert (
        f"A token could match both this binding and binding #{theirs.pk} of agent 'other-bot'"
    ) in html
    assert "Bind a workload identity to pay-bot" in html
    assert IdentityBinding.objects.count() == 1
    done = add(client, claims="ref=main")  # never refs/*: added
    assert done.status_code == 302
    assert IdentityBinding.objects.count() == 2


def test_moving_an_agent_to_production_on_its_page_sends_its_bindings_to_the_queue(
    client, engineer, security, second_security, agents
):
    binding = make_binding(agents["sandbox"], gha(), subject="repo:acme/play")
    login(client, security)
    form = client.get("/agents/play-bot/edit/").context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    done = client.post("/agents/play-bot/edit/", {**data, "tier": "production"}, follow=True)
    assert "Agent play-bot updated." in done.content.decode()
    binding.refresh_from_db()
    assert (binding.status, binding.required_approvals) == (BindingStatus.PENDING, 1)
    queue = login(client, second_security).get("/approvals/").content.decode()
    assert f'data-binding="{binding.pk}"' in queue
    row = section(login(client, engineer), slug="play-bot")
    assert "awaiting security approval, 0 / 1" in row


def test_the_owner_removes_a_binding_after_confirming(client, engineer, agents):
    binding = make_binding(agents["pay"], gha())
    login(client, engineer)
    assert f'href="/agents/pay-bot/identities/{binding.pk}/remove/"' in section(client)
    confirm = client.get(f"/agents/pay-bot/identities/{binding.pk}/remove/").content.decode()
    assert f"Remove binding #{binding.pk} from pay-bot?" in confirm
    done = client.post(f"/agents/pay-bot/identities/{binding.pk}/remove/", follow=True)
    assert done.redirect_chain[-1][0] == "/agents/pay-bot/"
    assert f"Binding #{binding.pk} removed" in done.content.decode()
    binding.refresh_from_db()
    assert binding.status == BindingStatus.REMOVED
    assert binding.closed_by == engineer
    again = client.post(f"/agents/pay-bot/identities/{binding.pk}/remove/")
    assert again.status_code == 400
    assert 'role="alert"' in again.content.decode()
    assert f"Binding #{binding.pk} is already removed." in again.content.decode()


def test_who_sees_the_bindings_and_the_form_on_the_agent_page(
    client, engineer, other_engineer, auditor, security, agents
):
    binding = make_binding(agents["pay"], gha())
    for user, sees, binds in [
        (engineer, True, True),
        (security, True, True),
        (auditor, True, False),
        (other_engineer, False, False),
    ]:
        html = section(login(client, user))
        assert (f'id="binding-{binding.pk}"' in html) is sees, user
        assert ("Bind a workload identity" in html) is binds, user
        assert ("/remove/" in html) is binds, user
        if not sees:
            assert "visible to its owner, its team, security and auditors" in html


def test_the_binding_form_says_subject_without_backticks(client, engineer, agents):
    login(client, engineer)
    form = section(client)
    assert "the exact subject of its tokens (their sub claim)" in form
    assert "`" not in form
