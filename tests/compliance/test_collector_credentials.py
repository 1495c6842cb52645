"""AGC-11 short-lived credentials: the collector on crafted credentials, its constant query
count, the control's shipped mappings, and its place in every framework's report."""

import datetime
import importlib
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps as live_apps
from django.utils import timezone

from compliance.collectors import COLLECTORS, Status
from compliance.collectors.base import SAMPLE_SIZE, Evidence
from compliance.period import Period, period_parse
from compliance.reports.build import report_build
from controls.models import Control, Framework, Mapping
from credentials.models import (
    BindingStatus,
    IdentityBinding,
    IssuedCredential,
    SigningKey,
    TrustProvider,
)
from decisions.models import Decision
from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db

TTL = 900  # settings.CREDENTIAL_MAX_TTL_SECONDS, pinned by the `limits` fixture
KEY_DAYS = 90  # settings.SIGNING_KEY_MAX_AGE_DAYS
FAILURE_FIGURES = (
    "lifetime_over_maximum",
    "issued_to_inactive_agent",
    "issued_without_allow",
    "signed_with_stale_key",
)


@pytest.fixture(autouse=True)
def limits(settings):
    settings.CREDENTIAL_MAX_TTL_SECONDS = TTL
    settings.SIGNING_KEY_MAX_AGE_DAYS = KEY_DAYS


def collect(period: Period | None = None) -> Evidence:
    return COLLECTORS["AGC-11"].collect(period or period_parse(None, None))


def signing_key(age_days: float, *, active: bool = False) -> SigningKey:
    """A key made `age_days` before now; only one may be active (no retired_at)."""
    now = timezone.now()
    return SigningKey.objects.create(
        kid=uuid.uuid4().hex[:16],
        algorithm="ES256",
        public_jwk={"kty": "EC", "crv": "P-256"},
        private_key="not a real key",
        created_at=now - timedelta(days=age_days),
        retired_at=None if active else now,
    )


@pytest.fixture
def world(engineer):
    agent = AgentFactory(owner=engineer)
    provider = TrustProvider.objects.create(
        slug="github-actions",
        name="GitHub Actions",
        issuer="https://token.actions.githubusercontent.com",
        audience="https://portal.example",
    )
    binding = IdentityBinding.objects.create(
        agent=agent,
        provider=provider,
        subject="repo:acme/app:ref:refs/heads/main",
        status=BindingStatus.ACTIVE,
        requested_by=engineer,
    )
    return SimpleNamespace(agent=agent, binding=binding, key=signing_key(10, active=True))


def decide(world, jti: str, key: str, outcome: str = "allow", at=None) -> Decision:
    return Decision.objects.create(
        request_id=uuid.uuid4(),
        agent=world.agent,
        agent_slug=world.agent.slug,
        capability_key=key,
        decision=outcome,
        reason="test",
        policy_version=1,
        decided_at=at or timezone.now(),
        credential_jti=jti,
    )


def issue(
    world,
    *,
    capabilities=("github:read",),
    allowed=None,
    at=None,
    ttl=600,
    agent_status="active",
    key=None,
) -> IssuedCredential:
    """A credential as the token endpoint records it, with an allow decision for each of
    `allowed` (default: every capability in it)."""
    at = at or timezone.now() - timedelta(hours=1)
    jti = uuid.uuid4().hex
    credential = IssuedCredential.objects.create(
        jti=jti,
        agent=world.agent,
        capabilities=list(capabilities),
        capability_keys=f" {' '.join(capabilities)} ",
        provider=world.binding.provider,
        binding=world.binding,
        subject=world.binding.subject,
        signing_key=key or world.key,
        issued_at=at,
        expires_at=at + timedelta(seconds=ttl),
        policy_version=1,
        agent_status=agent_status,
    )
    for capability in capabilities if allowed is None else allowed:
        decide(world, jti, capability, at=at)
    return credential


# --- statuses ---------------------------------------------------------------------------


def test_no_credentials_is_no_evidence(world):
    evidence = collect()
    assert (evidence.status, evidence.checked, evidence.failed) == (Status.NO_EVIDENCE, 0, 0)
    assert evidence.figures["credentials_issued"] == 0
    assert evidence.figures["longest_lifetime_seconds"] is None
    assert evidence.samples == []


