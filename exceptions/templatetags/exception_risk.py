"""Risk in templates: which risks are elevated, from the one definition (exceptions.limits)."""

from django import template

from exceptions.limits import ELEVATED_RISKS

register = template.Library()


@register.simple_tag
def elevated_risks() -> str:
    """The elevated risks, space-separated, for a data attribute read by a script."""
    return " ".join(ELEVATED_RISKS)
