"""SCIM 2.0 provisioning: bearer authentication, Users and Groups, roles and teams from group
membership, and deprovisioning (the leaver's path)."""

import json

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from directory.models import DirectoryGroup
from kernel.permissions import roles_of
from registry.models import Team

pytestmark = pytest.mark.django_db

TOKEN = "scim-test-token-0123456789"
SCIM = "application/scim+json"


@pytest.fixture(autouse=True)
def scim_settings(settings):
    settings.SCIM_BEARER_TOKEN = TOKEN
    settings.OIDC_ROLE_GROUPS = [
        "security=gov-security",
        "auditor=gov-auditors",
        "engineer=gov-engineers",
    ]


def call(client, method, path, body=None, token=TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(f"/scim/v2/{path}", data=data, content_type=SCIM, **headers)


def new_user(client, username="dana", **extra):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": username,
        "externalId": f"ext-{username}",
        "name": {"givenName": username.title(), "familyName": "Example"},
        "emails": [{"value": f"{username}@acme.example", "primary": True}],
        "active": True,
        **extra,
    }
    response = call(client, "post", "Users", body)
    assert response.status_code == 201, response.content
    return json.loads(response.content)


def new_group(client, name, members=()):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": [{"value": member} for member in members],
    }
    response = call(client, "post", "Groups", body)
    assert response.status_code == 201, response.content
    return json.loads(response.content)


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x", ""])
def test_without_the_bearer_token_scim_is_a_401_and_changes_nothing(client, token):
    response = call(client, "post", "Users", {"userName": "mallory"}, token=token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not User.objects.filter(username="mallory").exists()


def test_no_token_configured_refuses_everyone(client, settings):
    settings.SCIM_BEARER_TOKEN = ""
    assert call(client, "get", "Users", token="").status_code == 401


def test_discovery_documents(client):
    config = json.loads(call(client, "get", "ServiceProviderConfig").content)
    assert config["patch"]["supported"] is True
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = json.loads(call(client, "get", "ResourceTypes").content)
    assert {t["name"] for t in types["Resources"]} == {"User", "Group"}
    assert call(client, "get", "Schemas").status_code == 200


def test_a_user_is_created_listed_found_by_filter_and_replaced(client):
    created = new_user(client)
    assert created["externalId"] == "ext-dana"
    user = User.objects.get(username="dana")
    assert not user.has_usable_password()  # people sign in through the IdP
    listed = json.loads(call(client, "get", 'Users?filter=userName eq "dana"').content)
    assert listed["totalResults"] == 1
    assert listed["Resources"][0]["id"] == str(user.pk)
    replaced = call(
        client,
        "put",
        f"Users/{user.pk}",
        {"userName": "dana", "name": {"givenName": "Dana", "familyName": "Renamed"}},
    )
    assert replaced.status_code == 200
    user.refresh_from_db()
    assert user.last_name == "Renamed"


def test_group_membership_gives_roles_and_teams_and_taking_it_away_removes_them(client):
    user_id = new_user(client)["id"]
    security = new_group(client, "gov-security", [user_id])
    team = new_group(client, "team-payments", [user_id])
    user = User.objects.get(pk=user_id)
    assert roles_of(user) == {"security"}
    assert Team.objects.get(slug="payments").members.filter(pk=user.pk).exists()
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "members", "value": [{"value": user_id}]}],
    }
    assert call(client, "patch", f"Groups/{security['id']}", patch).status_code == 200
    user = User.objects.get(pk=user_id)
    assert roles_of(user) == frozenset()
    assert call(client, "delete", f"Groups/{team['id']}").status_code == 204
    assert not Team.objects.get(slug="payments").members.filter(pk=user.pk).exists()
    # Every change is in the audit trail with the IdP as its source.
    sources = {
        (entry.additional_data or {}).get("source")
        for entry in LogEntry.objects.filter(content_type__model__in=["user", "team"])
    }
    assert "IdP (SCIM)" in sources


def test_adding_members_with_patch(client):
    user_id = new_user(client)["id"]
    group = new_group(client, "gov-auditors")
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": user_id}]}],
    }
    assert call(client, "patch", f"Groups/{group['id']}", patch).status_code == 200
    assert roles_of(User.objects.get(pk=user_id)) == {"auditor"}
    members = json.loads(call(client, "get", f"Groups/{group['id']}").content)["members"]
    assert [m["value"] for m in members] == [user_id]


def test_deactivating_a_user_ends_their_tokens_and_sessions(client):
    user_id = new_user(client)["id"]
    new_group(client, "gov-engineers", [user_id])
    user = User.objects.get(pk=user_id)
    Token.objects.create(user=user)
    browser = type(client)()
    browser.force_login(user)
    assert browser.get("/").status_code == 200
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    response = call(client, "patch", f"Users/{user_id}", patch)
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["active"] is False
    assert not Token.objects.filter(user_id=user_id).exists()
    assert browser.get("/").status_code == 302  # back to the login page


def test_deleting_a_user_deprovisions_and_keeps_the_row_for_the_audit_trail(client):
    user_id = new_user(client)["id"]
    assert call(client, "delete", f"Users/{user_id}").status_code == 204
    user = User.objects.get(pk=user_id)
    assert user.is_active is False
    assert call(client, "get", f"Users/{user_id}").status_code == 404
    listed = json.loads(call(client, "get", "Users").content)
    assert user_id not in {r["id"] for r in listed["Resources"]}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "Users/abc", None, 404),
        ("get", "Users/999999", None, 404),
        ("post", "Users", {"name": {"givenName": "x"}}, 400),
        ("post", "Groups", {"displayName": ""}, 400),
        ("post", "Groups", {"displayName": "g", "members": [{"value": "999999"}]}, 400),
        ("post", "Groups", {"displayName": "g", "members": "everyone"}, 400),
        ("get", "Users?filter=userName eq", None, 400),
        ("get", "Nowhere", None, 404),
    ],
)
def test_bad_scim_requests_get_a_scim_error_not_a_500(client, method, path, body, status):
    response = call(client, method, path, body)
    assert response.status_code == status, response.content
    assert not DirectoryGroup.objects.filter(name="g").exists()


def test_groups_are_found_by_filter_and_replaced_whole(client):
    first = new_user(client, "dana")["id"]
    second = new_user(client, "omar")["id"]
    group = new_group(client, "gov-security", [first])
    found = json.loads(call(client, "get", 'Groups?filter=displayName eq "gov-security"').content)
    assert [g["id"] for g in found["Resources"]] == [group["id"]]
    body = {"displayName": "gov-security", "members": [{"value": second}]}
    assert call(client, "put", f"Groups/{group['id']}", body).status_code == 200
    assert roles_of(User.objects.get(pk=first)) == frozenset()
    assert roles_of(User.objects.get(pk=second)) == {"security"}