def test_credentials_within_every_limit_are_effective(world):
    issue(world, capabilities=("github:read", "jira:comment"))
    # At the limits exactly: a lifetime of the maximum, a key one day short of too old.
    at = timezone.now() - timedelta(hours=2)
    edge = issue(world, at=at, ttl=TTL, key=signing_key(KEY_DAYS - 1))

    evidence = collect()

    assert (evidence.status, evidence.checked, evidence.failed) == (Status.EFFECTIVE, 2, 0)
    figures = evidence.figures
    assert {name: figures[name] for name in FAILURE_FIGURES} == dict.fromkeys(FAILURE_FIGURES, 0)
    assert figures["credentials_issued"] == 2
    assert figures["agents"] == 1
    assert figures["signing_keys_used"] == 2
    assert figures["longest_lifetime_seconds"] == TTL
    assert figures["maximum_lifetime_seconds"] == TTL
    assert figures["signing_key_maximum_age_days"] == KEY_DAYS
    assert not any(sample.failed for sample in evidence.samples)
    assert evidence.samples[1].id == edge.jti
    assert evidence.samples[0].url == f"/agents/{world.agent.slug}/"
    assert "github:read jira:comment" in evidence.samples[0].label


def _lifetime(world):
    return issue(world, ttl=TTL + 1)


def _inactive(world):
    return issue(world, agent_status="suspended")


def _one_capability_never_decided(world):
    return issue(world, capabilities=("github:read", "github:merge"), allowed=["github:read"])


def _no_decision_at_all(world):
    return issue(world, allowed=[])


def _denied_but_issued(world):
    credential = issue(world, capabilities=("github:read", "github:merge"))
    decide(world, credential.jti, "github:merge", outcome="deny")
    return credential


def _allow_for_another_capability(world):
    # Two allows recorded for it, but one is for a capability it does not carry.
    return issue(
        world, capabilities=("github:read", "github:merge"), allowed=["github:read", "x:y"]
    )


def _allow_for_a_longer_key(world):
    # "github:read" is allowed; "github:re" is a prefix of it, not the same capability.
    return issue(world, capabilities=("github:re",), allowed=["github:read"])


def _stale_key(world):
    return issue(world, key=signing_key(KEY_DAYS + 2))


@pytest.mark.parametrize(
    ("make", "figure", "reason"),
    [
        (_lifetime, "lifetime_over_maximum", "lifetime over the maximum"),
        (_inactive, "issued_to_inactive_agent", "agent not active"),
        (_one_capability_never_decided, "issued_without_allow", "without an allow decision"),
        (_no_decision_at_all, "issued_without_allow", "without an allow decision"),
        (_denied_but_issued, "issued_without_allow", "without an allow decision"),
        (_allow_for_another_capability, "issued_without_allow", "without an allow decision"),
        (_allow_for_a_longer_key, "issued_without_allow", "without an allow decision"),
        (_stale_key, "signed_with_stale_key", "signing key too old"),
    ],
)
def test_each_failure_makes_it_partially_effective(world, make, figure, reason):
    for _ in range(SAMPLE_SIZE):  # good ones issued later: they would come first by date
        issue(world, at=timezone.now() - timedelta(minutes=5))
    bad = make(world)

    evidence = collect()

    assert (evidence.status, evidence.checked, evidence.failed) == (
        Status.PARTIALLY_EFFECTIVE,
        SAMPLE_SIZE + 1,
        1,
    )
    assert evidence.figures[figure] == 1
    others = [name for name in FAILURE_FIGURES if name != figure]
    assert [evidence.figures[name] for name in others] == [0, 0, 0]
    first = evidence.samples[0]
    assert (first.kind, first.id, first.failed) == ("credential", bad.jti, True)
    assert reason in first.label
    assert not any(sample.failed for sample in evidence.samples[1:])


def test_every_credential_failing_is_not_effective_and_failures_count_once(world):
    issue(world, ttl=TTL * 4, agent_status="retired", allowed=[], key=signing_key(365))
    issue(world, agent_status="suspended")

    evidence = collect()

    assert (evidence.status, evidence.checked, evidence.failed) == (Status.NOT_EFFECTIVE, 2, 2)
    assert [evidence.figures[name] for name in FAILURE_FIGURES] == [1, 2, 1, 1]
    assert evidence.figures["longest_lifetime_seconds"] == TTL * 4
    assert evidence.samples[0].label.count(";") == 3  # four reasons on the worst one


