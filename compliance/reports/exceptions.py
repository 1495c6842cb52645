"""Exceptions in force per control.

An exception names the controls it deviates from (`PolicyException.controls`, chosen on the
exception form). One that names none deviates from the controls that govern its capability
(`controls.selectors.CAPABILITY_CONTROLS`: AGC-02 and AGC-03, and `HIGH_RISK_CONTROLS`,
AGC-04, when the capability is high risk). Each control gets at most a few samples, in a
constant number of queries.
"""

from collections import defaultdict

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from compliance.collectors import Sample
from compliance.collectors.base import SAMPLE_SIZE
from compliance.collectors.exceptions import exception_url, exceptions_in_force_during
from compliance.period import Period
from controls.models import Control
from controls.selectors import CAPABILITY_CONTROLS, HIGH_RISK_CONTROLS

FIELDS = ("pk", "title", "risk", "agent__slug", "capability__key", "starts_at", "expires_at")


def _sample(row: tuple) -> Sample:
    pk, title, risk, agent, capability, starts, expires = row
    return Sample(
        kind="exception",
        id=str(pk),
        label=f"exception #{pk} {title} ({risk}; {agent}"
        + (f" {capability}" if capability else "")
        + f"; {starts:%Y-%m-%d} to {expires:%Y-%m-%d})",
        url=exception_url(pk),
    )


def _latest(exceptions: QuerySet) -> list[Sample]:
    return [
        _sample(row)
        for row in exceptions.order_by("-starts_at", "-pk").values_list(*FIELDS)[:SAMPLE_SIZE]
    ]


def exceptions_in_force(controls: list[Control], period: Period) -> dict[int, list[Sample]]:
    """Per control id: the latest approved exceptions in force during the period naming it."""
    if not controls:
        return {}
    in_force = exceptions_in_force_during(period)
    found: dict[int, list[Sample]] = defaultdict(list)
    by_ref = {control.ref_id: control.pk for control in controls}
    ranked = (
        in_force.filter(controls__in=controls)
        .annotate(
            named=F("controls"),
            rank=Window(
                RowNumber(),
                partition_by=[F("controls")],
                order_by=[F("starts_at").desc(), F("pk").desc()],
            ),
        )
        .filter(rank__lte=SAMPLE_SIZE)
        .values_list("named", *FIELDS)
    )
    for control_id, *row in ranked:
        found[control_id].append(_sample(tuple(row)))
    in_force = in_force.filter(controls__isnull=True)
    # Exceptions naming no control deviate from those governing their capability.
    by_capability = _latest(in_force.filter(capability__isnull=False))
    high_risk = _latest(in_force.filter(capability__high_risk=True))
    for ref in CAPABILITY_CONTROLS:
        if ref in by_ref:
            found[by_ref[ref]] = (found[by_ref[ref]] + by_capability)[:SAMPLE_SIZE]
    for ref in HIGH_RISK_CONTROLS:
        if ref in by_ref:
            found[by_ref[ref]] = (found[by_ref[ref]] + high_risk)[:SAMPLE_SIZE]
    return dict(found)
