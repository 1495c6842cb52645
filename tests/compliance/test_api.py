from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controls.models import Control, Mapping
from controls.services import MAX_DESCRIPTION_CHARS, control_update
from kernel.errors import ApplicationError
from registry.models import Team
from tests.compliance.factories import ControlFactory, FrameworkItemFactory, MappingFactory

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
MAESTRO_ITEM = "Layer 7 / Agent Tool Misuse"
MAPPING_URL = f"/api/v1/controls/AGC-02/mappings/csa-maestro/{quote(MAESTRO_ITEM)}/"

READS = [
    "/api/v1/frameworks/",
    f"/api/v1/frameworks/{NIST}/",
    f"/api/v1/frameworks/{NIST}/items/",
    "/api/v1/controls/",
    "/api/v1/controls/AGC-01/",
    MAPPING_URL,
]
WRITES = [
    ("post", "/api/v1/controls/", {"ref_id": "AGC-12", "title": "Secrets rotation"}, 201),
    ("patch", "/api/v1/controls/AGC-01/", {"title": "Central policy authority"}, 200),
    (
        "post",
        "/api/v1/controls/AGC-01/mappings/",
        {
            "framework": NIST,
            "ref_id": "GOVERN 2.3",
            "relationship": "intersects",
            "strength": 3,
            "rationale": "Leadership signs off policy.",
        },
        201,
    ),
    ("patch", MAPPING_URL, {"strength": 9}, 200),
    ("delete", MAPPING_URL, None, 204),
]


def snapshot():
    return (
        list(Control.objects.order_by("pk").values("ref_id", "title", "active")),
        list(Mapping.objects.order_by("pk").values("pk", "strength", "relationship")),
    )


@pytest.mark.parametrize("url", READS)
@pytest.mark.parametrize(
    ("role", "expected"),
    [("engineer", 200), ("security", 200), ("auditor", 200), ("gateway", 403), ("norole", 403)],
)
def test_read_matrix(api, role_users, url, role, expected):
    response = api.as_user(role_users[role]).get(url)
    assert response.status_code == expected, response.content
    if expected == 403:
        assert response.json()["detail"] == "Your role may not read compliance data."


@pytest.mark.parametrize("url", READS)
def test_anonymous_reads_are_401(api, url):
    assert api.as_user(None).get(url).status_code == 401


@pytest.mark.parametrize(("method", "url", "body", "status"), WRITES)
@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway", "norole", None])
def test_writes_are_refused_to_every_role_but_security(
    api, role_users, role, method, url, body, status
):
    before = snapshot()
    client = api.as_user(role_users[role] if role else None)
    response = getattr(client, method)(url, body, format="json")
    assert response.status_code == (401 if role is None else 403)
    expected = "credentials" if role is None else "Only security edits controls"
    assert expected in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(("method", "url", "body", "status"), WRITES)
def test_security_writes(api, security, method, url, body, status):
    response = getattr(api.as_user(security), method)(url, body, format="json")
    assert response.status_code == status, response.content


def test_framework_list_shows_counts_and_coverage(api, auditor):
    body = api.as_user(auditor).get("/api/v1/frameworks/").json()
    frameworks = {row["key"]: row for row in body["results"]}
    nist = frameworks[NIST]
    assert nist["items_count"] == 95
    assert 0 < nist["items_covered"] < 95
    assert nist["coverage"] == round(100 * nist["items_covered"] / 95, 1)
    asi = frameworks["owasp-agentic-top10-2026"]
    assert asi["items_count"] == 10
    # ASI06 (memory poisoning) and ASI07 (inter-agent communication) are honest gaps.
    assert asi["items_covered"] == 8


def test_inactive_controls_do_not_count_towards_coverage(api, security):
    api.as_user(security).patch("/api/v1/controls/AGC-10/", {"active": False}, format="json")
    body = api.get("/api/v1/frameworks/owasp-agentic-top10-2026/").json()
    assert body["items_covered"] == 7  # ASI01 was covered only by AGC-10


def test_framework_detail_and_unknown_key(api, engineer):
    client = api.as_user(engineer)
    body = client.get(f"/api/v1/frameworks/{NIST}/").json()
    assert body["version"].startswith("1.0")
    assert body["notes"]
    response = client.get("/api/v1/frameworks/nist-ai-rmf-9/")
    assert response.status_code == 404
    assert "nist-ai-rmf-9" in response.json()["detail"]


def test_items_carry_official_ids_parents_and_controls(api, engineer):
    client = api.as_user(engineer)
    body = client.get(f"/api/v1/frameworks/{NIST}/items/", {"kind": "subcategory"}).json()
    assert body["count"] == 72
    rows = {row["ref_id"]: row for row in body["results"]}
    assert rows["GOVERN 1.1"]["parent"] == "GOVERN 1"
    assert rows["GOVERN 1.4"]["controls"] == ["AGC-01", "AGC-07"]
    functions = client.get(f"/api/v1/frameworks/{NIST}/items/", {"kind": "function"}).json()
    assert [row["ref_id"] for row in functions["results"]] == [
        "GOVERN",
        "MAP",
        "MEASURE",
        "MANAGE",
    ]
    assert functions["results"][0]["parent"] is None


