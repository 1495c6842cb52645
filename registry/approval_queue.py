"""Sections of security's /approvals/ queue. Apps add providers by dotted path.

A provider takes the user and returns None or a dict with `key`, `title`, `template`
and `items`.
"""

from django.utils.module_loading import import_string

from portal.permissions import AnyUser
from registry.selectors.access import break_glass_awaiting_review, requests_awaiting

APPROVAL_QUEUE_PROVIDERS: list[str] = [
    "registry.approval_queue.access_requests_section",
    "registry.approval_queue.break_glass_section",
    "exceptions.approvals.approval_queue_section",
]


def access_requests_section(user: AnyUser) -> dict:
    return {
        "key": "access-requests",
        "title": "Access requests awaiting approval",
        "template": "registry/requests/_queue.html",
        "items": list(requests_awaiting(user)),
    }


def break_glass_section(user: AnyUser) -> dict:
    return {
        "key": "break-glass",
        "title": "Break-glass access to review",
        "template": "registry/requests/_break_glass_queue.html",
        "items": list(break_glass_awaiting_review(user)),
    }


def queue_for(user: AnyUser) -> list[dict]:
    sections = []
    for path in APPROVAL_QUEUE_PROVIDERS:
        section = import_string(path)(user)
        if section is not None:
            sections.append(section)
    return sections
