"""The templates' one role question: `{% load permissions %}` then `{% if user|can:"approve" %}`.

Rules about a particular object (may approve THIS request) are computed once by the app's
`permissions.py` in the view and passed in; templates never restate a role rule.
"""

from django import template

from kernel.permissions import Action, AnyUser
from kernel.permissions import can as user_can

register = template.Library()


@register.filter
def can(user: AnyUser, action: str) -> bool:
    """Whether the user may take the action (its `Action` value); an unknown name is an error."""
    return user_can(user, Action(action))