def test_control_detail_lists_mappings_and_unknown_is_404(api, auditor):
    client = api.as_user(auditor)
    body = client.get("/api/v1/controls/AGC-03/").json()
    mapped = {(m["framework"], m["ref_id"]) for m in body["mappings"]}
    assert ("owasp-agentic-top10-2026", "ASI03") in mapped
    assert body["evidence"] == []
    assert client.get("/api/v1/controls/AGC-99/").status_code == 404


def test_control_create_with_owner_team_and_unknown_team(api, security):
    Team.objects.create(slug="platform-security", name="Platform security")
    client = api.as_user(security)
    response = client.post(
        "/api/v1/controls/",
        {"ref_id": "AGC-12", "title": "Rotation", "owner_team": "platform-security"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["owner_team"] == "platform-security"
    response = client.post(
        "/api/v1/controls/", {"ref_id": "AGC-13", "title": "X", "owner_team": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["owner_team"] == ["No team with slug 'nope'."]


def test_a_control_description_over_the_limit_is_refused_on_create_and_edit(api, security):
    client = api.as_user(security)
    long = {"description": "d" * (MAX_DESCRIPTION_CHARS + 1)}
    created = client.post(
        "/api/v1/controls/", {"ref_id": "AGC-12", "title": "Rotation", **long}, format="json"
    )
    assert created.status_code == 400
    assert "description" in created.json()["errors"]
    assert not Control.objects.filter(ref_id="AGC-12").exists()
    edited = client.patch("/api/v1/controls/AGC-01/", long, format="json")
    assert edited.status_code == 400
    assert Control.objects.get(ref_id="AGC-01").description != long["description"]
    with pytest.raises(ApplicationError, match="description is limited to 4000 characters"):
        control_update(actor=security, control=Control.objects.get(ref_id="AGC-01"), **long)


def test_mapping_with_slash_in_ref_id_round_trips(api, security):
    client = api.as_user(security)
    unencoded = "/api/v1/controls/AGC-02/mappings/csa-maestro/Layer 7 / Agent Tool Misuse/"
    assert client.get(unencoded).json()["strength"] == 8
    assert client.get(MAPPING_URL).json()["ref_id"] == MAESTRO_ITEM
    missing = client.get("/api/v1/controls/AGC-02/mappings/csa-maestro/Layer 9/")
    assert missing.status_code == 404
    assert "has no mapping" in missing.json()["detail"]


GOOD_MAPPING = {
    "framework": NIST,
    "ref_id": "GOVERN 2.3",
    "relationship": "intersects",
    "strength": 3,
    "rationale": "Leadership signs off policy.",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"strength": 11}, "strength"),
        ({"strength": 0}, "strength"),
        ({"relationship": "overlaps"}, "relationship"),
        ({"ref_id": "GOVERN 9.9"}, "No item 'GOVERN 9.9'"),
        ({"framework": "iso-42001"}, "No item 'GOVERN 2.3' in framework 'iso-42001'"),
        ({"rationale": ""}, "rationale"),
        ({"ref_id": "ASI03", "framework": "owasp-agentic-top10-2026"}, "already mapped"),
    ],
)
def test_bad_mapping_input_is_400_with_a_message(api, security, change, message):
    url = "/api/v1/controls/AGC-03/mappings/"
    before = snapshot()
    response = api.as_user(security).post(url, {**GOOD_MAPPING, **change}, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [{"strength": 11}, {"relationship": "overlaps"}, {"rationale": ""}, ["not", "a", "dict"]],
)
def test_bad_mapping_patch_is_400(api, security, body):
    before = snapshot()
    response = api.as_user(security).patch(MAPPING_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ref_id": "AGC-01", "title": "Dup"}, "AGC-01 already exists"),
        ({"ref_id": "lower-1", "title": "Bad"}, "ref_id"),
        ({"title": "No id"}, "ref_id"),
    ],
)
def test_bad_control_input_is_400(api, security, body, message):
    before = snapshot()
    response = api.as_user(security).post("/api/v1/controls/", body, format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert snapshot() == before


def test_control_patch_with_a_bad_value_is_400(api, security):
    response = api.as_user(security).patch(
        "/api/v1/controls/AGC-01/", {"active": "maybe"}, format="json"
    )
    assert response.status_code == 400
    assert Control.objects.get(ref_id="AGC-01").active


def test_unknown_control_writes_are_404(api, security):
    client = api.as_user(security)
    assert (
        client.patch("/api/v1/controls/AGC-99/", {"title": "x"}, format="json").status_code == 404
    )
    response = client.post("/api/v1/controls/AGC-99/mappings/", GOOD_MAPPING, format="json")
    assert response.status_code == 404


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/frameworks/",
        "/api/v1/controls/",
        f"/api/v1/frameworks/{NIST}/items/",
        "/api/v1/controls/AGC-02/",
    ],
)
def test_list_endpoints_use_a_constant_number_of_queries(
    api, auditor, url, django_assert_num_queries
):
    client = api.as_user(auditor)
    few = count_queries(client, url)
    # Many more rows: controls, mappings on NIST items and on AGC-02.
    for _ in range(30):
        control = ControlFactory()
        MappingFactory(control=control, item=FrameworkItemFactory(framework__key=NIST))
        MappingFactory(control=Control.objects.get(ref_id="AGC-02"))
    with django_assert_num_queries(few):
        client.get(url)