def test_the_limits_are_read_when_collecting(world, settings):
    issue(world, ttl=600)
    assert collect().status == Status.EFFECTIVE
    settings.CREDENTIAL_MAX_TTL_SECONDS = 300
    evidence = collect()
    assert (evidence.status, evidence.figures["lifetime_over_maximum"]) == (
        Status.NOT_EFFECTIVE,
        1,
    )


# --- the period -------------------------------------------------------------------------


def test_only_credentials_issued_in_the_period_count(world):
    period = Period(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31))
    issue(world, at=period.since)  # first instant: in
    issue(world, at=period.until - timedelta(microseconds=1))  # last instant: in
    issue(world, at=period.until, ttl=TTL * 10)  # first instant after: out
    issue(world, at=period.since - timedelta(seconds=1), agent_status="suspended")  # before

    evidence = collect(period)

    assert (evidence.status, evidence.checked, evidence.failed) == (Status.EFFECTIVE, 2, 0)
    assert evidence.figures["longest_lifetime_seconds"] == 600
    assert len(evidence.samples) == 2


def test_a_failing_credential_outside_the_period_leaves_no_evidence(world):
    issue(world, at=timezone.now() - timedelta(days=60), ttl=TTL * 10)
    assert collect().status == Status.NO_EVIDENCE


# --- queries ----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 20])
def test_query_count_does_not_grow_with_credentials(world, count, django_assert_num_queries):
    for n in range(count):
        issue(
            world,
            capabilities=("github:read", "jira:comment"),
            allowed=["github:read"] if n % 2 else None,
            ttl=TTL + n,
            key=signing_key(KEY_DAYS + n) if n % 3 == 0 else None,
        )
    # One aggregate (checked, failed and every figure) and one for the samples.
    with django_assert_num_queries(2):
        evidence = collect()
    assert evidence.checked == count
    assert len(evidence.samples) == min(count, SAMPLE_SIZE)


# --- the control, its mappings and the reports -------------------------------------------

ASI = "owasp-agentic-top10-2026"
NIST = "nist-ai-rmf-1.0"
MAESTRO = "csa-maestro"
THREATS = "owasp-agentic-threats-t1-t15"


def test_agc11_is_shipped_with_its_mappings():
    control = Control.objects.get(ref_id="AGC-11")
    assert (control.title, control.active) == ("Short-lived credentials", True)
    mapped = set(control.mappings.values_list("item__framework__key", "item__ref_id"))
    assert {
        (ASI, "ASI03"),
        (NIST, "MANAGE 2.4"),
        (MAESTRO, "Layer 7 / Agent Identity Attack"),
        (MAESTRO, "Layer 7 / Agent Impersonation"),
        (THREATS, "T9"),
        (THREATS, "T3"),
    } <= mapped
    assert {key for key, _ in mapped} == {ASI, NIST, MAESTRO, THREATS, "nist-csf-2.0"}


def test_the_migration_adds_agc11_to_a_database_that_lacks_it_and_is_idempotent():
    migration = importlib.import_module("controls.migrations.0003_load_agc_11")
    shipped = set(Mapping.objects.filter(control__ref_id="AGC-11").values_list("item_id"))
    Control.objects.filter(ref_id="AGC-11").delete()  # as before 0003, on an old database
    before = Control.objects.count()

    migration.load(live_apps, None)
    assert Control.objects.count() == before + 1
    migration.load(live_apps, None)  # again, as 0002 then 0003 on a fresh database

    assert Control.objects.count() == before + 1
    again = set(Mapping.objects.filter(control__ref_id="AGC-11").values_list("item_id"))
    assert again == shipped


@pytest.mark.parametrize("key", [ASI, NIST, MAESTRO, THREATS])
def test_agc11_is_in_every_frameworks_report(world, key):
    issue(world)
    report = report_build(Framework.objects.get(key=key), period_parse(None, None))
    result = report.controls["AGC-11"]
    assert (result.status, result.evidence.checked) == (Status.EFFECTIVE, 1)
    assert result.checks == COLLECTORS["AGC-11"].checks
    covered = {
        row.item.ref_id
        for row in report.items
        if any(link.result.control.ref_id == "AGC-11" for link in row.controls)
    }
    expected = set(
        Mapping.objects.filter(control__ref_id="AGC-11", item__framework__key=key).values_list(
            "item__ref_id", flat=True
        )
    )
    assert covered == expected
    assert covered
