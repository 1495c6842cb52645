"""Publish warnings: every kind of loosening is named, a tightening is not, and a publish that
loosens needs a reason, kept on the version and in the audit trail. Also the HTML import page,
which leads to the review page where those warnings show."""

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import PolicyRule, PolicyStatus, PolicyVersion
from registry.selectors.policy import policy_loosenings
from registry.services import policy as services
from tests.registry.factories import capability, demo_policy, publish_policy

pytestmark = pytest.mark.django_db

IMPORT_PAGE = "/policy/import/"


def review_page(number: int) -> str:
    return f"/policy/draft/{number}/publish/"


def publish_api(number: int) -> str:
    return f"/api/v1/policy/versions/{number}/publish/"


def draft_with(actor, changes: dict[tuple[str, str], tuple[str, int | None] | None]):
    """A draft of the published version with `changes` ((tier, key) -> rule, None removes)."""
    draft = services.policy_draft_create(actor=actor)
    for (tier, key), rule in changes.items():
        if rule is None:
            services.policy_rule_remove(
                actor=actor, version=draft, tier=tier, capability=capability(key)
            )
        else:
            services.policy_rule_set(
                actor=actor,
                version=draft,
                tier=tier,
                capability=capability(key),
                effect=rule[0],
                max_duration_hours=rule[1],
            )
    return draft


def warned(draft) -> list[tuple[str, str, str, str]]:
    return [(w.kind, w.tier, w.capability, w.message) for w in policy_loosenings(draft)]


# Each change to the demo policy (v1) and the one warning it gives.
LOOSENINGS = {
    "high-risk to jit": (
        {("sandbox", "github:merge"): ("jit", 8)},
        ("high_risk_opened", "sandbox", "github:merge"),
        "High-risk sandbox github:merge becomes 'jit' (was approval ≤ 8h).",
    ),
    "high-risk to allow": (
        {("internal", "deploy:release"): ("allow", None)},
        ("high_risk_opened", "internal", "deploy:release"),
        "High-risk internal deploy:release becomes 'allow' (was approval ≤ 4h).",
    ),
    "high-risk to approval": (
        {("sandbox", "vault:read_secret"): ("approval", 1)},
        ("effect_loosened", "sandbox", "vault:read_secret"),
        "sandbox vault:read_secret loosens from deny to approval ≤ 1h.",
    ),
    "jit to allow": (
        {("internal", "github:write"): ("allow", None)},
        ("effect_loosened", "internal", "github:write"),
        "internal github:write loosens from jit ≤ 8h to allow.",
    ),
    "production inverted": (
        {("sandbox", "github:write"): ("deny", None)},
        ("production_less_strict", "production", "github:write"),
        "production github:write (approval ≤ 8h) is less strict than sandbox (deny).",
    ),
    "longer maximum": (
        {("production", "github:read"): ("jit", 48)},
        ("duration_increased", "production", "github:read"),
        "production github:read: the maximum duration goes up from 24h to 48h.",
    ),
}


@pytest.mark.parametrize("case", LOOSENINGS)
def test_each_kind_of_loosening_is_warned(security, case):
    demo_policy(security)
    changes, (kind, tier, key), message = LOOSENINGS[case]
    assert warned(draft_with(security, changes)) == [(kind, tier, key, message)]


def test_a_new_rule_where_there_was_none_is_a_loosening(security):
    demo_policy(security)
    draft = draft_with(security, {("sandbox", "jira:read"): ("allow", None)})
    [warning] = policy_loosenings(draft)
    assert (warning.kind, warning.tier, warning.capability, warning.after) == (
        "effect_loosened",
        "sandbox",
        "jira:read",
        "allow",
    )
    assert warning.message == f"sandbox jira:read loosens from {warning.before} to allow."


TIGHTENING = {
    ("production", "github:read"): ("approval", 2),
    ("production", "deploy:release"): ("deny", None),
    ("production", "jira:write"): None,
    ("internal", "vault:read_secret"): ("deny", None),
    ("sandbox", "github:merge"): ("approval", 4),
    ("internal", "jira:write"): ("jit", 4),
}


def test_a_tightening_gives_no_warning_and_publishes_without_a_reason(api, security):
    demo_policy(security)
    draft = draft_with(security, TIGHTENING)
    assert warned(draft) == []
    response = api.as_user(security).post(publish_api(draft.number), {}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["publish_reason"], response.json()["publish_warnings"]) == ("", [])


