import pytest

from tests.portal.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_token_auth_returns_a_token_that_authenticates(api, engineer):
    response = api.post(
        "/api/v1/auth/token/", {"username": "eve", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/").json()["me"]
    assert me["username"] == "eve"
    assert me["roles"] == ["engineer"]


def test_token_auth_with_wrong_password_is_a_400_with_a_message(api, engineer):
    response = api.post("/api/v1/auth/token/", {"username": "eve", "password": "x"}, format="json")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["detail"]


def test_token_auth_with_missing_fields_names_them(api):
    response = api.post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"username", "password"}
    assert "username" in body["detail"]


def test_malformed_json_is_a_400_never_a_500(api, engineer):
    response = api.post(
        "/api/v1/auth/token/", data='{"username": "eve", ', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_anonymous_api_call_is_a_401_that_explains_how_to_authenticate(api):
    response = api.get("/api/v1/agents/")
    assert response.status_code == 401
    assert "Authorization: Token" in response.json()["detail"]


def test_bad_token_is_a_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token")


def test_session_auth_works_for_the_api(client, engineer):
    client.force_login(engineer)
    assert client.get("/api/v1/").json()["me"]["username"] == "eve"


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in document["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    # The docs page loads its assets from this server, not from a CDN.
    assert b"cdn.jsdelivr" not in docs.content
