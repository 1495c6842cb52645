"""Risk in templates: which risks are elevated, from the one definition (exceptions.limits)."""

from django import template

from exceptions.limits import ELEVATED_RISKS

register = template.Library()


@register.filter
def elevated_risk(risk: str) -> bool:
    """`{% if row.risk|elevated_risk %}`: high or critical (PolicyException.is_elevated_risk)."""
    return risk in ELEVATED_RISKS


@register.simple_tag
def elevated_risks() -> str:
    """The elevated risks, space-separated, for a data attribute read by a script."""
    return " ".join(ELEVATED_RISKS)
