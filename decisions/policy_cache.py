"""The published policy, held in memory by each process and swapped the moment it changes.

Every decision reads the current published version number in the same query that loads the
agent (see `decisions.services.engine`); when that number differs from the snapshot's, the
process reloads before answering. So a newly published version takes effect at once in every
gunicorn and Celery process, and the common path costs no query for the policy itself.
"""

import threading
from dataclasses import dataclass, field

from registry.models import Capability, PolicyRule, PolicyVersion


@dataclass(frozen=True)
class CapabilityInfo:
    id: int
    key: str
    high_risk: bool


@dataclass(frozen=True)
class RuleInfo:
    effect: str
    max_duration_hours: int | None


@dataclass(frozen=True)
class PolicySnapshot:
    version: int | None
    rules: dict[tuple[str, int], RuleInfo] = field(default_factory=dict)
    capabilities: dict[str, CapabilityInfo] = field(default_factory=dict)

    def rule(self, tier: str, capability_id: int) -> RuleInfo | None:
        return self.rules.get((tier, capability_id))


_lock = threading.Lock()
_snapshot: PolicySnapshot | None = None


def load(version_number: int | None) -> PolicySnapshot:
    """A version's rules (published or not), read now; not kept (see `snapshot_for`)."""
    capabilities = {
        key: CapabilityInfo(pk, key, high_risk)
        for pk, key, high_risk in Capability.objects.values_list("pk", "key", "high_risk")
    }
    rules: dict[tuple[str, int], RuleInfo] = {}
    if version_number is not None:
        version = PolicyVersion.objects.get(number=version_number)
        rules = {
            (tier, capability_id): RuleInfo(effect, hours)
            for tier, capability_id, effect, hours in PolicyRule.objects.filter(
                version=version
            ).values_list("tier", "capability_id", "effect", "max_duration_hours")
        }
    return PolicySnapshot(version_number, rules, capabilities)


def snapshot_for(version_number: int | None) -> PolicySnapshot:
    """The snapshot of this published version, loading it if the process holds another."""
    global _snapshot
    current = _snapshot
    if current is not None and current.version == version_number:
        return current
    with _lock:
        if _snapshot is None or _snapshot.version != version_number:
            _snapshot = load(version_number)
        return _snapshot


def current() -> PolicySnapshot:
    """The snapshot this process holds (loading the capabilities on first use)."""
    snapshot = _snapshot
    return snapshot if snapshot is not None else snapshot_for(None)


def capability_info(snapshot: PolicySnapshot, key: str) -> CapabilityInfo | None:
    """A capability by key; one created after the snapshot was taken is found in the database."""
    info = snapshot.capabilities.get(key)
    if info is not None:
        return info
    row = Capability.objects.filter(key=key).values_list("pk", "key", "high_risk").first()
    if row is None:
        return None
    info = CapabilityInfo(*row)
    snapshot.capabilities[key] = info  # capabilities are never deleted (PROTECT), safe to keep
    return info


def capability_infos(snapshot: PolicySnapshot, keys: set[str]) -> dict[str, CapabilityInfo]:
    """Many capabilities by key (a batch): those created since the snapshot in one query."""
    found = {key: snapshot.capabilities[key] for key in keys if key in snapshot.capabilities}
    missing = keys - found.keys()
    if missing:
        for row in Capability.objects.filter(key__in=missing).values_list("pk", "key", "high_risk"):
            info = CapabilityInfo(*row)
            snapshot.capabilities[info.key] = info
            found[info.key] = info
    return found


def clear() -> None:
    """Forget the snapshot (tests that rebuild the database between cases)."""
    global _snapshot
    with _lock:
        _snapshot = None
