"""Tables in templates: sortable column headers and time left with its urgency.

`{% load tables %}`, then in a list whose view put `sort` (kernel.sorting.Sort) in the
context: `{% sort_header "Agent" "agent" %}` renders the <th> with a link that sorts by that
column (the other direction when it is sorted by it already) and keeps the other query
parameters (filters) but the page number. `{% time_left grant.expires_at %}` says how long is
left and, under a day and under an hour, says so in words as well as in colour.
"""

from datetime import datetime, timedelta

from django import template
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timeuntil

from kernel.sorting import SORT_PARAM, Sort

register = template.Library()

# Time left under these is urgent (red), then soon (amber); the words say the same.
URGENT = timedelta(hours=1)
SOON = timedelta(hours=24)


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, label: str, column: str) -> SafeString:
    sort: Sort | None = context.get("sort")
    request: HttpRequest | None = context.get("request")
    if sort is None or request is None:
        return format_html('<th scope="col">{}</th>', label)
    params = request.GET.copy()
    params.pop("page", None)
    params[SORT_PARAM] = sort.toggled(column)
    if sort.column != column:
        return format_html(
            '<th scope="col"><a href="?{}" class="sort">{}'
            '<span class="visually-hidden"> (sort)</span></a></th>',
            params.urlencode(),
            label,
        )
    direction = "descending" if sort.descending else "ascending"
    return format_html(
        '<th scope="col" aria-sort="{}"><a href="?{}" class="sort sorted">{}'
        ' <span aria-hidden="true">{}</span><span class="visually-hidden"> (sorted {})</span>'
        "</a></th>",
        direction,
        params.urlencode(),
        label,
        "▼" if sort.descending else "▲",
        direction,
    )


def urgency(expires_at: datetime, now: datetime | None = None) -> str:
    """ "over", "urgent" (under URGENT left), "soon" (under SOON) or "later"."""
    left = expires_at - (now or timezone.now())
    if left <= timedelta(0):
        return "over"
    if left < URGENT:
        return "urgent"
    return "soon" if left < SOON else "later"


WORDS = {"urgent": "Under 1 hour:", "soon": "Under 24 hours:"}


@register.simple_tag
def time_left(expires_at: datetime | None, now: datetime | None = None) -> SafeString:
    """How long until `expires_at`, with its urgency in words and in a class for colour."""
    if expires_at is None:
        return format_html("{}", "—")
    now = now or timezone.now()
    level = urgency(expires_at, now)
    if level == "over":
        return format_html('<span class="time-left" data-urgency="over">{}</span>', "ended")
    words = WORDS.get(level)
    if words is None:
        return format_html(
            '<span class="time-left" data-urgency="later">{} left</span>',
            timeuntil(expires_at, now),
        )
    return format_html(
        '<span class="time-left {}" data-urgency="{}"><strong>{}</strong> {} left</span>',
        level,
        level,
        words,
        timeuntil(expires_at, now),
    )