def test_an_inversion_already_published_is_not_warned_again(security):
    publish_policy(
        {
            "sandbox": {"github:write": ("deny", None), "github:read": ("approval", 2)},
            "production": {"github:write": ("approval", 8), "github:read": ("approval", 2)},
        },
        security,
    )
    # Production github:write was already less strict than sandbox: tightening it a little
    # keeps the inversion, which the published version carries; a new one is still named.
    draft = draft_with(
        security,
        {
            ("production", "github:write"): ("approval", 4),
            ("sandbox", "github:read"): ("deny", None),
        },
    )
    assert [(kind, tier, key) for kind, tier, key, _ in warned(draft)] == [
        ("production_less_strict", "production", "github:read")
    ]


def test_with_nothing_published_every_opening_is_a_loosening(security):
    draft = services.policy_draft_create(actor=security)
    merge = capability("github:merge", high_risk=True)
    services.policy_rule_set(
        actor=security,
        version=draft,
        tier="sandbox",
        capability=merge,
        effect="jit",
        max_duration_hours=2,
    )
    assert [w.kind for w in policy_loosenings(draft)] == ["high_risk_opened"]


# -- publishing with warnings: API --------------------------------------------------------------


@pytest.fixture
def loose_draft(security):
    demo_policy(security)
    return draft_with(security, {("sandbox", "github:merge"): ("jit", 8)})


@pytest.mark.parametrize(
    "body", [None, {}, {"reason": ""}, {"reason": "  \n "}, {"reason": "\u200b\u2060"}]
)
def test_the_api_refuses_a_loosening_publish_without_a_reason(api, security, loose_draft, body):
    entries = LogEntry.objects.count()
    client = api.as_user(security)
    response = client.post(publish_api(2), body, format="json")
    assert response.status_code == 400
    refusal = response.json()
    assert refusal["code"] == "reason_required"
    assert refusal["errors"]["reason"] == [refusal["detail"]]
    assert refusal["warnings"] == [
        {
            "kind": "high_risk_opened",
            "tier": "sandbox",
            "capability": "github:merge",
            "before": "approval ≤ 8h",
            "after": "jit ≤ 8h",
            "message": "High-risk sandbox github:merge becomes 'jit' (was approval ≤ 8h).",
        }
    ]
    draft = PolicyVersion.objects.get(number=2)
    assert (draft.status, draft.published_at, draft.publish_reason) == ("draft", None, "")
    assert client.get("/api/v1/policy/").json()["number"] == 1
    assert LogEntry.objects.count() == entries


def test_a_reason_publishes_and_is_kept_with_the_warnings(api, security, loose_draft):
    client = api.as_user(security)
    warnings = client.post(publish_api(2), {}, format="json").json()["warnings"]
    reason = "Sandbox merges are self-service for the hackathon (SEC-7)."
    response = client.post(publish_api(2), {"reason": f"  {reason} "}, format="json")
    assert response.status_code == 200, response.content
    assert client.get("/api/v1/policy/").json()["number"] == 2
    v2 = PolicyVersion.objects.get(number=2)
    assert (v2.status, v2.published_by, v2.publish_reason) == ("published", security, reason)
    assert v2.publish_warnings == warnings
    updates = LogEntry.objects.get_for_object(v2).filter(action=LogEntry.Action.UPDATE)
    published = [entry for entry in updates if "publish_reason" in entry.changes]
    assert len(published) == 1
    assert published[0].actor == security
    assert published[0].changes["publish_reason"][1] == reason
    assert published[0].changes["status"] == ["draft", "published"]
    assert "High-risk sandbox github:merge" in published[0].changes["publish_warnings"][1]


# -- publishing with warnings: the HTML review page ----------------------------------------------


def test_the_review_page_shows_the_warnings_and_asks_for_a_reason(client, security, loose_draft):
    client.force_login(security)
    page = client.get(review_page(2)).content.decode()
    assert "This draft loosens the policy in 1 place." in page
    assert '<li data-kind="high_risk_opened">' in page
    assert "High-risk sandbox github:merge becomes &#x27;jit&#x27; (was approval ≤ 8h)." in page
    assert "Publish v2 with these warnings" in page
    refused = client.post(review_page(2), {"reason": " "})
    assert refused.status_code == 400
    again = refused.content.decode()
    assert "say why (a reason) to publish it." in again
    assert '<li data-kind="high_risk_opened">' in again
    assert PolicyVersion.objects.get(number=2).status == PolicyStatus.DRAFT
    response = client.post(review_page(2), {"reason": "Hackathon week."}, follow=True)
    assert response.redirect_chain == [("/policy/", 302)]
    assert "Policy v2 published" in response.content.decode()
    v2 = PolicyVersion.objects.get(number=2)
    assert (v2.status, v2.publish_reason) == ("published", "Hackathon week.")
    assert [w["kind"] for w in v2.publish_warnings] == ["high_risk_opened"]


def test_the_refusal_counts_one_loosening_as_one_place(client, security, loose_draft):
    client.force_login(security)
    refused = client.post(review_page(2), {"reason": ""})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Publishing v2 loosens the policy in 1 place: say why (a reason) to publish it." in page
    assert "1 places" not in page


