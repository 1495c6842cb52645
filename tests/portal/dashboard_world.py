"""A portal with something in every dashboard panel, at a fixed moment, and readers of what
the dashboard and the lists it links to show (attention items, chart tables, filter forms).

NOW is a Wednesday: this week began on Monday 2026-03-09; the 30 days of decisions run from
2026-02-10 to 2026-03-11; the 12 weeks of drift from Monday 2025-12-22.
"""

import datetime
import re
import uuid
from html.parser import HTMLParser

from access.models import AccessRequest, Grant
from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from decisions.models import Activity, Decision
from tests.exceptions.factories import ExceptionFactory, active_exception
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, capability

NOW = datetime.datetime(2026, 3, 11, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def seed(eve, oscar, security, *, copies: int = 1) -> dict:
    """The world of these tests (`copies` > 1 repeats the records)."""
    payments = TeamFactory(slug="payments", members=[eve])
    platform = TeamFactory(slug="platform", members=[oscar])
    dana = make_user("dana", "engineer", is_active=False)
    caps = {
        key: capability(key, high_risk=key in ("github:merge", "deploy:release"))
        for key in ("github:read", "github:write", "github:merge", "deploy:release", "jira:write")
    }
    agents = {
        "pay-bot": AgentFactory(slug="pay-bot", owner=eve, team=payments, tier="production"),
        "ci-bot": AgentFactory(slug="ci-bot", owner=eve, team=payments, tier="internal"),
        "docs-bot": AgentFactory(slug="docs-bot", owner=oscar, team=platform, tier="sandbox"),
        "old-bot": AgentFactory(
            slug="old-bot", owner=eve, team=payments, last_attested_at=NOW - 120 * DAY
        ),
        "lost-bot": AgentFactory(slug="lost-bot", owner=dana, team=platform, tier="internal"),
        "gone-bot": AgentFactory(
            slug="gone-bot", owner=eve, team=payments, status="retired", last_attested_at=None
        ),
    }
    world = {"agents": agents, "caps": caps, "people": (eve, oscar, security)}
    world["provider"] = TrustProvider.objects.create(
        slug="gha", name="GitHub Actions", issuer="https://gha.example", audience="portal"
    )
    for copy in range(copies):
        add_records(world, copy)
    return world


def add_records(world: dict, copy: int) -> None:
    """One more set of requests, grants, exceptions, decisions and activity."""
    agents, caps, (eve, oscar, security) = world["agents"], world["caps"], world["people"]
    _requests(agents, caps, eve, oscar, copy)
    _grants(agents, caps, security)
    _exceptions(agents, caps, eve, oscar, security)
    _bindings(agents, world["provider"], eve, copy)
    _decisions()
    _activity(security)


def _request(agent, cap, user, status, *, scope="", **fields) -> AccessRequest:
    return AccessRequest.objects.create(
        agent=agent,
        capability=cap,
        scope=scope,
        requested_by=user,
        justification="for the dashboard",
        duration_hours=4,
        status=status,
        effect="approval",
        policy_version=1,
        required_approvals=2 if cap.high_risk else 1,
        **fields,
    )


def _requests(agents, caps, eve, oscar, copy: int) -> None:
    """Eve: 2 pending, 3 approved, 1 denied. Oscar: 1 pending, 1 break-glass use."""
    scope = f"copy-{copy}" if copy else ""
    _request(agents["pay-bot"], caps["github:merge"], eve, "pending", scope=scope)
    _request(agents["ci-bot"], caps["jira:write"], eve, "pending", scope=scope)
    for agent, key in (
        ("pay-bot", "github:read"),
        ("ci-bot", "github:read"),
        ("pay-bot", "deploy:release"),
    ):
        _request(agents[agent], caps[key], eve, "approved")
    _request(agents["ci-bot"], caps["github:write"], eve, "denied")
    _request(agents["docs-bot"], caps["github:write"], oscar, "pending", scope=scope)
    _request(agents["docs-bot"], caps["deploy:release"], oscar, "approved", break_glass=True)


def _grant(agent, cap, *, ends, **fields) -> Grant:
    return Grant.objects.create(
        agent=agent, capability=cap, starts_at=NOW - DAY, expires_at=NOW + ends, **fields
    )


def _grants(agents, caps, security) -> None:
    """Active: pay-bot 2 (one ends in 2 h), ci-bot 1 (10 h), docs-bot 1. Ended: 2."""
    _grant(agents["pay-bot"], caps["github:read"], ends=2 * HOUR)
    _grant(agents["pay-bot"], caps["deploy:release"], ends=3 * DAY)
    _grant(agents["ci-bot"], caps["github:read"], ends=10 * HOUR)
    _grant(agents["docs-bot"], caps["deploy:release"], ends=HOUR)
    _grant(agents["pay-bot"], caps["github:write"], ends=-HOUR)
    _grant(
        agents["ci-bot"], caps["jira:write"], ends=DAY, revoked_at=NOW - HOUR, revoked_by=security
    )


def _exceptions(agents, caps, eve, oscar, security) -> None:
    """Running: high (eve, ends in 3 days), low (eve, 60 days), critical (oscar, 5 days);
    pending: medium (eve); revoked: low (eve)."""
    for agent, key, risk, who, days in (
        ("pay-bot", "github:merge", "high", eve, 3),
        ("ci-bot", "jira:write", "low", eve, 60),
        ("docs-bot", "deploy:release", "critical", oscar, 5),
    ):
        active_exception(
            agent=agents[agent],
            capability=caps[key],
            risk=risk,
            requested_by=who,
            starts_at=NOW - DAY,
            expires_at=NOW + days * DAY,
            approver=security,
        )
    ExceptionFactory(agent=agents["ci-bot"], capability=caps["github:write"], risk="medium")
    ExceptionFactory(
        agent=agents["pay-bot"],
        capability=caps["github:read"],
        risk="low",
        status="revoked",
        revoked_at=NOW - HOUR,
    )


def _bindings(agents, provider, eve, copy: int) -> None:
    """eve's binding of pay-bot (production) waits for security; ci-bot's is active."""
    for agent, status in (("pay-bot", BindingStatus.PENDING), ("ci-bot", BindingStatus.ACTIVE)):
        IdentityBinding.objects.create(
            agent=agents[agent],
            provider=provider,
            subject=f"repo:acme/{agent}:ref:refs/heads/release-{copy}",
            requested_by=eve,
            required_approvals=1 if status == BindingStatus.PENDING else 0,
            status=status,
        )


# (days before NOW, outcome, how many): 5 allow and 2 deny inside the 30 days, 5 outside.
DECISIONS = [(0, "allow", 3), (0, "deny", 1), (2, "allow", 2), (29, "deny", 1), (30, "allow", 5)]


def _decisions() -> None:
    for days_ago, outcome, count in DECISIONS:
        for _ in range(count):
            Decision.objects.create(
                request_id=uuid.uuid4(),
                agent_slug="pay-bot",
                capability_key="github:read",
                decision=outcome,
                reason="test",
                decided_at=NOW - days_ago * DAY,
            )


# (days before NOW, review status, how many); 13 weeks ago is outside the 12 weeks.
FLAGS = [(1, "pending", 2), (22, "incident", 1), (22, "expected", 1), (92, "pending", 1)]


def _activity(reporter) -> None:
    rows = [(days, status, True) for days, status, count in FLAGS for _ in range(count)]
    rows += [(1, "not_needed", False)] * 3
    for days_ago, status, flagged in rows:
        Activity.objects.create(
            agent_slug="pay-bot",
            capability_key="github:write",
            outcome="success",
            occurred_at=NOW - days_ago * DAY,
            reported_by=reporter,
            flagged=flagged,
            review_status=status,
        )


# --- reading pages ------------------------------------------------------------------------


class _Reader(HTMLParser):
    """Attention items, chart tables, and the current value of every form control."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict] = {}
        self.tables: dict[str, dict[str, dict[str, tuple[int, str]]]] = {}
        self.controls: dict[str, str] = {}
        self._item: str | None = None
        self._table: str | None = None
        self._row: str | None = None
        self._cell: str | None = None
        self._href = ""
        self._select: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "li" and "attention-item" in (a.get("class") or ""):
            self._item = a["data-panel"]
            self.items[self._item] = {"link": "", "value": ""}
        elif tag == "a" and self._item and not self.items[self._item]["link"]:
            self.items[self._item]["link"] = a["href"]
        elif tag == "span" and self._item and a.get("class") == "figure":
            self._text, self._cell = "", "figure"
        elif tag == "table" and a.get("data-chart-table"):
            self._table = a["data-chart-table"]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and a.get("data-row"):
            self._row = a["data-row"]
            self.tables[self._table][self._row] = {}
        elif tag == "td" and self._row:
            self._cell, self._text, self._href = a["data-series"], "", ""
        elif tag == "a" and self._cell and self._row:
            self._href = a["href"]
        elif tag == "input" and a.get("name"):
            if a.get("type") not in ("hidden", "submit") or a.get("name") == "active":
                self.controls[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a.get("name")
            self.controls.setdefault(self._select or "", "")
        elif tag == "option" and self._select and "selected" in a:
            self.controls[self._select] = a.get("value") or ""

    def handle_data(self, data):
        self._text += data

    def handle_endtag(self, tag):
        if tag == "span" and self._cell == "figure" and self._item:
            self.items[self._item]["value"] = self._text.strip()
            self._cell = None
        elif tag == "li":
            self._item = None
        elif tag == "td" and self._row and self._cell:
            self.tables[self._table][self._row][self._cell] = (int(self._text), self._href)
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "select":
            self._select = None


def read(response) -> _Reader:
    reader = _Reader()
    reader.feed(response.content.decode())
    return reader


def attention_keys(response) -> list[str]:
    """The keys of "needs my attention", in the order shown (waiting items only)."""
    page = response.content.decode()
    section = page.split('data-section="attention"', 1)[1].split("</section>", 1)[0]
    waiting = section.split('class="clear-list', 1)[0]
    return re.findall(r'class="attention-item" data-panel="([^"]+)"', waiting)
