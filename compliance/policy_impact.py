"""What publishing a draft would do, before it is done: for security's review of a draft.

Three answers side by side: the decisions that would change (the decision log of the last N
days replayed against the draft: `decisions.replay`), every way the draft loosens the policy
in force (`registry.policy_rules.loosenings`: the warnings a publish must answer with a
reason), and how the policy controls AGC-02 and AGC-06 would judge the draft compared with
the published version (their collectors, run on the one version).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from compliance.collectors.policy import TieredPosture, ToolAllowlists
from decisions.replay import Replay, replay
from kernel.errors import ApplicationError
from registry.models import PolicyVersion
from registry.policy_rules import Loosening
from registry.selectors.policy import policy_latest_published, policy_loosenings

DEFAULT_DAYS = 30
MAX_DAYS = 400  # the decision log's default retention
CHANGES_SHOWN = 1000  # the summary counts every change; the API's list stops here
CHANGES_ON_PAGE = 200
POLICY_CONTROLS = (ToolAllowlists, TieredPosture)


@dataclass
class Impact:
    version: PolicyVersion
    published: PolicyVersion | None
    days: int
    replay: Replay
    warnings: list[Loosening]
    controls: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        changes = self.replay.changes
        return {
            "version": self.version.number,
            "published_version": self.published.number if self.published else None,
            "days": self.days,
            "since": self.replay.since,
            "replayed": self.replay.replayed,
            "summary": self.replay.summary,
            "changes": [change.as_dict() for change in changes[:CHANGES_SHOWN]],
            "changes_truncated": len(changes) > CHANGES_SHOWN,
            "controls": self.controls,
            "warnings": [warning.as_dict() for warning in self.warnings],
        }


def _control(collector, published: PolicyVersion | None, draft: PolicyVersion) -> dict[str, Any]:
    """The control's status on the published version and on the draft, and what failed."""
    judged: dict[str, Any] = {}
    for name, version in (("published", published), ("draft", draft)):
        versions = PolicyVersion.objects.filter(pk=version.pk if version else -1)
        evidence = collector().for_versions(versions)
        judged[name] = evidence.status.value
        judged[f"{name}_label"] = evidence.status.label
        judged[f"{name}_failed"] = [sample.label for sample in evidence.samples if sample.failed]
    return judged


def policy_impact(version: PolicyVersion, *, days: int = DEFAULT_DAYS) -> Impact:
    """The impact of publishing `version` (a draft) now, over the last `days` of decisions."""
    if version.is_published:
        raise ApplicationError(
            f"v{version.number} is published: the impact is shown for a draft.",
            code="not_a_draft",
        )
    if not 1 <= days <= MAX_DAYS:
        raise ApplicationError(f"days must be between 1 and {MAX_DAYS}.", field="days")
    published = policy_latest_published()
    now = timezone.now()
    replayed = replay(
        draft=version.number,
        published=published.number if published else None,
        since=now - timedelta(days=days),
        at=now,
    )
    controls = {
        collector.ref_id: _control(collector, published, version) for collector in POLICY_CONTROLS
    }
    return Impact(version, published, days, replayed, policy_loosenings(version), controls)


def review_section(draft: PolicyVersion, params: Mapping[str, str]) -> dict[str, Any]:
    """The impact on the draft's review page (registered in `registry.policy_review`);
    `?days=` picks the stretch of the decision log replayed."""
    try:
        days = int(params.get("days", DEFAULT_DAYS))
    except ValueError:
        raise ApplicationError("days must be a whole number of days.", field="days") from None
    impact = policy_impact(draft, days=days)
    return {
        "key": "impact",
        "title": f"Impact on decisions (the last {days} days) and on the policy controls",
        "template": "compliance/_policy_impact.html",
        "impact": impact,
        "changes": impact.replay.changes[:CHANGES_ON_PAGE],
        "day_choices": (7, 30, 90, 400),
    }
