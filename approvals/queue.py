"""Sections of security's /approvals/ queue. Workflow apps register a provider.

A provider takes the user and returns None or a dict with `key`, `title`, `template`
and `items`. Access and exceptions register theirs in their `AppConfig.ready()`.
"""

from django.urls import reverse

from kernel.dashboard import attention
from kernel.permissions import AnyUser
from kernel.sections import Sections

queue_sections: Sections[[AnyUser]] = Sections()
register_queue_section = queue_sections.register
queue_for = queue_sections.collect


def waiting_in_queue(key: str, title: str, count: int, section: str, *, rank: int) -> dict:
    """A dashboard item of security's "needs my attention": `count` things waiting for them,
    linking to their `section` of the approvals queue."""
    return attention(key, title, count, reverse("approvals:queue") + f"#{section}", rank=rank)


def awaiting_approval_section(
    *,
    key: str,
    title: str,
    items: list,
    noun: str,
    columns: list[str],
    cells_template: str,
    approve_url: str,
    refuse_url: str,
    refuse_label: str,
    empty: str,
    with_context: bool = False,
) -> dict:
    """A section of subjects awaiting approval, rendered by approvals/_queue_section.html.

    Each row is `data-<noun>="<pk>"`, a link, the workflow's own cells (`cells_template`,
    one <td> per heading in `columns`), "approvals / required", and the Approve and refuse
    forms (URL names taking the pk), which return to the queue.

    `with_context`: the subjects carry `approver_rule` (why that many approvers) and their
    approvals with the approver loaded; the row names who approved already, and a column shows
    what approvals.context providers say about the subject's agent (the queue view attaches
    it, once for every section).
    """
    return {
        "key": key,
        "title": title,
        "template": "approvals/_queue_section.html",
        "items": items,
        "noun": noun,
        "columns": columns,
        "cells_template": cells_template,
        "approve_url": approve_url,
        "refuse_url": refuse_url,
        "refuse_label": refuse_label,
        "empty": empty,
        "with_context": with_context,
    }
