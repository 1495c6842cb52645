"""What an agent may do now, capability by capability: its effective access.

Every capability in the catalogue is decided as a gateway's unscoped question would be
(`engine.decide`, on facts read in one query by `decisions.many_facts`), with until when the
answer holds (the grant's or the exception's end; a standing rule has none), and the scoped
grants that allow it only for some scopes. Nothing is recorded: this is a view, not a
decision anyone acted on.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone

from decisions import policy_cache
from decisions.many_facts import Holding, ManyFacts, many_facts
from decisions.policy_cache import CapabilityInfo
from decisions.services.engine import decide
from kernel.errors import NotFound
from registry.models import AgentStatus


@dataclass(frozen=True)
class ScopedGrant:
    grant: int
    scope: str
    until: datetime


@dataclass(frozen=True)
class Effective:
    capability: str
    high_risk: bool
    decision: str
    reason: str
    until: datetime | None
    grant: int | None
    exception: int | None
    scoped: list[ScopedGrant] = field(default_factory=list)


class _Catalogue:
    """The catalogue as the facts query read it (`ManyFacts.catalogue`: a capability added or
    re-rated shows at once), and each capability's place in it; parsed only when the text
    differs from the last."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        rows = [row.split(" ", 2) for row in text.split(",")] if text else []
        if connection.vendor != "postgresql":  # SQLite cannot order inside group_concat
            rows.sort(key=lambda row: row[2])
        self.infos = [CapabilityInfo(int(pk), key, risk == "1") for pk, risk, key in rows]
        self.place = {info.id: i for i, info in enumerate(self.infos)}

    def now(self, text: str | None) -> "_Catalogue":
        return self if (text or "") == self.text else _Catalogue(text or "")


Held = tuple[str, int, tuple[Holding, ...], tuple[Holding, ...]]  # tier, place, holdings


class _Kept:
    """The answers an active agent's effective access is made of, for one policy snapshot
    (`decisions.policy_cache`) and one catalogue; each decided by the engine itself the first
    time it is needed.

    - `tiers`: per tier, what an agent gets for the capabilities it holds nothing for (no
      grant, no exception in force), in catalogue order: the same for every agent of the tier;
    - `held`: the answer for a capability given the grants and exceptions held for it (ids,
      scopes, ends): what the engine decides from those alone.

    The process keeps one (`_kept`); a newer version, the snapshot cleared or another
    catalogue replaces it whole, in one assignment, so a request in another thread goes on
    with the one it started with and never mixes two catalogues."""

    MAX_HELD = 50_000

    def __init__(self, snapshot: policy_cache.PolicySnapshot | None, catalogue: _Catalogue):
        self.snapshot = snapshot
        self.catalogue = catalogue
        self.tiers: dict[str, list[Effective]] = {}
        self.held: dict[Held, Effective] = {}


_kept = _Kept(None, _Catalogue())


def _kept_for(version: int, catalogue: _Catalogue) -> _Kept:
    """The answers kept for this version and catalogue (none yet after a change)."""
    global _kept
    kept, snapshot = _kept, policy_cache.snapshot_for(version)
    if snapshot is not kept.snapshot or catalogue is not kept.catalogue:
        kept = _kept = _Kept(snapshot, catalogue)
    elif len(kept.held) >= kept.MAX_HELD:
        kept.held = {}
    return kept


def effective_access(slug: str, *, at: datetime | None = None) -> list[Effective]:
    """Every capability in the catalogue, decided for the agent `slug` at `at` (now): two
    reads in one query (the facts and the catalogue), whatever the catalogue's size. NotFound
    if there is no such agent."""
    at = at or timezone.now()
    facts = many_facts(slugs={slug}, capability_ids=None, at=at)
    if slug not in facts.agents:
        raise NotFound(f"No agent with slug '{slug}'.")
    catalogue = _kept.catalogue.now(facts.catalogue)
    version = facts.policy_version
    _, tier, status = facts.agents[slug]
    if version is None or status != AgentStatus.ACTIVE:  # decided capability by capability
        return [_decided(facts, slug, capability) for capability in catalogue.infos]
    kept = _kept_for(version, catalogue)
    if tier not in kept.tiers:
        holding_nothing = ManyFacts(at=at, policy_version=version, agents=facts.agents)
        kept.tiers[tier] = [_decided(holding_nothing, slug, c) for c in catalogue.infos]
    rows = list(kept.tiers[tier])
    for pair in facts.grants.keys() | facts.exceptions.keys():
        place = catalogue.place.get(pair[1])
        if place is None:  # created since the catalogue was read
            continue
        held = (
            tier,
            place,
            tuple(facts.grants.get(pair, ())),
            tuple(facts.exceptions.get(pair, ())),
        )
        row = kept.held.get(held)
        if row is None:
            row = kept.held[held] = _decided(facts, slug, catalogue.infos[place])
        rows[place] = row
    return rows


def _decided(facts: ManyFacts, slug: str, capability: CapabilityInfo) -> Effective:
    """The engine's answer for this capability, with until when it holds."""
    result = decide(
        facts.for_pair(slug, capability.id),
        capability,
        agent_slug=slug,
        capability_key=capability.key,
    )
    pair = (slug, capability.id)
    grants = facts.grants.get(pair, [])
    until = None
    if result.grant_id is not None:
        until = next(g.expires_at for g in grants if g.id == result.grant_id)
    elif result.exception_id is not None:
        exceptions = facts.exceptions.get(pair, [])
        until = next(e.expires_at for e in exceptions if e.id == result.exception_id)
    return Effective(
        capability=capability.key,
        high_risk=capability.high_risk,
        decision=result.decision,
        reason=result.reason,
        until=until,
        grant=result.grant_id,
        exception=result.exception_id,
        scoped=[ScopedGrant(g.id, g.scope, g.expires_at) for g in grants if g.scope],
    )
