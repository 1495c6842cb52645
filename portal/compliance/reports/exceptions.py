"""Exceptions in force per control, read through `PolicyException.controls` (exceptions app).

The exceptions app owns that many-to-many to `compliance.Control`; until it exists the report
says that exceptions are not recorded, and no control can be `excepted`.
"""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

from portal.compliance.collectors import Sample
from portal.compliance.models import Control
from portal.compliance.period import Period


def exception_model():
    """PolicyException, if the exceptions app has it and it names controls; else None."""
    try:
        model = apps.get_model("exceptions", "PolicyException")
    except LookupError:
        return None
    try:
        model._meta.get_field("controls")
    except FieldDoesNotExist:
        return None
    return model


def exceptions_recorded() -> bool:
    return exception_model() is not None


def exceptions_in_force(controls: list[Control], period: Period) -> dict[int, list[Sample]]:
    """Per control id: approved exceptions naming it that were in force during the period."""
    return {}