def test_the_review_page_of_a_tightening_says_so(client, security):
    demo_policy(security)
    draft_with(security, TIGHTENING)
    client.force_login(security)
    page = client.get(review_page(2)).content.decode()
    assert "No loosening: nothing in this draft is less strict" in page
    assert "with these warnings" not in page


# -- the HTML import page -----------------------------------------------------------------------

GOOD = (
    "format: 1\n"
    "comment: From the repo\n"
    "tiers:\n"
    "  sandbox:\n"
    '    "github:merge": {effect: jit, max_duration_hours: 8}\n'
    '    "github:read": {effect: allow}\n'
)
BAD = (
    "format: 1\n"
    "tiers:\n"
    "  sandbox:\n"
    '    "github:write": {effect: jit}\n'
    '    "slack:post": {effect: allow}\n'
)


def counts() -> tuple[int, int, int]:
    return PolicyVersion.objects.count(), PolicyRule.objects.count(), LogEntry.objects.count()


def imported_from(number: int) -> str:
    entries = LogEntry.objects.get_for_object(PolicyVersion.objects.get(number=number))
    return entries.get(action=LogEntry.Action.UPDATE).changes["rules"][1]


@pytest.mark.parametrize("how", ["upload", "paste"])
def test_import_page_opens_a_draft_and_leads_to_its_review(client, security, how):
    demo_policy(security)
    client.force_login(security)
    assert client.get(IMPORT_PAGE).status_code == 200
    if how == "upload":
        data = {"file": SimpleUploadedFile("policy.yaml", GOOD.encode(), "application/yaml")}
    else:
        data = {"text": GOOD}
    response = client.post(IMPORT_PAGE, data, follow=True)
    assert response.redirect_chain == [(review_page(2), 302)]
    page = response.content.decode()
    assert "Draft v2 opened from the file: review it." in page
    assert '<li data-kind="high_risk_opened">' in page  # sandbox merges opened to jit
    draft = PolicyVersion.objects.get(number=2)
    assert (draft.status, draft.notes, draft.created_by) == ("draft", "From the repo", security)
    assert set(draft.rules.values_list("tier", "capability__key", "effect")) == {
        ("sandbox", "github:merge", "jit"),
        ("sandbox", "github:read", "allow"),
    }
    source = "the file policy.yaml" if how == "upload" else "a file pasted in the browser"
    assert imported_from(2) == f"2 rules imported from {source}"


def test_a_bad_file_on_the_import_page_lists_its_errors_and_creates_nothing(client, security):
    demo_policy(security)
    client.force_login(security)
    before = counts()
    response = client.post(IMPORT_PAGE, {"file": SimpleUploadedFile("bad.yaml", BAD.encode())})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The file has 2 errors; nothing was created." in page
    assert "<td>4</td><td><code>tiers.sandbox.github:write.max_duration_hours</code></td>" in page
    assert "<td>5</td><td><code>tiers.sandbox.slack:post</code></td>" in page
    assert "unknown capability &#x27;slack:post&#x27;" in page
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "  "}, "Choose a policy file, or paste one."),
        ({"file": SimpleUploadedFile("p.yaml", b"comment: caf\xe9\n")}, "must be UTF-8 text."),
    ],
    ids=["nothing", "not-utf-8"],
)
def test_an_empty_or_undecodable_import_is_a_400(client, security, data, message):
    demo_policy(security)
    client.force_login(security)
    before = counts()
    response = client.post(IMPORT_PAGE, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before


def test_the_import_page_refuses_while_a_draft_is_open(client, security):
    demo_policy(security)
    services.policy_draft_create(actor=security)
    client.force_login(security)
    before = counts()
    response = client.post(IMPORT_PAGE, {"text": GOOD})
    assert response.status_code == 400
    assert "Draft v2 is already open" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("role", ["engineer", "auditor"])
def test_only_security_imports_and_reviews_in_the_browser(client, role_users, role):
    security = role_users["security"]
    demo_policy(security)
    services.policy_draft_create(actor=security)
    client.force_login(role_users[role])
    before = counts()
    refusal = "Only security manages the policy"
    for response in (
        client.get(IMPORT_PAGE),
        client.post(IMPORT_PAGE, {"text": GOOD}),
        client.get(review_page(2)),
        client.post(review_page(2), {"reason": "mine"}),
    ):
        assert response.status_code == 403
        assert refusal in response.content.decode()
    assert counts() == before
    assert PolicyVersion.objects.get(number=2).status == PolicyStatus.DRAFT


def test_anonymous_is_sent_to_sign_in(client, security):
    demo_policy(security)
    for url in (IMPORT_PAGE, review_page(1)):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
