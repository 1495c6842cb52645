"""Evidence collectors: one per shipped control, by ref_id. See base.py for the status rule.

A control without a collector here (one security added, or one whose records the portal
does not hold yet) is reported from uploaded evidence files alone, and says so.
"""

from compliance.collectors.access import HighRiskApproval, JustInTimeAccess
from compliance.collectors.activity import DriftReview, TrustBoundaryLogging
from compliance.collectors.base import Collector, Evidence, Status, Unavailable
from compliance.collectors.credentials import ShortLivedCredentials
from compliance.collectors.exceptions import ExceptionGovernance
from compliance.collectors.inventory import InventoryOwnership, PeriodicAttestation
from compliance.collectors.policy import CentralPolicyOwnership, TieredPosture, ToolAllowlists
from compliance.collectors.population import Sample

__all__ = ["COLLECTORS", "Collector", "Evidence", "Sample", "Status", "collector_for"]

COLLECTORS: dict[str, Collector] = {
    collector.ref_id: collector
    for collector in (
        CentralPolicyOwnership(),
        ToolAllowlists(),
        JustInTimeAccess(),
        HighRiskApproval(),
        TrustBoundaryLogging(),
        TieredPosture(),
        ExceptionGovernance(),
        InventoryOwnership(),
        PeriodicAttestation(),
        DriftReview(),
        ShortLivedCredentials(),
    )
}

NO_COLLECTOR = (
    "No automated collector for this control: its status rests on uploaded evidence files."
)


def collector_for(ref_id: str) -> Collector:
    return COLLECTORS.get(ref_id) or Unavailable(ref_id, NO_COLLECTOR)
