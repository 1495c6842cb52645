"""What a report says when its period reaches back past retention.

Raw decisions and activity older than their retention are dropped (decisions/retention.py).
A period starting before what is kept would otherwise read as a quiet one; instead the report,
each export and the evidence package say plainly what is gone and where the figures then come
from.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from compliance.period import Period
from decisions.partitions import LOGS
from decisions.retention import retained_since_each

LABELS = {"decisions": "decision records", "activity": "reported activity records"}


@dataclass(frozen=True)
class RetentionNotice:
    log: str  # "decisions" or "activity"
    retained_since: datetime  # the earliest instant whose raw records are kept
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "log": self.log,
            "retained_since": self.retained_since.isoformat(),
            "text": self.text,
        }


def retention_notices(period: Period) -> list[RetentionNotice]:
    """One notice per log whose kept raw records start after the period does (none else)."""
    notices = []
    kept = retained_since_each()  # one query, whatever the number of logs
    for name, log in LOGS.items():
        since = kept.get(name)
        if since is None or period.since >= since:
            continue
        notices.append(RetentionNotice(name, since, _text(name, since, period, log.retention_days)))
    return notices


def _text(name: str, since: datetime, period: Period, days: int) -> str:
    label = LABELS[name]
    gone = f"{since:%Y-%m-%d %H:%M} UTC"
    covered = (
        f"only {since:%Y-%m-%d} to {period.end:%Y-%m-%d}"
        if since < period.until
        else "none of this period"
    )
    return (
        f"This period starts before the raw {label} kept: those before {gone} are gone by "
        f"retention (kept {days} days). Counts for closed days come from the daily rollups "
        f"where they exist; samples and the record population (the records lists and CSVs) "
        f"cover {covered}."
    )
